package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// Issue 6, enumeration: whether a number is taken is revealed only after
// its code is confirmed (SPEC §4.1). Before that, request-code must answer
// the same for a free and a taken number: same status, same body shape and
// headers, an SMS either way, and no timing difference someone could
// measure from outside.

const (
	// enumRequests is how many codes are requested for the taken number,
	// and how many for free ones.
	enumRequests = 200
	// enumMaxP95Gap is the largest difference of the two 95th percentile
	// latencies the test accepts.
	enumMaxP95Gap = 20 * time.Millisecond
	// enumRounds: a gap over enumMaxP95Gap is measured again (up to this
	// many rounds in all) before the test fails, since other tests share
	// the machine and the emulators; a real difference, unlike a burst of
	// load, shows up every time.
	enumRounds = 3
	// enumWarmUp pairs of requests run before any is timed.
	enumWarmUp = 20
)

// TestE2ERequestCodeDoesNotRevealTakenNumbers binds a number, then asks for
// codes to it and to free numbers from many other accounts, in pairs sent
// at the same moment, enumRequests of each: every answer must have the
// same shape, and the 95th percentile latencies must differ by less than
// enumMaxP95Gap.
//
// Timing on a shared machine is noise, so `make test` does not run it
// (ENUM_TIMING=1 does: `make enum-timing`); TestE2ERequestCodeSameCallsForTakenAndFree
// holds the cause of any difference, the DynamoDB calls, in every run.
func TestE2ERequestCodeDoesNotRevealTakenNumbers(t *testing.T) {
	if os.Getenv("ENUM_TIMING") != "1" {
		t.Skip("latency comparison: run with ENUM_TIMING=1 (make enum-timing) on a quiet machine")
	}
	// Every request comes from its own account, so the per-account limits
	// never apply; the per-number, per-IP, per-range and global ones are
	// raised, since all these codes go to one number (the taken one) or
	// one range, from one address, on one day.
	e := newE2E(t, map[string]string{
		"CODES_PER_PHONE_DAY":  "100000",
		"CODES_PER_IP_HOUR":    "100000",
		"CODES_PER_PREFIX_DAY": "100000",
		"CODES_GLOBAL_DAY":     "100000",
	})
	taken := uniqueNumber()
	e.bind("enum-holder", taken)

	// Warm up both paths (connections, the counter items, DynamoDB
	// Local's JIT on a fresh table) before timing.
	m := &enumMeasure{e: e, taken: taken, run: time.Now().UnixNano()}
	for i := 0; i < enumWarmUp; i++ {
		m.pair(fmt.Sprintf("warm-%d", i))
	}

	var gap time.Duration
	for round := 1; round <= enumRounds; round++ {
		takenLat := make([]time.Duration, 0, enumRequests)
		freeLat := make([]time.Duration, 0, enumRequests)
		for i := 0; i < enumRequests; i++ {
			p := m.pair(fmt.Sprintf("%d-%d", round, i))
			takenLat, freeLat = append(takenLat, p.takenLat), append(freeLat, p.freeLat)
		}
		pt, pf := enumP95(takenLat), enumP95(freeLat)
		gap = pt - pf
		if gap < 0 {
			gap = -gap
		}
		t.Logf("round %d: p95 taken %v, free %v (median %v / %v, max %v / %v); gap %v",
			round, enumMS(pt), enumMS(pf), enumMS(enumPercentile(takenLat, 50)), enumMS(enumPercentile(freeLat, 50)),
			enumMS(enumPercentile(takenLat, 100)), enumMS(enumPercentile(freeLat, 100)), enumMS(gap))
		if gap < enumMaxP95Gap {
			break
		}
	}
	if gap >= enumMaxP95Gap {
		t.Errorf("request-code for a taken number and for a free one differ by %v at the 95th percentile (limit %v) in each of %d rounds",
			gap, enumMaxP95Gap, enumRounds)
	}
	if m.retried > 0 {
		t.Logf("%d pairs were sent again after the SMS emulator failed a send", m.retried)
	}

	// The taken number really got every code: holding back the SMS would
	// itself tell the number's owner, and anyone watching, that it is taken.
	if n, want := len(e.sms(taken)), 1+m.takenSent; n < want {
		t.Errorf("the taken number got %d SMS, want %d", n, want)
	}
	// And its owner still has it.
	if st := e.status("enum-holder"); st.str("status") != "verified" {
		t.Errorf("the holder lost the number: %s", st.raw)
	}
}

// enumPairResult is one request for the taken number and one for a free
// number, sent at the same moment from two accounts, with their latencies.
type enumPairResult struct {
	taken, free       response
	takenLat, freeLat time.Duration
}

// enumMeasure sends the pairs of one test and checks every answer against
// the first one's shape.
type enumMeasure struct {
	e     *e2e
	taken string
	run   int64
	want  string
	// takenSent counts the codes the taken number was sent; retried the
	// pairs sent again.
	takenSent, retried int
}

// enumMaxRetries bounds the pairs sent again after a failed SMS send.
const enumMaxRetries = 5

// pair sends one pair (from two new accounts, to the taken number and to a
// new free one) and checks both answers. An SMS send that failed on either
// side (503 sms_unavailable: moto is shared with every other test) says
// nothing about the number, so the pair is sent again, a few times at most.
func (m *enumMeasure) pair(name string) enumPairResult {
	t := m.e.t
	t.Helper()
	for try := 0; ; try++ {
		p := m.e.enumPair(fmt.Sprintf("enum-%d-%s-%d", m.run, name, try), m.taken, uniqueNumber())
		if p.taken.status == 503 || p.free.status == 503 {
			if m.retried++; m.retried <= enumMaxRetries {
				t.Logf("pair %s: 503 (taken %s, free %s); sending it again", name, p.taken.str("code"), p.free.str("code"))
				if p.taken.status == 202 {
					m.takenSent++
				}
				continue
			}
		}
		for kind, r := range map[string]response{"taken": p.taken, "free": p.free} {
			got := enumShapeOf(r).String()
			if m.want == "" {
				m.want = got
			}
			if got != m.want {
				t.Fatalf("for a %s number request-code answers differently (pair %s):\n  %s\nwant\n  %s\nbody: %s\nlogged: %s",
					kind, name, got, m.want, r.raw, m.e.logProblems())
			}
		}
		m.takenSent++
		return p
	}
}

// enumPair sends the two requests of a pair at once, so that both meet the
// same load on the machine (other tests share it and the emulators): a
// burst slows both, and only a difference of the code paths sets them
// apart. sub names the pair; each request comes from its own account.
func (e *e2e) enumPair(sub, taken, free string) enumPairResult {
	e.t.Helper()
	var p enumPairResult
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, side := range []struct {
		kind, number string
		r            *response
		lat          *time.Duration
	}{{"taken", taken, &p.taken, &p.takenLat}, {"free", free, &p.free, &p.freeLat}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			*side.r = e.requestCode(sub+"-"+side.kind, side.number)
			*side.lat = time.Since(t0)
		}()
	}
	close(start)
	wg.Wait()
	return p
}

// enumMS rounds a latency for the log.
func enumMS(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// enumShape is everything in a request-code answer that must not depend on
// whether the number is taken: the status, the header names, each body key
// with the JSON type of its value, the fields that do not name the number
// (purpose, channel, attempts, the gaps between the times), and how long
// the masked destination and the verification id are.
type enumShape struct {
	status                     int
	headers, keys              []string
	purpose, channel, attempts string
	lifetimes                  string
	lengths                    string
}

func enumShapeOf(r response) enumShape {
	s := enumShape{status: r.status}
	for h := range r.header {
		if h != "Date" && h != "Content-Length" {
			s.headers = append(s.headers, h)
		}
	}
	sort.Strings(s.headers)
	for k, v := range r.body {
		s.keys = append(s.keys, fmt.Sprintf("%s:%T", k, v))
	}
	sort.Strings(s.keys)
	s.purpose, s.channel, s.attempts = r.str("purpose"), r.str("channel"), fmt.Sprint(r.body["attempts_left"])
	expires, err1 := time.Parse(time.RFC3339, r.str("expires_at"))
	resend, err2 := time.Parse(time.RFC3339, r.str("resend_after"))
	if err1 == nil && err2 == nil {
		// The fake clock does not move during the test.
		s.lifetimes = fmt.Sprintf("expires-resend %v", expires.Sub(resend))
	}
	s.lengths = fmt.Sprintf("destination %d, verification_id %d, body %d",
		len(r.str("destination")), len(r.str("verification_id")), len(r.raw))
	return s
}

func (s enumShape) String() string {
	return fmt.Sprintf("%d %s {%s} purpose=%s channel=%s attempts_left=%s %s; %s",
		s.status, strings.Join(s.headers, ","), strings.Join(s.keys, ","), s.purpose, s.channel, s.attempts, s.lifetimes, s.lengths)
}

// enumP95 is the 95th percentile of the latencies.
func enumP95(d []time.Duration) time.Duration { return enumPercentile(d, 95) }

// enumPercentile is the nearest-rank percentile p (0 < p ≤ 100) of d.
func enumPercentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100 // ceil(p/100 · n)
	return s[max(rank, 1)-1]
}

// logProblems are the log lines at WARN or above, to explain a failure.
func (e *e2e) logProblems() string {
	var out []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestE2ERequestCodeSameCallsForTakenAndFree is the enumeration rule
// without a stopwatch: request-code for a taken number and for a free one
// makes the same DynamoDB calls in the same order (a read, a transaction
// of the same items), answers alike and sends an SMS either way, so there
// is nothing for a timing to tell apart.
func TestE2ERequestCodeSameCallsForTakenAndFree(t *testing.T) {
	target, err := url.Parse(dynamotest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		calls []string
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	meter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		switch {
		case op == "TransactWriteItems":
			op += fmt.Sprintf("(%d bytes)", len(body)/100*100) // same items: about the same size
		case strings.Contains(string(body), `"LIMIT#global_day#`):
			// The global counter is leased in blocks (shared/store's
			// lease): whichever request finds the block spent takes the
			// next, whatever its number.
			op = ""
		}
		if op != "" {
			mu.Lock()
			calls = append(calls, op)
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(meter.Close)
	e := newE2E(t, map[string]string{"DYNAMODB_ENDPOINT": meter.URL})
	taken := uniqueNumber()
	e.bind("same-calls-holder", taken)

	run := time.Now().UnixNano()
	callsOf := func(sub, number string) ([]string, response) {
		mu.Lock()
		calls = nil
		mu.Unlock()
		r := e.requestCode(sub, number)
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(calls), r
	}
	for i := range 3 {
		takenCalls, rt := callsOf(fmt.Sprintf("same-calls-%d-t-%d", run, i), taken)
		freeCalls, rf := callsOf(fmt.Sprintf("same-calls-%d-f-%d", run, i), uniqueNumber())
		if rt.status != 202 || rf.status != 202 || enumShapeOf(rt).String() != enumShapeOf(rf).String() {
			t.Fatalf("answers differ: taken %d %s, free %d %s", rt.status, rt.raw, rf.status, rf.raw)
		}
		if !slices.Equal(takenCalls, freeCalls) {
			t.Fatalf("DynamoDB calls differ:\n  taken %v\n  free  %v", takenCalls, freeCalls)
		}
	}
	if n := len(e.sms(taken)); n < 1+3 {
		t.Errorf("the taken number got %d SMS, want 4 (its bind code and one per request)", n)
	}
}
