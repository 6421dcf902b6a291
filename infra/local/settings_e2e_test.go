package main

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2ESettings walks the settings through the runner on DynamoDB Local
// and moto: the defaults, a weak session refused, a merge patch, the
// national form in status, concurrent patches of different settings, and
// the events a subscriber receives with push.
func TestE2ESettings(t *testing.T) {
	e, topic := newE2EWithEvents(t, nil)
	number := uniqueNumber()
	e.bind("acc-set", number)
	// History entries of one millisecond have no fixed order: the
	// settings' entry comes a minute after the bind's.
	e.clock.Advance(time.Minute)

	const defaults = `{"notifications":{"sms":true,"email":true,"push":true},"autofill":true,"third_party":"deny","display_format":"international"}`
	if r := e.call("acc-set", "GET", "/v1/phone/settings", ""); r.status != 200 || r.raw != defaults {
		t.Fatalf("defaults: %d %s", r.status, r.raw)
	}

	weak := map[string]any{"sub": "acc-set", "amr": []string{"pwd"}, "auth_time": e.clock.Now().Unix()}
	r := e.callAs(weak, "PATCH", "/v1/phone/settings", `{"notifications":{"push":false}}`)
	expect(t, r, 401, "insufficient_authentication")
	if !strings.Contains(r.header.Get("WWW-Authenticate"), "insufficient_user_authentication") {
		t.Fatalf("challenge: %v", r.header)
	}
	expect(t, e.call("acc-set", "PATCH", "/v1/phone/settings", `{"display_format":"e164"}`), 422, "invalid_request")
	expect(t, e.call("acc-set", "PATCH", "/v1/phone/settings", `{"notifications":{"fax":true}}`), 400, "invalid_request")

	r = e.call("acc-set", "PATCH", "/v1/phone/settings", `{"notifications":{"push":false},"display_format":"national"}`)
	const changed = `{"notifications":{"sms":true,"email":true,"push":false},"autofill":true,"third_party":"deny","display_format":"national"}`
	if r.status != 200 || r.raw != changed {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	national := "8 (916) ***-**-" + number[len(number)-2:]
	st := e.status("acc-set")
	history, _ := st.body["history"].([]any)
	if st.str("phone") != national || len(history) != 2 {
		t.Fatalf("status after the national form: %s", st.raw)
	}
	if h := history[0].(map[string]any); h["event"] != "settings_changed" || h["phone"] != nil {
		t.Fatalf("settings entry: %v", h)
	}
	if h := history[1].(map[string]any); h["event"] != "bound" || h["phone"] != national {
		t.Fatalf("bind entry in the national form: %v", h)
	}

	// Two patches of different settings at once: both land.
	var wg sync.WaitGroup
	for _, body := range []string{`{"autofill":false}`, `{"third_party":"ask"}`} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := e.call("acc-set", "PATCH", "/v1/phone/settings", body); r.status != 200 {
				t.Errorf("%s: %d %s", body, r.status, r.raw)
			}
		}()
	}
	wg.Wait()
	r = e.call("acc-set", "GET", "/v1/phone/settings", "")
	const both = `{"notifications":{"sms":true,"email":true,"push":false},"autofill":false,"third_party":"ask","display_format":"national"}`
	if r.raw != both {
		t.Fatalf("after concurrent patches: %s", r.raw)
	}

	events := topic.Receive(t, 4, 10*time.Second)
	if len(events) != 4 {
		t.Fatalf("received %d events: %+v", len(events), events)
	}
	var bound, first map[string]any
	_ = json.Unmarshal(events[0].Body, &bound)
	_ = json.Unmarshal(events[1].Body, &first)
	if bound["event"] != "phone.bound" || bound["push"] != true {
		t.Errorf("bind event: %s", events[0].Body)
	}
	if first["event"] != "settings.changed" || first["push"] != false ||
		strings.Join(anyStrings(first["fields"]), ",") != "notifications.push,display_format" {
		t.Errorf("settings event: %s", events[1].Body)
	}
	for _, ev := range events {
		if strings.Contains(ev.Envelope, number[1:]) {
			t.Errorf("an event carries the full number: %s", ev.Envelope)
		}
	}
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
