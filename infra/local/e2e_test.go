package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gosuslugi/phonebind/infra/local/runner"
	"github.com/gosuslugi/phonebind/shared/notify/notifytest"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// The end-to-end suite drives the local runner over real HTTP, with the
// handlers the Lambda functions run, on DynamoDB Local and moto's SNS.

type e2e struct {
	t     *testing.T
	url   string
	clock *testenv.Clock
	logs  *testenv.Buffer
	moto  string
	db    *dynamodb.Client
	table string
	srv   *server
}

// newE2EWithEvents is newE2E with the events topic a subscriber reads
// (a new one in moto), and extra settings besides.
func newE2EWithEvents(t *testing.T, extra map[string]string) (*e2e, *notifytest.Topic) {
	t.Helper()
	topic := notifytest.NewTopic(t, testenv.MotoEndpoint(t))
	env := map[string]string{"EVENTS_TOPIC_ARN": topic.ARN}
	maps.Copy(env, extra)
	return newE2E(t, env), topic
}

// newE2E starts the local API on a fresh DynamoDB Local table with SMS
// through moto. extra sets further variables, as `VAR=… make run` would.
func newE2E(t *testing.T, extra map[string]string) *e2e {
	t.Helper()
	db := dynamotest.Client(t)
	moto := testenv.MotoEndpoint(t)
	table := dynamotest.Table(t, db)
	env := map[string]string{
		"DYNAMODB_ENDPOINT": dynamotest.Endpoint(t),
		"SNS_ENDPOINT":      moto,
		"TABLE_NAME":        table,
		"AWS_REGION":        "us-east-1",
		"LOCAL_JWT_SECRET":  "e2e-secret",
	}
	for k, v := range extra {
		env[k] = v
	}
	return startE2E(t, env, db, moto, table)
}

func startE2E(t *testing.T, env map[string]string, db *dynamodb.Client, moto, table string) *e2e {
	t.Helper()
	// A minute into the current hour: tests that move the clock stay inside
	// one fixed hourly window, whatever the time of day they run at.
	e := &e2e{t: t, clock: testenv.NewClock(time.Now().UTC().Truncate(time.Hour).Add(time.Minute)), logs: &testenv.Buffer{}, moto: moto, db: db, table: table}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := newServer(context.Background(), func(k string) string { return env[k] }, io.Discard, logger, e.clock.Now)
	if err != nil {
		t.Fatalf("start local API: %v", err)
	}
	e.srv = srv
	hs := httptest.NewServer(srv.handler)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r response) num(key string) int {
	f, _ := r.body[key].(float64)
	return int(f)
}

func (e *e2e) token(sub string) string {
	e.t.Helper()
	tok, err := runner.SignHS256([]byte("e2e-secret"), map[string]any{"sub": sub, "email": sub + "@example.org", "email_verified": true,
		"amr": []string{"pwd", "mfa"}, "auth_time": e.clock.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// call sends one request as account sub ("" sends no token).
func (e *e2e) call(sub, method, path, body string, headers ...string) response {
	e.t.Helper()
	req := e.request(method, path, body)
	if sub != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(sub))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(req)
}

// request is a request to the runner, its body (if any) sent as JSON.
func (e *e2e) request(method, path, body string) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send sends req and reads the answer, its body decoded when it is JSON.
func (e *e2e) send(req *http.Request) response {
	e.t.Helper()
	a := testenv.Do(e.t, req)
	r := response{status: a.Status, header: a.Header, raw: string(a.Body)}
	_ = json.Unmarshal(a.Body, &r.body)
	return r
}

func (e *e2e) requestCode(sub, phone string) response {
	e.t.Helper()
	return e.call(sub, "POST", "/v1/phone/verification", fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, phone))
}

func (e *e2e) confirm(sub, id, code string) response {
	e.t.Helper()
	return e.call(sub, "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, code))
}

func (e *e2e) status(sub string) response {
	e.t.Helper()
	return e.call(sub, "GET", "/v1/phone", "")
}

func expect(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if code != "" {
		if got := r.str("code"); got != code {
			t.Fatalf("code %q, want %q: %s", got, code, r.raw)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("error Content-Type %q", ct)
		}
	}
}

// sms reads every SMS moto's SNS accepted for a number, oldest first.
func (e *e2e) sms(number string) []string {
	e.t.Helper()
	return e.smsByNumber()[number]
}

// smsByNumber reads every SMS moto's SNS accepted, by number, in one read
// of moto's state (which every test adds to).
func (e *e2e) smsByNumber() map[string][]string {
	e.t.Helper()
	return testenv.MotoState(e.t, e.moto).SMSByNumber()
}

// emails reads every e-mail moto's SES accepted for an address.
func (e *e2e) emails(address string) []testenv.Email {
	e.t.Helper()
	return testenv.MotoState(e.t, e.moto).EmailsTo(address)
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// code is the code in the newest SMS to a number.
func (e *e2e) code(number string) string {
	e.t.Helper()
	msgs := e.sms(number)
	for i := len(msgs) - 1; i >= 0; i-- {
		if c := codeRE.FindString(msgs[i]); c != "" {
			return c
		}
	}
	e.t.Fatalf("no code was sent to %s", number)
	return ""
}

// uniqueNumber is a Russian mobile number no other test in this run uses,
// so SMS read back from the shared moto belong to this test.
var numberSeq atomic.Int64

// uniqueNumber is a number no other call in this test process returns: a
// random start (so runs sharing a table rarely meet), then steps of 7919,
// which is prime to 10^7, so 10^7 calls never repeat one, and which spreads
// them over number ranges (the per-range cap). A clock-derived number was
// not unique: over a 5-minute soak two scenarios drew the same number and
// one was told phone_taken, rightly.
func uniqueNumber() string {
	n := (numberBase + numberSeq.Add(7919)) % 10_000_000
	return fmt.Sprintf("+7916%07d", n)
}

var numberBase = rand.Int64N(10_000_000)

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// bind saves number to sub through the two calls and returns the status.
// codeSent asks for a bind code to number (202) and returns the
// verification id and the code the SMS brought.
func (e *e2e) codeSent(sub, number string) (id, code string) {
	e.t.Helper()
	r := e.requestCode(sub, number)
	expect(e.t, r, 202, "")
	return r.str("verification_id"), e.code(number)
}

func (e *e2e) bind(sub, number string) response {
	e.t.Helper()
	id, code := e.codeSent(sub, number)
	st := e.confirm(sub, id, code)
	expect(e.t, st, 200, "")
	return st
}

func TestE2EBindFromWhatPeopleType(t *testing.T) {
	e := newE2E(t, nil)
	// A number of this test's own, typed as people type it: moto's SMS
	// list is shared by every package testing at the same time, and a
	// fixed number's newest code may be another test's.
	num := uniqueNumber() // +7916XXXXXXX
	typed := "8 (916) " + num[5:8] + "-" + num[8:10] + "-" + num[10:]
	masked := "+7 916 ***-**-" + num[10:]
	r := e.requestCode("alice", typed)
	expect(t, r, 202, "")
	if r.str("destination") != masked || r.str("channel") != "sms" || r.str("purpose") != "bind" || r.num("attempts_left") != 5 {
		t.Fatalf("request-code body: %s", r.raw)
	}
	for _, k := range []string{"verification_id", "expires_at", "resend_after"} {
		if r.str(k) == "" {
			t.Fatalf("request-code body lacks %s: %s", k, r.raw)
		}
	}
	msgs := e.sms(num)
	if len(msgs) == 0 || !strings.HasPrefix(msgs[len(msgs)-1], "Код подтверждения: ") {
		t.Fatalf("SMS in moto: %q", msgs)
	}
	st := e.status("alice")
	expect(t, st, 200, "")
	if st.str("status") != "pending" || st.str("status_text") != "Ожидание подтверждения" {
		t.Fatalf("status while pending: %s", st.raw)
	}
	done := e.confirm("alice", r.str("verification_id"), e.code(num))
	expect(t, done, 200, "")
	if done.str("status") != "verified" || done.str("status_text") != "Номер сохранён" || done.str("phone") != masked ||
		done.str("verified_at") == "" || done.str("change_allowed_after") == "" {
		t.Fatalf("status after confirm: %s", done.raw)
	}
	consent, _ := done.body["consent"].(map[string]any)
	if consent["version"] == "" || consent["given_at"] == "" {
		t.Fatalf("consent not recorded: %s", done.raw)
	}
	history, _ := done.body["history"].([]any)
	if len(history) != 1 || history[0].(map[string]any)["event"] != "bound" {
		t.Fatalf("history: %s", done.raw)
	}
	if got := e.status("alice"); got.str("status") != "verified" {
		t.Fatalf("status: %s", got.raw)
	}
	if none := e.status("bob"); none.str("status") != "none" || none.str("status_text") != "Номер не привязан" {
		t.Fatalf("status of an account with nothing: %s", none.raw)
	}
}

func TestE2EInvalidPhones(t *testing.T) {
	e := newE2E(t, nil)
	cases := []struct{ phone, reason string }{
		{"", "empty"},
		{"  ", "empty"},
		{"+7 912 ABC-67-89", "invalid_characters"},
		{"+7 ٩١٢ ٣٤٥ ٦٧ ٨٩", "invalid_characters"},
		{"+7 912 345", "invalid_length"},
		{"+7 912 345 67 89 00", "invalid_length"},
		{"+7 000 000-00-00", "invalid_number"},
		{"+44 7400 123456", "region_not_allowed"},
		{"+7 701 234 56 78", "region_not_allowed"},
		{"+7 495 123-45-67", "not_mobile"},
	}
	for _, c := range cases {
		r := e.requestCode("alice", c.phone)
		expect(t, r, 422, "invalid_phone")
		if r.str("reason") != c.reason {
			t.Errorf("%q: reason %q, want %q", c.phone, r.str("reason"), c.reason)
		}
	}
	if st := e.status("alice"); st.body["request"] != nil {
		t.Fatalf("refused numbers left a request: %s", st.raw)
	}
}

func TestE2EBadRequests(t *testing.T) {
	e := newE2E(t, nil)
	num := uniqueNumber()
	expect(t, e.call("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+num+`","consent":false}`), 422, "consent_required")
	expect(t, e.call("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+num+`"}`), 422, "consent_required")
	expect(t, e.call("alice", "POST", "/v1/phone/verification", `{"purpose":"bind",`), 400, "invalid_json")
	expect(t, e.call("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+num+`","consent":true,"admin":true}`), 400, "invalid_request")
	expect(t, e.call("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":79123456789,"consent":true}`), 400, "invalid_request")
	big := `{"purpose":"bind","phone":"` + strings.Repeat("1", 20*1024) + `","consent":true}`
	expect(t, e.call("alice", "POST", "/v1/phone/verification", big), 413, "payload_too_large")
	expect(t, e.call("", "GET", "/v1/phone", ""), 401, "unauthorized")
	expect(t, e.call("alice", "POST", "/v1/phone/verification/confirm", `{"verification_id":"nope","code":"123456"}`), 404, "verification_not_found")

	en := e.call("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+7 495 123-45-67","consent":true}`, "Accept-Language", "en-US,en;q=0.9")
	ru := e.call("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+7 495 123-45-67","consent":true}`)
	if en.str("detail") == ru.str("detail") || !regexp.MustCompile(`[а-яА-Я]`).MatchString(ru.str("detail")) || regexp.MustCompile(`[а-яА-Я]`).MatchString(en.str("detail")) {
		t.Fatalf("detail not localised: ru %q, en %q", ru.str("detail"), en.str("detail"))
	}
	if st := e.status("alice"); st.body["request"] != nil {
		t.Fatalf("bad requests left state behind: %s", st.raw)
	}
	if n := len(e.sms(num)); n != 0 {
		t.Fatalf("bad requests sent %d SMS", n)
	}
}

func TestE2EWrongCodesExpiryAndSingleUse(t *testing.T) {
	e := newE2E(t, nil)
	num := uniqueNumber()
	id, right := e.codeSent("alice", num)
	for left := 4; left >= 0; left-- {
		bad := e.confirm("alice", id, wrong(right))
		expect(t, bad, 422, "code_invalid")
		if bad.num("attempts_left") != left {
			t.Fatalf("attempts_left %d, want %d", bad.num("attempts_left"), left)
		}
	}
	expect(t, e.confirm("alice", id, right), 410, "code_attempts_exceeded")

	// Expiry, checked in code whatever DynamoDB's TTL does.
	e.clock.Advance(time.Minute)
	id, right = e.codeSent("alice", num)
	e.clock.Advance(5*time.Minute + time.Second)
	expect(t, e.confirm("alice", id, right), 410, "code_expired")
	st := e.status("alice")
	if req, _ := st.body["request"].(map[string]any); req["state"] != "rejected" || req["reason"] != "expired" {
		t.Fatalf("status after expiry: %s", st.raw)
	}

	// Single use.
	id, right = e.codeSent("alice", num)
	expect(t, e.confirm("alice", id, right), 200, "")
	expect(t, e.confirm("alice", id, right), 404, "verification_not_found")
}

func TestE2ESupersedeCooldownAndForeignID(t *testing.T) {
	e := newE2E(t, nil)
	num := uniqueNumber()
	firstID, oldCode := e.codeSent("alice", num)

	e.clock.Advance(20 * time.Second)
	again := e.requestCode("alice", num)
	expect(t, again, 429, "rate_limited")
	if again.header.Get("Retry-After") != "40" || again.num("retry_after") != 40 {
		t.Fatalf("cooldown Retry-After %q / %d, want 40: %s", again.header.Get("Retry-After"), again.num("retry_after"), again.raw)
	}

	// Another account cannot use alice's verification id, even with the code.
	expect(t, e.confirm("mallory", firstID, oldCode), 404, "verification_not_found")

	e.clock.Advance(40 * time.Second)
	secondID, newCode := e.codeSent("alice", num)
	expect(t, e.confirm("alice", firstID, oldCode), 404, "verification_not_found")
	expect(t, e.confirm("alice", secondID, newCode), 200, "")
}

func TestE2ELimits(t *testing.T) {
	t.Run("per account per hour", func(t *testing.T) {
		e := newE2E(t, map[string]string{"RESEND_COOLDOWN": "0s"})
		for i := 0; i < 5; i++ {
			expect(t, e.requestCode("alice", uniqueNumber()), 202, "")
		}
		r := e.requestCode("alice", uniqueNumber())
		expect(t, r, 429, "rate_limited")
		if r.str("limit") != "account_hour" || r.header.Get("Retry-After") == "" {
			t.Fatalf("sixth code: %s", r.raw)
		}
	})
	t.Run("per number per day", func(t *testing.T) {
		e := newE2E(t, map[string]string{"CODES_PER_PHONE_DAY": "3"})
		num := uniqueNumber()
		for i := 0; i < 3; i++ {
			expect(t, e.requestCode(fmt.Sprintf("acct-%d", i), num), 202, "")
		}
		r := e.requestCode("acct-x", num)
		expect(t, r, 429, "rate_limited")
		if r.str("limit") != "phone_day" {
			t.Fatalf("fourth code to a number: %s", r.raw)
		}
		if n := len(e.sms(num)); n != 3 {
			t.Fatalf("%d SMS went to the number, want 3", n)
		}
	})
	t.Run("per source IP per hour", func(t *testing.T) {
		e := newE2E(t, map[string]string{"CODES_PER_IP_HOUR": "3"})
		for i := 0; i < 3; i++ {
			expect(t, e.requestCode(fmt.Sprintf("ip-%d", i), uniqueNumber()), 202, "")
		}
		r := e.requestCode("ip-x", uniqueNumber())
		expect(t, r, 429, "rate_limited")
		if r.str("limit") != "ip_hour" {
			t.Fatalf("fourth code from one IP: %s", r.raw)
		}
	})
}

func TestE2ETakenSameAndTooSoon(t *testing.T) {
	e := newE2E(t, nil)
	num := uniqueNumber()
	e.bind("holder", num)
	// Inside CHANGE_COOLDOWN the bound number answers like any other, so a
	// session holder cannot find which number is bound by trying them.
	same := e.requestCode("holder", num)
	soon := e.requestCode("holder", uniqueNumber())
	expect(t, same, 409, "change_too_soon")
	expect(t, soon, 409, "change_too_soon")
	if soon.str("change_allowed_after") == "" || same.raw != soon.raw {
		t.Fatalf("the bound number answers differently inside the cooldown: %s vs %s", same.raw, soon.raw)
	}
	// Once a change is allowed, the same number is same_phone.
	e2 := newE2E(t, map[string]string{"CHANGE_COOLDOWN": "0s"})
	e2.bind("holder", num)
	expect(t, e2.requestCode("holder", num), 409, "same_phone")

	free := e.requestCode("newcomer", uniqueNumber())
	taken := e.requestCode("intruder", num)
	expect(t, taken, 202, "")
	if keys(free.body) != keys(taken.body) {
		t.Fatalf("a taken number answers differently: %s vs %s", free.raw, taken.raw)
	}
	right := e.code(num)
	expect(t, e.confirm("intruder", taken.str("verification_id"), wrong(right)), 422, "code_invalid")
	expect(t, e.confirm("intruder", taken.str("verification_id"), right), 409, "phone_taken")
	if st := e.status("holder"); st.str("status") != "verified" {
		t.Fatalf("holder lost the number: %s", st.raw)
	}
	st := e.status("intruder")
	if req, _ := st.body["request"].(map[string]any); st.str("status") != "none" || req["reason"] != "phone_taken" {
		t.Fatalf("intruder status: %s", st.raw)
	}
}

func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestE2EChangeAlertsAndReleases(t *testing.T) {
	e := newE2E(t, nil)
	oldNum, newNum := uniqueNumber(), uniqueNumber()
	e.bind("alice", oldNum)
	e.clock.Advance(31 * 24 * time.Hour)
	r := e.requestCode("alice", newNum)
	expect(t, r, 202, "")
	if msgs := e.sms(oldNum); len(msgs) != 2 || !strings.Contains(msgs[1], "смена номера") {
		t.Fatalf("old number not alerted of the request: %q", msgs)
	}
	if st := e.status("alice"); !strings.HasSuffix(st.str("phone"), oldNum[len(oldNum)-2:]) {
		t.Fatalf("old number must stay bound until the new one is confirmed: %s", st.raw)
	}
	st := e.confirm("alice", r.str("verification_id"), e.code(newNum))
	expect(t, st, 200, "")
	history, _ := st.body["history"].([]any)
	if len(history) != 2 || history[0].(map[string]any)["event"] != "changed" || history[1].(map[string]any)["event"] != "bound" {
		t.Fatalf("history after change: %s", st.raw)
	}
	if msgs := e.sms(oldNum); len(msgs) != 3 || !strings.Contains(msgs[2], "изменён") {
		t.Fatalf("old number not told the change is done: %q", msgs)
	}
	// Released: someone else can bind the old number right away.
	e.bind("bob", oldNum)
}

func TestE2ERaces(t *testing.T) {
	t.Run("20 confirms of the right code give one 200", func(t *testing.T) {
		e := newE2E(t, nil)
		num := uniqueNumber()
		r := e.requestCode("alice", num)
		code := e.code(num)
		statuses := parallel(20, func(int) int { return e.confirm("alice", r.str("verification_id"), code).status })
		if statuses[200] != 1 {
			t.Fatalf("statuses %v, want exactly one 200", statuses)
		}
		if statuses[500] != 0 {
			t.Fatalf("statuses %v include a 500", statuses)
		}
	})
	t.Run("40 wrong guesses get at most 5 evaluations", func(t *testing.T) {
		e := newE2E(t, nil)
		num := uniqueNumber()
		r := e.requestCode("alice", num)
		right := e.code(num)
		statuses := parallel(40, func(int) int { return e.confirm("alice", r.str("verification_id"), wrong(right)).status })
		if statuses[422] > 5 || statuses[422]+statuses[410] != 40 {
			t.Fatalf("statuses %v: more than 5 evaluations or unexpected answers", statuses)
		}
		expect(t, e.confirm("alice", r.str("verification_id"), right), 410, "code_attempts_exceeded")
	})
	t.Run("two accounts confirming one number", func(t *testing.T) {
		e := newE2E(t, nil)
		num := uniqueNumber()
		a := e.requestCode("anna", num)
		codeA := e.code(num)
		b := e.requestCode("boris", num)
		codeB := e.code(num)
		reqs := []struct{ sub, id, code string }{{"anna", a.str("verification_id"), codeA}, {"boris", b.str("verification_id"), codeB}}
		statuses := parallel(2, func(i int) int { return e.confirm(reqs[i].sub, reqs[i].id, reqs[i].code).status })
		if statuses[200] != 1 || statuses[409] != 1 {
			t.Fatalf("statuses %v, want one 200 and one 409", statuses)
		}
		if claims := e.scanClaims(); claims != 1 {
			t.Fatalf("the table holds %d claims, want exactly 1", claims)
		}
	})
}

// parallel runs f n times at once and counts the statuses.
func parallel(n int, f func(i int) int) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s := f(i)
			mu.Lock()
			counts[s]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

// scanItems reads the whole table as an operator's console would.
func (e *e2e) scanItems() []map[string]any {
	e.t.Helper()
	var out []map[string]any
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: boolPtr(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		for _, item := range page.Items {
			m := map[string]any{}
			for k, v := range item {
				m[k] = fmt.Sprint(v)
			}
			b, _ := json.Marshal(item)
			m["_raw"] = string(b)
			out = append(out, m)
		}
	}
	return out
}

func boolPtr(b bool) *bool { return &b }

func (e *e2e) scanClaims() int {
	n := 0
	for _, it := range e.scanItems() {
		if strings.Contains(it["pk"].(string), "PHONE#") {
			n++
		}
	}
	return n
}

// TestE2ENoNumberOrCodeInLogsOrTable runs a whole bind and change and then
// looks for the full numbers and the codes in every log line and in every
// stored attribute.
func TestE2ENoNumberOrCodeInLogsOrTable(t *testing.T) {
	e := newE2E(t, nil)
	first, second := uniqueNumber(), uniqueNumber()
	var secrets []string
	r := e.requestCode("alice", first)
	secrets = append(secrets, e.code(first))
	expect(t, e.confirm("alice", r.str("verification_id"), wrong(secrets[0])), 422, "code_invalid")
	expect(t, e.confirm("alice", r.str("verification_id"), secrets[0]), 200, "")
	expect(t, e.requestCode("alice", "+7 495 123-45-67"), 422, "invalid_phone")
	e.clock.Advance(31 * 24 * time.Hour)
	r = e.requestCode("alice", second)
	secrets = append(secrets, e.code(second))
	expect(t, e.confirm("alice", r.str("verification_id"), secrets[1]), 200, "")
	expect(t, e.status("alice"), 200, "")

	logs := e.logs.String()
	if !strings.Contains(logs, "/v1/phone") {
		t.Fatalf("the flow logged nothing to check: %q", logs)
	}
	var table strings.Builder
	for _, it := range e.scanItems() {
		table.WriteString(it["_raw"].(string))
	}
	for _, n := range []string{first, second} {
		secrets = append(secrets, n, n[1:], n[2:]) // +7…, 7…, national
	}
	secrets = append(secrets, "74951234567")
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q", s)
		}
		if strings.Contains(table.String(), s) {
			t.Errorf("the table contains %q", s)
		}
	}
}

// TestE2EMemoryStoreAndOutbox is `make run` as it starts with no emulator:
// the in-memory store and the console outbox at GET /_local/outbox.
func TestE2EMemoryStoreAndOutbox(t *testing.T) {
	e := startE2E(t, map[string]string{"LOCAL_JWT_SECRET": "e2e-secret", "TEST_PHONE_NUMBERS": "+79990000001:123456"}, nil, "", "")
	r := e.requestCode("alice", "+7 912 345-67-89")
	expect(t, r, 202, "")
	out := e.call("", "GET", "/_local/outbox", "")
	var msgs []struct {
		Channel string `json:"channel"`
		To      string `json:"to"`
		Body    string `json:"body"`
		SentAt  string `json:"sent_at"`
	}
	if err := json.Unmarshal([]byte(out.raw), &msgs); err != nil || len(msgs) != 1 {
		t.Fatalf("outbox: %s (%v)", out.raw, err)
	}
	if msgs[0].Channel != "sms" || msgs[0].To != "+79123456789" || msgs[0].SentAt == "" {
		t.Fatalf("outbox message: %+v", msgs[0])
	}
	code := codeRE.FindString(msgs[0].Body)
	expect(t, e.confirm("alice", r.str("verification_id"), code), 200, "")

	// A fictional QA number takes its fixed code and sends no SMS (the
	// account's e-mail still gets its «Номер сохранён» letter, as alice's).
	qa := e.requestCode("qa", "+79990000001")
	expect(t, qa, 202, "")
	expect(t, e.confirm("qa", qa.str("verification_id"), "123456"), 200, "")
	out = e.call("", "GET", "/_local/outbox", "")
	if err := json.Unmarshal([]byte(out.raw), &msgs); err != nil {
		t.Fatalf("outbox: %s (%v)", out.raw, err)
	}
	var texts, letters int
	for _, m := range msgs {
		switch m.Channel {
		case "sms":
			texts++
		case "email":
			if !strings.Contains(m.Body, "Номер сохранён в профиле Госуслуг") {
				t.Fatalf("a letter other than the bind notice: %+v", m)
			}
			letters++
		}
	}
	if texts != 1 || letters != 2 {
		t.Fatalf("a fictional number got an SMS, or a bind letter is missing: %s", out.raw)
	}
}

func (e *e2e) requestUnbind(sub string) response {
	e.t.Helper()
	return e.call(sub, "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`)
}

func TestE2EUnbindBySMS(t *testing.T) {
	e := newE2E(t, nil)
	num := uniqueNumber()
	expect(t, e.requestUnbind("alice"), 409, "no_phone_bound")
	e.bind("alice", num)
	e.clock.Advance(time.Minute)
	r := e.requestUnbind("alice")
	expect(t, r, 202, "")
	if r.str("purpose") != "unbind" || !strings.HasSuffix(r.str("destination"), num[len(num)-2:]) {
		t.Fatalf("unbind request: %s", r.raw)
	}
	code := e.code(num)
	// Purpose mix-up: an unbind code cannot bind, nor a wrong code unbind.
	expect(t, e.confirm("alice", r.str("verification_id"), code), 422, "purpose_mismatch")
	expect(t, e.call("alice", "POST", "/v1/phone/unbind", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, r.str("verification_id"), wrong(code))), 422, "code_invalid")
	expect(t, e.call("mallory", "POST", "/v1/phone/unbind", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, r.str("verification_id"), code)), 404, "verification_not_found")
	st := e.call("alice", "POST", "/v1/phone/unbind", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, r.str("verification_id"), code))
	expect(t, st, 200, "")
	history, _ := st.body["history"].([]any)
	if st.str("status") != "none" || len(history) != 2 || history[0].(map[string]any)["event"] != "unbound" {
		t.Fatalf("status after unbind: %s", st.raw)
	}
	if e.scanClaims() != 0 {
		t.Fatal("the number is still claimed")
	}
	// Released at once for another account.
	e.bind("bob", num)
}

func TestE2ESupportUnbindFromSampleEvent(t *testing.T) {
	e := newE2E(t, nil)
	e.bind("acc-1", uniqueNumber())
	e.clock.Advance(time.Hour)
	raw, err := os.ReadFile("../events/support-unbind.json")
	if err != nil {
		t.Fatal(err)
	}
	fn := e.srv.app.Unbind()
	out, err := fn(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	if !strings.Contains(string(b), `"ok":true`) || !strings.Contains(string(b), `"unbound":true`) {
		t.Fatalf("support unbind result: %s", b)
	}
	st := e.status("acc-1")
	history, _ := st.body["history"].([]any)
	if st.str("status") != "none" || len(history) != 2 || history[0].(map[string]any)["actor"] != "support:ivanova" || history[0].(map[string]any)["channel"] != "support" {
		t.Fatalf("status after support unbind: %s", st.raw)
	}
	// Idempotent, and bad events are refused with a readable result.
	for _, ev := range []struct{ event, want string }{
		{string(raw), `"unbound":false`},
		{`{"action":"support_unbind","account_id":"acc-1","reason":"x","ticket_id":"FB-1"}`, `"field":"operator"`},
		{`{"action":"drop_everything"}`, `"code":"unknown_action"`},
		{`{"action":"support_unbind","account_id":"nobody","operator":"o","reason":"r","ticket_id":"t"}`, `"unbound":false`},
	} {
		out, err := fn(context.Background(), json.RawMessage(ev.event))
		b, _ := json.Marshal(out)
		if err != nil || !strings.Contains(string(b), ev.want) {
			t.Fatalf("event %s: %s, %v (want %s)", ev.event, b, err, ev.want)
		}
	}
}
