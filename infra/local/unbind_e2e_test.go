package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/gosuslugi/phonebind/infra/local/runner"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// Issue 3 end to end: unbinding by SMS and by e-mail over HTTP, the support
// unbind, the history they leave and the domain events they publish, on
// DynamoDB Local and moto (SNS, SES, SQS).

// emailSender is the SES identity the e-mail tests send from.
const emailSender = "no-reply@phonebind.test"

var mailboxSeq atomic.Int64

// uniqueAddress is an e-mail address no other test in this run uses, so the
// e-mails read back from the shared moto belong to this test.
func uniqueAddress() string {
	return fmt.Sprintf("citizen%d-%d@example.org", time.Now().UnixNano()%1_000_000_000, mailboxSeq.Add(1))
}

// verifySender creates the sender identity in moto's SES, as an operator
// verifies it in the console before the first deploy.
func verifySender(t *testing.T, moto string) {
	t.Helper()
	ses := sesv2.NewFromConfig(testenv.MotoConfig(moto))
	if _, err := ses.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(emailSender)}); err != nil &&
		!strings.Contains(err.Error(), "AlreadyExists") {
		t.Fatalf("create SES identity: %v", err)
	}
}

// callAs sends a request with a token carrying exactly these claims.
func (e *e2e) callAs(claims map[string]any, method, path, body string) response {
	e.t.Helper()
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	tok, err := runner.SignHS256([]byte("e2e-secret"), claims)
	if err != nil {
		e.t.Fatal(err)
	}
	req := e.request(method, path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	return e.send(req)
}

func (e *e2e) requestUnbindByEmail(sub, address string) response {
	e.t.Helper()
	return e.callAs(map[string]any{"sub": sub, "email": address, "email_verified": true, "auth_time": e.clock.Now().Unix()},
		"POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"email"}`)
}

func (e *e2e) unbind(sub, id, code string) response {
	e.t.Helper()
	return e.call(sub, "POST", "/v1/phone/unbind", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, code))
}

func (e *e2e) supportUnbind(account, operator string) string {
	e.t.Helper()
	ev := fmt.Sprintf(`{"action":"support_unbind","account_id":%q,"operator":%q,"reason":"SIM lost, identity checked","ticket_id":"FB-TEST"}`, account, operator)
	out, err := e.srv.app.Unbind()(context.Background(), json.RawMessage(ev))
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func TestE2EUnbindByEmailThroughSES(t *testing.T) {
	moto := testenv.MotoEndpoint(t)
	verifySender(t, moto)
	e := newE2E(t, map[string]string{"SES_ENDPOINT": moto, "EMAIL_FROM": emailSender, "UNBIND_EMAIL_HOLD": "10m"})
	num, address := uniqueNumber(), uniqueAddress()

	expect(t, e.requestUnbindByEmail("alice", address), 409, "no_phone_bound")
	e.bind("alice", num)
	e.clock.Advance(time.Minute)
	// No e-mail claim in the token, or one that is not an address.
	expect(t, e.callAs(map[string]any{"sub": "alice", "auth_time": e.clock.Now().Unix()}, "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"email"}`), 422, "email_unavailable")
	// An address the identity provider has not verified is none.
	expect(t, e.callAs(map[string]any{"sub": "alice", "email": address, "email_verified": false, "auth_time": e.clock.Now().Unix()},
		"POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"email"}`), 422, "email_unavailable")
	expect(t, e.requestUnbindByEmail("alice", "not an address"), 422, "email_unavailable")

	r := e.requestUnbindByEmail("alice", address)
	expect(t, r, 202, "")
	local := address[:1]
	if r.str("channel") != "email" || r.str("purpose") != "unbind" || r.str("destination") != local+"***@example.org" {
		t.Fatalf("e-mail code request: %s", r.raw)
	}
	mails := e.emails(address)
	if len(mails) != 1 {
		t.Fatalf("moto has %d e-mails to %s", len(mails), address)
	}
	m := mails[0]
	code := codeRE.FindString(m.Body)
	if m.Source != emailSender || !strings.HasPrefix(m.Subject, "Код для отвязки") || code == "" ||
		!strings.Contains(m.Body, num[len(num)-2:]) || strings.Contains(m.Body, num[2:]) {
		t.Fatalf("e-mail: %+v", m)
	}
	if sms := e.sms(num); len(sms) != 1 {
		t.Fatalf("the e-mailed code also went by SMS: %q", sms)
	}
	st := e.status("alice")
	if req, _ := st.body["request"].(map[string]any); req["destination"] != local+"***@example.org" || req["purpose"] != "unbind" {
		t.Fatalf("status while the code is out: %s", st.raw)
	}

	// Wrong code, someone else's session, a bind confirm: all refused.
	expect(t, e.unbind("alice", r.str("verification_id"), wrong(code)), 422, "code_invalid")
	expect(t, e.unbind("mallory", r.str("verification_id"), code), 404, "verification_not_found")
	expect(t, e.confirm("alice", r.str("verification_id"), code), 422, "purpose_mismatch")

	// The removal is scheduled: 202, the number still bound, told at once.
	held := e.unbind("alice", r.str("verification_id"), code)
	expect(t, held, 202, "")
	req, _ := held.body["request"].(map[string]any)
	history, _ := held.body["history"].([]any)
	top, _ := history[0].(map[string]any)
	effective, err := time.Parse(time.RFC3339, fmt.Sprint(req["effective_at"]))
	if held.str("status") != "verified" || req["state"] != "scheduled" || req["channel"] != "email" || err != nil ||
		!effective.Equal(e.clock.Now().Add(10*time.Minute).Truncate(time.Second)) || top["event"] != "unbind_scheduled" || top["source_ip"] != "127.0.0.1" {
		t.Fatalf("answer to an e-mailed code: %s", held.raw)
	}
	expect(t, e.unbind("alice", r.str("verification_id"), code), 404, "verification_not_found")
	if sms := e.sms(num); len(sms) != 2 || !strings.HasPrefix(sms[1], "Номер будет отвязан от профиля Госуслуг") ||
		!strings.Contains(sms[1], "отмените отвязку в профиле или обратитесь в поддержку") {
		t.Fatalf("SMS to the number: %q", sms)
	}
	// The letter goes to the token's verified e-mail (alice@example.org).
	var letters []testenv.Email
	for _, m := range e.emails("alice@example.org") {
		if strings.Contains(m.Body, "***-**-"+num[len(num)-2:]+" будет отвязан") {
			letters = append(letters, m)
		}
	}
	if len(letters) != 1 || !strings.Contains(letters[0].Body, "отмените отвязку в профиле или обратитесь в поддержку") ||
		!strings.Contains(letters[0].Body, "cancel the removal") || strings.Contains(letters[0].Body, num[2:]) {
		t.Fatalf("letter to the verified e-mail: %+v", letters)
	}
	// Until effective_at the number is alice's.
	b := e.requestCode("bob", num)
	expect(t, b, 202, "")
	expect(t, e.confirm("bob", b.str("verification_id"), e.code(num)), 409, "phone_taken")
	// A plain session cancels; a second cancel finds nothing.
	e.clock.Advance(time.Minute)
	plain := map[string]any{"sub": "alice", "amr": []string{"pwd"}, "auth_time": e.clock.Now().Add(-24 * time.Hour).Unix()}
	cancelled := e.callAs(plain, "DELETE", "/v1/phone/unbind", "")
	expect(t, cancelled, 200, "")
	history, _ = cancelled.body["history"].([]any)
	top, _ = history[0].(map[string]any)
	if cancelled.str("status") != "verified" || top["event"] != "unbind_cancelled" || strings.Contains(cancelled.raw, `"scheduled"`) {
		t.Fatalf("cancel: %s", cancelled.raw)
	}
	expect(t, e.callAs(plain, "DELETE", "/v1/phone/unbind", ""), 409, "no_unbind_pending")

	// Scheduled again and left to run out: at effective_at the number is
	// gone for every reader and free for bob.
	e.clock.Advance(5 * time.Minute)
	r = e.requestUnbindByEmail("alice", address)
	expect(t, r, 202, "")
	mails = e.emails(address)
	expect(t, e.unbind("alice", r.str("verification_id"), codeRE.FindString(mails[len(mails)-1].Body)), 202, "")
	e.clock.Advance(10 * time.Minute)
	st = e.status("alice")
	history, _ = st.body["history"].([]any)
	top, _ = history[0].(map[string]any)
	if st.str("status") != "none" || top["event"] != "unbound" || top["channel"] != "email" {
		t.Fatalf("status at effective_at: %s", st.raw)
	}
	e.clock.Advance(time.Minute)
	e.bind("bob", num)
	if st := e.status("alice"); st.str("status") != "none" {
		t.Fatalf("alice after bob's bind: %s", st.raw)
	}
}

func TestE2ESESFailureLeavesNoWorkingCode(t *testing.T) {
	moto := testenv.MotoEndpoint(t)
	// An unverified sender: moto's SES rejects every message.
	e := newE2E(t, map[string]string{"SES_ENDPOINT": moto, "EMAIL_FROM": "unverified@nowhere.test"})
	num, address := uniqueNumber(), uniqueAddress()
	e.bind("alice", num)
	e.clock.Advance(time.Minute)
	r := e.requestUnbindByEmail("alice", address)
	expect(t, r, 503, "email_send_failed")
	if r.header.Get("Retry-After") == "" || strings.Contains(r.raw, address) {
		t.Fatalf("503 without Retry-After, or showing the address: %v %s", r.header, r.raw)
	}
	st := e.status("alice")
	if req, _ := st.body["request"].(map[string]any); req != nil && req["purpose"] == "unbind" {
		t.Fatalf("a code that was never sent is outstanding: %s", st.raw)
	}
	if strings.Contains(e.logs.String(), address) {
		t.Fatal("the address reached the logs")
	}
	// No cooldown was spent: an SMS code can be asked for at once.
	expect(t, e.requestUnbind("alice"), 202, "")
}

func TestE2EUnbindByEmailLocalOutbox(t *testing.T) {
	// make run without SES_ENDPOINT: the e-mail lands in the outbox.
	e := newE2E(t, nil)
	num := uniqueNumber()
	e.bind("alice", num)
	e.clock.Advance(time.Minute)
	r := e.requestUnbindByEmail("alice", "alice@example.org")
	expect(t, r, 202, "")
	out := e.call("", "GET", "/_local/outbox", "")
	var msgs []struct{ Channel, To, Body string }
	if err := json.Unmarshal([]byte(out.raw), &msgs); err != nil || len(msgs) == 0 {
		t.Fatalf("outbox: %s", out.raw)
	}
	last := msgs[len(msgs)-1]
	code := codeRE.FindString(last.Body)
	if last.Channel != "email" || last.To != "alice@example.org" || code == "" {
		t.Fatalf("outbox e-mail: %+v", last)
	}
	// The removal is scheduled (UNBIND_EMAIL_HOLD, 24 h by default): the
	// letter to the verified e-mail is in the outbox, the SMS to the number
	// went through SNS (moto).
	expect(t, e.unbind("alice", r.str("verification_id"), code), 202, "")
	out = e.call("", "GET", "/_local/outbox", "")
	msgs = nil
	if err := json.Unmarshal([]byte(out.raw), &msgs); err != nil || len(msgs) == 0 {
		t.Fatalf("outbox: %s", out.raw)
	}
	if letter := msgs[len(msgs)-1]; letter.Channel != "email" || letter.To != "alice@example.org" ||
		!strings.Contains(letter.Body, "***-**-"+num[len(num)-2:]+" будет отвязан") || !strings.Contains(letter.Body, "cancel the removal") {
		t.Fatalf("outbox letter: %+v", letter)
	}
	if sms := e.sms(num); !strings.HasPrefix(sms[len(sms)-1], "Номер будет отвязан от профиля Госуслуг") {
		t.Fatalf("SMS to the number: %q", sms)
	}
}

// TestE2EHistoryAndEvents walks bind → change → unbind (SMS) → bind →
// support unbind and checks the history in status and the events a
// subscriber receives.
func TestE2EHistoryAndEvents(t *testing.T) {
	e, topic := newE2EWithEvents(t, map[string]string{"CHANGE_COOLDOWN": "1h"})
	first, second, third := uniqueNumber(), uniqueNumber(), uniqueNumber()
	mask := func(n string) string { return "+7 916 ***-**-" + n[len(n)-2:] }

	e.bind("acc-h", first)
	e.clock.Advance(2 * time.Hour)
	e.bind("acc-h", second)
	e.clock.Advance(5 * time.Minute) // past the doubled resend delay
	r := e.requestUnbind("acc-h")
	expect(t, r, 202, "")
	expect(t, e.unbind("acc-h", r.str("verification_id"), e.code(second)), 200, "")
	e.clock.Advance(5 * time.Minute)
	e.bind("acc-h", third)
	e.clock.Advance(time.Minute)
	if out := e.supportUnbind("acc-h", "ivanova"); !strings.Contains(out, `"unbound":true`) {
		t.Fatalf("support unbind: %s", out)
	}

	st := e.status("acc-h")
	history, _ := st.body["history"].([]any)
	want := []struct{ event, phone, actor, channel string }{
		{"support_unbound", mask(third), "support:ivanova", "support"},
		{"bound", mask(third), "user", "sms"},
		{"unbound", mask(second), "user", "sms"},
		{"changed", mask(second), "user", "sms"},
		{"bound", mask(first), "user", "sms"},
	}
	if len(history) != len(want) {
		t.Fatalf("history: %s", st.raw)
	}
	for i, w := range want {
		h := history[i].(map[string]any)
		ip, _ := h["source_ip"].(string)
		if h["event"] != w.event || h["phone"] != w.phone || h["actor"] != w.actor || h["channel"] != w.channel ||
			(w.actor == "user") != (ip == "127.0.0.1") {
			t.Errorf("history[%d] = %v, want %+v", i, h, w)
		}
	}

	events := topic.Receive(t, 5, 10*time.Second)
	wantEvents := []struct{ name, phone, previous, actor string }{
		{"phone.bound", mask(first), "", "user"},
		{"phone.changed", mask(second), mask(first), "user"},
		{"phone.unbound", mask(second), "", "user"},
		{"phone.bound", mask(third), "", "user"},
		{"phone.support_unbound", mask(third), "", "support:ivanova"},
	}
	if len(events) != len(wantEvents) {
		t.Fatalf("received %d events, want %d: %+v", len(events), len(wantEvents), events)
	}
	ids := map[string]bool{}
	for i, w := range wantEvents {
		var body struct {
			EventID, Event, AccountID, Phone, PreviousPhone, Actor, Channel, At string
		}
		ev := events[i]
		ev.Decode(t, &body)
		var raw map[string]any
		_ = json.Unmarshal(ev.Body, &raw)
		if ev.Name != w.name || raw["event"] != w.name || raw["account_id"] != "acc-h" || raw["phone"] != w.phone ||
			(raw["previous_phone"] != nil && raw["previous_phone"] != w.previous) || raw["actor"] != w.actor ||
			raw["event_id"] == "" || raw["at"] == "" {
			t.Errorf("event %d: attribute %q body %s, want %+v", i, ev.Name, ev.Body, w)
		}
		id, _ := raw["event_id"].(string)
		if ids[id] {
			t.Errorf("event id %s repeated", id)
		}
		ids[id] = true
		for _, n := range []string{first, second, third} {
			if strings.Contains(ev.Envelope, n) || strings.Contains(ev.Envelope, n[1:]) {
				t.Errorf("event %d carries a full number: %s", i, ev.Envelope)
			}
		}
	}
}

func TestE2EFailedEventPublishKeepsTheChange(t *testing.T) {
	// A topic that does not exist: every publish fails after the commit.
	e := newE2E(t, map[string]string{"EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"})
	num := uniqueNumber()
	st := e.bind("alice", num)
	if st.str("status") != "verified" {
		t.Fatalf("bind with the events topic down: %s", st.raw)
	}
	if !strings.Contains(e.logs.String(), "event not published") {
		t.Fatal("the lost event was not logged")
	}
}

// TestE2EUnbindRacesChange runs an unbind against a change of the same
// account at the same moment, many times, and checks after each round that
// the table is consistent: a claim for every bound number and a bound
// number for every claim.
func TestE2EUnbindRacesChange(t *testing.T) {
	e := newE2E(t, map[string]string{"CHANGE_COOLDOWN": "1m"})
	for round := 0; round < 6; round++ {
		account := fmt.Sprintf("racer-%d", round)
		old, next := uniqueNumber(), uniqueNumber()
		e.bind(account, old)
		if n := e.assertConsistent(round); n != 1 {
			t.Fatalf("round %d: %d bound profiles before the race, want 1", round, n)
		}
		e.clock.Advance(2 * time.Minute)

		if round%2 == 0 {
			// A change confirm against an operator's support unbind.
			id, code := e.codeSent(account, next)
			var support string
			var wg sync.WaitGroup
			wg.Add(2)
			var confirm response
			go func() { defer wg.Done(); confirm = e.confirm(account, id, code) }()
			go func() { defer wg.Done(); support = e.supportUnbind(account, "petrov") }()
			wg.Wait()
			if confirm.status != 200 && confirm.status != 404 {
				t.Fatalf("round %d: change confirm answered %d: %s", round, confirm.status, confirm.raw)
			}
			if !strings.Contains(support, `"ok":true`) {
				t.Fatalf("round %d: support unbind: %s", round, support)
			}
		} else {
			// A user's unbind confirm against a new code request that
			// supersedes it.
			r := e.requestUnbind(account)
			expect(t, r, 202, "")
			code := e.code(old)
			e.clock.Advance(2 * time.Minute)
			statuses := parallel(2, func(i int) int {
				if i == 0 {
					return e.unbind(account, r.str("verification_id"), code).status
				}
				return e.requestCode(account, next).status
			})
			if statuses[500] != 0 {
				t.Fatalf("round %d: statuses %v", round, statuses)
			}
		}
		e.assertConsistent(round)
		e.supportUnbind(account, "cleanup")
	}
}

// assertConsistent checks every profile against the claims in the table
// and returns how many profiles hold a number.
func (e *e2e) assertConsistent(round int) int {
	e.t.Helper()
	// The whole table, every page: after a minute of soak it spans several.
	var items []map[string]any
	if err := attributevalue.UnmarshalListOfMaps(e.scanRaw(), &items); err != nil {
		e.t.Fatal(err)
	}
	bound := map[string]string{}  // phone hmac -> account, from profiles
	claims := map[string]string{} // phone hmac -> account, from claims
	for _, it := range items {
		switch it["type"] {
		case "profile":
			if h, _ := it["phone_hmac"].(string); h != "" {
				if prev, dup := bound[h]; dup {
					e.t.Fatalf("round %d: number bound to %s and %v", round, prev, it["account_id"])
				}
				bound[h] = it["account_id"].(string)
			}
		case "claim":
			claims[strings.TrimPrefix(it["pk"].(string), "PHONE#")] = it["account_id"].(string)
		}
	}
	for h, acc := range bound {
		if claims[h] != acc {
			e.t.Fatalf("round %d: %s holds a number without its claim (claim owner %q)", round, acc, claims[h])
		}
	}
	for h, acc := range claims {
		if bound[h] != acc {
			e.t.Fatalf("round %d: a claim of %s without a binding", round, acc)
		}
	}
	return len(bound)
}

// TestE2EInvokeSampleEvents runs infra/events samples through
// POST /_local/invoke/{function}, what `make invoke` uses, against the
// runner's own store.
func TestE2EInvokeSampleEvents(t *testing.T) {
	e := newE2E(t, nil)
	e.bind("acc-1", uniqueNumber())
	e.clock.Advance(time.Minute)
	invoke := func(fn, body string) response {
		t.Helper()
		res, err := http.Post(e.url+"/_local/invoke/"+fn, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		r := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
		_ = json.Unmarshal(raw, &r.body)
		return r
	}
	sample := func(name string) string {
		b, err := os.ReadFile("../events/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	r := invoke("unbind", sample("support-unbind.json"))
	if r.status != 200 || !strings.Contains(r.raw, `"unbound": true`) {
		t.Fatalf("support unbind via invoke: %d %s", r.status, r.raw)
	}
	if st := e.status("acc-1"); st.str("status") != "none" {
		t.Fatalf("status after invoke: %s", st.raw)
	}
	// By logical id too, and an HTTP sample through its function.
	if r := invoke("UnbindFunction", sample("support-unbind.json")); r.status != 200 || !strings.Contains(r.raw, `"unbound": false`) {
		t.Fatalf("second support unbind: %d %s", r.status, r.raw)
	}
	if r := invoke("status", sample("status.json")); r.status != 200 || r.num("statusCode") != 200 {
		t.Fatalf("status sample: %d %s", r.status, r.raw)
	}
	if r := invoke("status", sample("support-unbind.json")); r.status != 200 || !strings.Contains(r.raw, "unknown_action") {
		t.Fatalf("an ops event to a function without actions: %d %s", r.status, r.raw)
	}
	// Every HTTP sample reaches its function and gets an API answer.
	for fn, file := range map[string]string{"request-code": "request-code.json", "confirm-code": "confirm-code.json", "unbind": "unbind.json"} {
		r := invoke(fn, sample(file))
		if r.status != 200 || r.num("statusCode") < 200 || r.num("statusCode") >= 500 {
			t.Fatalf("%s sample: %d %s", file, r.status, r.raw)
		}
	}
	// The erasure sample, then again: nothing left.
	if r := invoke("unbind", sample("erase-account.json")); r.status != 200 || !strings.Contains(r.raw, `"ok": true`) || !strings.Contains(r.raw, `"profile": 1`) {
		t.Fatalf("erase_account via invoke: %d %s", r.status, r.raw)
	}
	if r := invoke("unbind", sample("erase-account.json")); r.status != 200 || !strings.Contains(r.raw, "nothing left") {
		t.Fatalf("second erase_account via invoke: %d %s", r.status, r.raw)
	}
	if r := invoke("nosuch", `{}`); r.status != 502 || !strings.Contains(r.str("errorMessage"), "no function") {
		t.Fatalf("unknown function: %d %s", r.status, r.raw)
	}
	if r := invoke("unbind", `{not json`); r.status != 400 {
		t.Fatalf("bad JSON: %d %s", r.status, r.raw)
	}
}

func TestE2EBindVerificationCannotUnbind(t *testing.T) {
	e := newE2E(t, nil)
	num := uniqueNumber()
	id, code := e.codeSent("alice", num)
	expect(t, e.unbind("alice", id, code), 422, "purpose_mismatch")
	// Nothing was unbound or bound by it; the bind still completes.
	expect(t, e.confirm("alice", id, code), 200, "")
}
