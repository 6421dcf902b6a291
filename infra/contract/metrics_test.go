package contract

import (
	"bufio"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/metrics"
)

// emittedSets reads EMF lines into metric name → the dimension sets
// CloudWatch will create for it, each as sorted names joined with ",".
func emittedSets(t *testing.T, out string) map[string][]string {
	t.Helper()
	sets := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		for _, cw := range line.AWS.CloudWatchMetrics {
			if cw.Namespace != metrics.Namespace {
				t.Errorf("EMF line in namespace %q", cw.Namespace)
			}
			for _, mt := range cw.Metrics {
				for _, d := range cw.Dimensions {
					d = slices.Clone(d)
					sort.Strings(d)
					key := strings.Join(d, ",")
					if !slices.Contains(sets[mt.Name], key) {
						sets[mt.Name] = append(sets[mt.Name], key)
					}
				}
			}
		}
	}
	return sets
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the code in the newest local message to an address.
func (l *localAPI) lastCode(to string) string {
	l.t.Helper()
	msgs := l.app.Outbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to {
			if c := sixDigits.FindString(msgs[i].Body); c != "" {
				return c
			}
		}
	}
	l.t.Fatalf("no code was sent to %s", to)
	return ""
}

func (l *localAPI) expect(status int, got int, body []byte) {
	l.t.Helper()
	if got != status {
		l.t.Fatalf("status %d, want %d: %s", got, status, body)
	}
}

func (l *localAPI) verificationID(body []byte) string {
	l.t.Helper()
	var v struct {
		ID string `json:"verification_id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
		l.t.Fatalf("no verification_id in %s", body)
	}
	return v.ID
}

// TestAlarmsReadEmittedDimensions runs the service's flows in process
// (bind, wrong code, limit, change, unbind, tickets, a failed SMS, a
// failed e-mail, a number locked by strangers' wrong codes with its owner
// spared, a number range past half its cap) and checks that every custom metric an alarm or the
// dashboard reads is emitted with exactly the dimension names it selects:
// a CloudWatch metric is its name and its whole dimension set, so an alarm
// naming one dimension too many or too few watches a metric that never
// gets data, and never fires.
func TestAlarmsReadEmittedDimensions(t *testing.T) {
	emf := &testenv.Buffer{}
	clk := testenv.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	withMetrics := func(o *core.Options) { o.Metrics, o.Clock = emf, clk.Now }

	// Everything that succeeds, on the in-memory store and the outbox.
	ok := startLocal(t, map[string]string{"CHANGE_COOLDOWN": "0s"}, withMetrics)
	const first, second = "+79123456789", "+79161234567"
	status, body := ok.do("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+first+`","consent":true}`)
	ok.expect(202, status, body)
	id := ok.verificationID(body)
	status, body = ok.do("alice", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, wrongCode(ok.lastCode(first))))
	ok.expect(422, status, body)
	status, body = ok.do("alice", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, ok.lastCode(first)))
	ok.expect(200, status, body)
	status, body = ok.do("alice", "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`)
	ok.expect(429, status, body) // the resend cooldown
	clk.Advance(2 * time.Minute)
	status, body = ok.do("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+second+`","consent":true}`)
	ok.expect(202, status, body)
	status, body = ok.do("alice", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, ok.verificationID(body), ok.lastCode(second)))
	ok.expect(200, status, body) // a change
	clk.Advance(2 * time.Minute)
	status, body = ok.do("alice", "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`)
	ok.expect(202, status, body)
	status, body = ok.do("alice", "POST", "/v1/phone/unbind", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, ok.verificationID(body), ok.lastCode(second)))
	ok.expect(200, status, body)
	status, body = ok.do("alice", "GET", "/v1/phone", "")
	ok.expect(200, status, body)
	status, body = ok.do("alice", "POST", "/v1/feedback", `{"category":"question","message":"Можно ли привязать номер Казахстана?"}`)
	ok.expect(201, status, body)

	// A send that fails: SMS through an SNS endpoint nobody listens on.
	sms := startLocal(t, map[string]string{"SNS_ENDPOINT": "http://127.0.0.1:1", "AWS_REGION": "us-east-1"}, withMetrics)
	status, body = sms.do("bob", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+first+`","consent":true}`)
	sms.expect(503, status, body)

	// And an e-mail that fails, for a number bound through the outbox.
	mail := startLocal(t, map[string]string{"SES_ENDPOINT": "http://127.0.0.1:1", "EMAIL_FROM": "no-reply@phonebind.test", "AWS_REGION": "us-east-1"}, withMetrics)
	status, body = mail.do("carol", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+first+`","consent":true}`)
	mail.expect(202, status, body)
	status, body = mail.do("carol", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, mail.verificationID(body), mail.lastCode(first)))
	mail.expect(200, status, body)
	clk.Advance(2 * time.Minute)
	status, body = mail.do("carol", "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"email"}`)
	mail.expect(503, status, body)

	// A number strangers entered wrong codes for (MAX_FAILURES_DAY of 2),
	// in a range with a cap of 4 codes a day: the second code to the range
	// is half its cap; a third stranger is refused for the number's wrong
	// codes; its owner still gets an unbind code.
	lock := startLocal(t, map[string]string{"MAX_FAILURES_DAY": "2", "CODES_PER_PREFIX_DAY": "4"}, withMetrics)
	status, body = lock.do("dave", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+first+`","consent":true}`)
	lock.expect(202, status, body)
	status, body = lock.do("dave", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, lock.verificationID(body), lock.lastCode(first)))
	lock.expect(200, status, body)
	for _, stranger := range []string{"eve", "frank"} {
		status, body = lock.do(stranger, "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+first+`","consent":true}`)
		lock.expect(202, status, body)
		status, body = lock.do(stranger, "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, lock.verificationID(body), wrongCode(lock.lastCode(first))))
		lock.expect(422, status, body)
	}
	status, body = lock.do("gina", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+first+`","consent":true}`)
	lock.expect(429, status, body)
	clk.Advance(2 * time.Minute)
	status, body = lock.do("dave", "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`)
	lock.expect(202, status, body)

	emitted := emittedSets(t, emf.String())
	for _, ref := range referencedCustomMetrics(t, resources(t), loadDashboard(t)) {
		sets, seen := emitted[ref.metric]
		if !seen {
			// Every metric is also emitted with [Service] alone, so that
			// set needs no run to prove it; any other must be seen.
			if !ref.exact || !slices.Equal(ref.dims, []string{"Service"}) {
				t.Errorf("%s reads %s%v, which these flows never emitted", ref.where, ref.metric, ref.dims)
			}
			continue
		}
		want := strings.Join(ref.dims, ",")
		found := false
		for _, s := range sets {
			if ref.exact && s == want || !ref.exact && containsAll(strings.Split(s, ","), ref.dims) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s reads %s with dimensions [%s]; the service emits it with %v", ref.where, ref.metric, want, sets)
		}
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// loadDashboard is the parsed dashboard body.
func loadDashboard(t *testing.T) map[string]any {
	t.Helper()
	body, _ := dashboard(t, resources(t))
	return body
}
