package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// TestSoak drives the local API on DynamoDB Local from many goroutines for
// SOAK_DURATION (default 4s; `make soak` runs a minute): binds, changes,
// unbinds, wrong codes, two accounts racing for one number, replays with
// idempotency keys, tickets, and a hot number everyone asks codes for. It
// fails on any 500, on any broken invariant over the whole table, and on
// any number that got more SMS than CODES_PER_PHONE_DAY allows; it prints
// throughput, p50/p99 latency and the mix of answers.
func TestSoak(t *testing.T) {
	duration := 4 * time.Second
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_DURATION: %v", err)
		}
		duration = d
	}
	const perPhoneDay = 8
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	env := map[string]string{
		"DYNAMODB_ENDPOINT": dynamotest.Endpoint(t), "TABLE_NAME": table, "AWS_REGION": "us-east-1",
		"LOCAL_JWT_SECRET": "e2e-secret", "RESEND_COOLDOWN": "0s", "CHANGE_COOLDOWN": "0s",
		"CODES_PER_ACCOUNT_HOUR": "1000", "CODES_PER_IP_HOUR": "1000000", "CODES_PER_PHONE_DAY": fmt.Sprint(perPhoneDay),
		"CODES_PER_PREFIX_DAY": "1000000",
	}
	// SMS go to the runner's outbox: the soak measures the service, not
	// moto's bookkeeping (the e2e suite covers SNS).
	e := startE2E(t, env, db, "", table)
	s := &soak{t: t, e: e, statuses: map[string]int{}, last: map[string]exchange{}}
	hot := uniqueNumber()

	scenarios := []func(){
		s.bind, s.change, s.unbind, s.wrongCodes, s.race, s.replay, s.ticket,
		func() { s.hotNumber(hot) },
	}
	var wg sync.WaitGroup
	stop := time.Now().Add(duration)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				scenarios[rand.IntN(len(scenarios))]()
			}
		}()
	}
	wg.Wait()
	elapsed := duration

	// Invariants over the whole table and every message sent.
	n := e.assertConsistent(-1)
	perNumber := map[string]int{}
	for _, m := range e.srv.app.Outbox.Messages() {
		if m.Channel == "sms" && codeRE.MatchString(m.Body) {
			perNumber[m.To]++
		}
	}
	for num, c := range perNumber {
		if c > perPhoneDay {
			t.Errorf("%s got %d codes, the limit is %d a day", num, c, perPhoneDay)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.statuses["500"] > 0 {
		t.Errorf("%d answers were 500", s.statuses["500"])
	}
	sort.Slice(s.latencies, func(i, j int) bool { return s.latencies[i] < s.latencies[j] })
	pct := func(p float64) time.Duration {
		if len(s.latencies) == 0 {
			return 0
		}
		return s.latencies[int(p*float64(len(s.latencies)-1))]
	}
	var mix []string
	for k, v := range s.statuses {
		mix = append(mix, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(mix)
	t.Logf("soak: %d requests in %s (%.0f/s) by 8 workers; p50 %s, p99 %s; %d bound numbers; %d scenarios broke an expectation; answers: %s",
		len(s.latencies), elapsed, float64(len(s.latencies))/elapsed.Seconds(), pct(0.5), pct(0.99), n, s.broken.Load(), strings.Join(mix, " "))
	if s.broken.Load() > 0 {
		t.Errorf("%d scenarios got an answer they must not get", s.broken.Load())
	}
}

type soak struct {
	t         *testing.T
	e         *e2e
	last      map[string]exchange // the newest exchange of each account
	mu        sync.Mutex
	statuses  map[string]int
	latencies []time.Duration
	broken    atomic.Int64
	seq       atomic.Int64
}

func (s *soak) account() string { return fmt.Sprintf("soak-%d", s.seq.Add(1)) }

// do sends one request and records its answer.
func (s *soak) do(sub, method, path, body string, headers ...string) response {
	start := time.Now()
	r := s.e.call(sub, method, path, body, headers...)
	d := time.Since(start)
	key := fmt.Sprint(r.status)
	if c := r.str("code"); c != "" {
		key += ":" + c
	}
	s.mu.Lock()
	s.statuses[key]++
	if r.status >= 500 {
		s.statuses["500"]++
	}
	s.latencies = append(s.latencies, d)
	s.last[sub] = exchange{method: method, path: path, body: body, status: r.status, answer: r.raw}
	s.mu.Unlock()
	return r
}

// exchange is one request and its answer, kept to report a broken
// expectation with what was asked and what came back.
type exchange struct {
	method, path, body string
	status             int
	answer             string
}

// secretRun matches what could be a number or a code in a report.
var secretRun = regexp.MustCompile(`[0-9]{5,}`)

func masked(s string) string {
	return secretRun.ReplaceAllStringFunc(s, func(d string) string { return d[:2] + strings.Repeat("*", len(d)-2) })
}

// want records a broken expectation of scenario for account sub, reporting
// the scenario, the account's last request and its answer (numbers and
// codes masked). The first 20 are reported in full.
func (s *soak) want(scenario, sub string, ok bool) {
	if ok {
		return
	}
	if n := s.broken.Add(1); n > 20 {
		return
	}
	s.mu.Lock()
	x := s.last[sub]
	s.mu.Unlock()
	s.t.Errorf("soak: scenario %s (account %s) broke: %s %s %s -> %d %s",
		scenario, sub, x.method, x.path, masked(x.body), x.status, masked(x.answer))
}

// lastCode reads the newest code the outbox holds for a number.
func (s *soak) lastCode(num string) string {
	msgs := s.e.srv.app.Outbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == num {
			if c := codeRE.FindString(msgs[i].Body); c != "" {
				return c
			}
		}
	}
	return ""
}

func (s *soak) request(sub, num string) response {
	return s.do(sub, "POST", "/v1/phone/verification", fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, num))
}

func (s *soak) confirm(sub, id, code string) response {
	return s.do(sub, "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, code))
}

func (s *soak) bindTo(sub, num string) bool {
	r := s.request(sub, num)
	if r.status != 202 {
		return false
	}
	c := s.confirm(sub, r.str("verification_id"), s.lastCode(num))
	return c.status == 200
}

func (s *soak) bind() {
	a := s.account()
	s.want("bind", a, s.bindTo(a, uniqueNumber()))
}

func (s *soak) change() {
	a, first, second := s.account(), uniqueNumber(), uniqueNumber()
	s.want("change", a, s.bindTo(a, first) && s.bindTo(a, second))
}

func (s *soak) unbind() {
	a, num := s.account(), uniqueNumber()
	if !s.bindTo(a, num) {
		s.want("unbind", a, false)
		return
	}
	r := s.do(a, "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`)
	if r.status != 202 {
		s.want("unbind", a, false)
		return
	}
	u := s.do(a, "POST", "/v1/phone/unbind", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, r.str("verification_id"), s.lastCode(num)))
	s.want("unbind", a, u.status == 200 && u.str("status") == "none")
}

func (s *soak) wrongCodes() {
	a, num := s.account(), uniqueNumber()
	r := s.request(a, num)
	if r.status != 202 {
		s.want("wrong-codes", a, false)
		return
	}
	right := s.lastCode(num)
	for i := 0; i < 3; i++ {
		s.want("wrong-codes", a, s.confirm(a, r.str("verification_id"), wrong(right)).status == 422)
	}
	s.want("wrong-codes", a, s.confirm(a, r.str("verification_id"), right).status == 200)
}

// race: two accounts confirm codes for one number at once: one wins.
func (s *soak) race() {
	a, b, num := s.account(), s.account(), uniqueNumber()
	ra := s.request(a, num)
	ca := s.lastCode(num)
	rb := s.request(b, num)
	cb := s.lastCode(num)
	if ra.status != 202 || rb.status != 202 {
		s.want("race", a, false)
		return
	}
	reqs := []struct{ sub, id, code string }{{a, ra.str("verification_id"), ca}, {b, rb.str("verification_id"), cb}}
	got := parallel(2, func(i int) int { return s.confirm(reqs[i].sub, reqs[i].id, reqs[i].code).status })
	s.want(fmt.Sprintf("race (the two confirms answered %v)", got), a, got[200] == 1 && got[409] == 1)
}

func (s *soak) replay() {
	a, num := s.account(), uniqueNumber()
	key := fmt.Sprintf("k-%d", s.seq.Add(1))
	body := fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, num)
	r1 := s.do(a, "POST", "/v1/phone/verification", body, "Idempotency-Key", key)
	r2 := s.do(a, "POST", "/v1/phone/verification", body, "Idempotency-Key", key)
	s.want("replay", a, r1.status == 202 && r2.raw == r1.raw)
}

func (s *soak) ticket() {
	a := s.account()
	r := s.do(a, "POST", "/v1/feedback", `{"category":"problem","message":"Не приходит SMS с кодом"}`)
	s.want("ticket", a, r.status == 201)
}

// hotNumber: many accounts ask codes for one number; past the daily limit
// they are refused, and no more SMS go out.
func (s *soak) hotNumber(num string) {
	a := s.account()
	r := s.request(a, num)
	s.want("hot-number", a, r.status == 202 || (r.status == 429 && r.str("limit") == "phone_day"))
}
