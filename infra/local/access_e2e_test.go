package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestE2EPartnerRead walks issue 13's try-out through the runner on
// DynamoDB Local and moto: third_party set to ask, a partner's read
// (make invoke's endpoint, the sample event) asks, the citizen approves
// with step-up, the partner reads the number, both reads are in the access
// log, and the subscriber hears of the request with no number in it.
func TestE2EPartnerRead(t *testing.T) {
	e, topic := newE2EWithEvents(t, nil)
	number := uniqueNumber()
	e.bind("alice", number)
	e.clock.Advance(time.Minute)
	if r := e.call("alice", "PATCH", "/v1/phone/settings", `{"third_party":"ask"}`); r.status != 200 {
		t.Fatalf("ask: %d %s", r.status, r.raw)
	}
	e.clock.Advance(time.Minute)

	raw, err := os.ReadFile("../events/read-phone.json")
	if err != nil {
		t.Fatal(err)
	}
	sample := string(raw)
	if r := e.invokeLocal("phone-read", sample); r.status != 200 || r.body["ok"] != false || r.str("error") != "approval_required" {
		t.Fatalf("first read: %d %s", r.status, r.raw)
	}
	e.clock.Advance(time.Second)
	if r := e.invokeLocal("PhoneReadFunction", sample); r.str("error") != "approval_required" {
		t.Fatalf("second read: %d %s", r.status, r.raw)
	}
	list := e.call("alice", "GET", "/v1/phone/access-requests", "")
	items, _ := list.body["items"].([]any)
	if list.status != 200 || len(items) != 1 {
		t.Fatalf("requests: %d %s", list.status, list.raw)
	}
	id, _ := items[0].(map[string]any)["request_id"].(string)

	expect(t, e.call("bob", "POST", "/v1/phone/access-requests/"+id, `{"decision":"approve"}`), 404, "access_request_not_found")
	weak := map[string]any{"sub": "alice", "amr": []string{"pwd"}, "auth_time": e.clock.Now().Unix()}
	expect(t, e.callAs(weak, "POST", "/v1/phone/access-requests/"+id, `{"decision":"approve"}`), 401, "insufficient_authentication")
	e.clock.Advance(time.Second)
	r := e.call("alice", "POST", "/v1/phone/access-requests/"+id, `{"decision":"approve"}`)
	if r.status != 200 || r.str("state") != "approved" || r.str("approved_until") == "" {
		t.Fatalf("approve: %d %s", r.status, r.raw)
	}
	expect(t, e.call("alice", "POST", "/v1/phone/access-requests/"+id, `{"decision":"approve"}`), 409, "access_request_closed")

	e.clock.Advance(time.Second)
	if r := e.invokeLocal("phone-read", sample); r.body["ok"] != true || r.str("phone") != number || r.str("verified_at") == "" {
		t.Fatalf("read after the approval: %d %s", r.status, r.raw)
	}
	log := e.call("alice", "GET", "/v1/phone/access-log", "")
	var page struct {
		Items []struct{ Result, ClientID string } `json:"items"`
	}
	_ = json.Unmarshal([]byte(log.raw), &page)
	if log.status != 200 || len(page.Items) != 3 || page.Items[0].Result != "allowed" || page.Items[1].Result != "approval_required" {
		t.Fatalf("access log: %d %s", log.status, log.raw)
	}
	st := e.status("alice")
	history, _ := st.body["history"].([]any)
	if h, _ := history[0].(map[string]any); h["event"] != "access_approved" || h["client_id"] != "partner.bank-example" {
		t.Fatalf("history: %s", st.raw)
	}

	events := topic.Receive(t, 4, 10*time.Second)
	names := []string{}
	for _, ev := range events {
		var body map[string]any
		_ = json.Unmarshal(ev.Body, &body)
		names = append(names, body["event"].(string))
		if strings.Contains(ev.Envelope, number[1:]) {
			t.Errorf("an event carries the full number: %s", ev.Envelope)
		}
	}
	if strings.Join(names, ",") != "phone.bound,settings.changed,phone.access_requested,phone.access_approved" {
		t.Fatalf("events: %v", names)
	}
	// The citizen withdraws the approval: the partner's next read is refused.
	e.clock.Advance(time.Second)
	if r := e.call("alice", "POST", "/v1/phone/access-requests/"+id, `{"decision":"decline"}`); r.status != 200 || r.str("state") != "declined" || r.str("approved_until") != "" {
		t.Fatalf("withdraw: %d %s", r.status, r.raw)
	}
	if r := e.invokeLocal("phone-read", sample); r.body["ok"] != false || r.str("error") != "not_allowed" {
		t.Fatalf("read after the withdrawal: %d %s", r.status, r.raw)
	}
	if strings.Contains(e.logs.String(), number[1:]) {
		t.Fatalf("the full number is in the logs")
	}
}
