package httpapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// TestUnbindHold: an e-mailed unbind code answers 202 with the removal
// scheduled (channel, effective_at, no attempts); DELETE cancels it with
// a plain session and answers 200; a cancel with nothing scheduled is a
// 409 problem.
func TestUnbindHold(t *testing.T) {
	effective := time.Date(2026, 11, 24, 10, 1, 0, 0, time.UTC)
	svc := &fakeBinding{status: binding.Status{
		State: binding.StateVerified, Phone: "+7 912 ***-**-89",
		Request: &binding.RequestView{Purpose: binding.PurposeUnbind, Channel: binding.ChannelEmail, State: binding.RequestScheduled,
			Destination: "+7 912 ***-**-89", EffectiveAt: effective},
	}}
	api := newAPI(svc, nil)
	resp, _ := api.Unbind(context.Background(), event("POST", "/v1/phone/unbind", `{"verification_id":"v-1","code":"123456"}`))
	if resp.StatusCode != 202 {
		t.Fatalf("e-mailed code: status %d: %s", resp.StatusCode, resp.Body)
	}
	var body struct {
		Status  string         `json:"status"`
		Phone   string         `json:"phone"`
		Request map[string]any `json:"request"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"purpose": "unbind", "channel": "email", "state": "scheduled", "state_text": "Запланировано",
		"destination": "+7 912 ***-**-89", "effective_at": "2026-11-24T10:01:00Z"}
	if body.Status != "verified" || body.Phone != "+7 912 ***-**-89" || len(body.Request) != len(want) {
		t.Fatalf("body = %s", resp.Body)
	}
	for k, v := range want {
		if body.Request[k] != v {
			t.Errorf("request.%s = %v, want %v", k, body.Request[k], v)
		}
	}
	if len(svc.confirmed) != 1 || svc.confirmed[0].Email != "alice@example.org" {
		t.Errorf("the service was not told the verified e-mail: %+v", svc.confirmed)
	}

	// A confirm never answers 202, whatever the status shows.
	if resp, _ := api.ConfirmCode(context.Background(), event("POST", "/v1/phone/verification/confirm", `{"verification_id":"v-1","code":"123456"}`)); resp.StatusCode != 200 {
		t.Errorf("confirm: status %d", resp.StatusCode)
	}

	// DELETE with a plain session (password only, an old sign-in).
	svc.status = binding.Status{State: binding.StateVerified, Phone: "+7 912 ***-**-89"}
	plain := event("DELETE", "/v1/phone/unbind", "")
	plain.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "alice", "amr": "[pwd]", "auth_time": "1"}
	resp, _ = api.Unbind(context.Background(), plain)
	if resp.StatusCode != 200 || len(svc.cancelled) != 1 || svc.cancelled[0] != "alice 203.0.113.7" {
		t.Fatalf("cancel: status %d, calls %v: %s", resp.StatusCode, svc.cancelled, resp.Body)
	}
	svc.err = binding.ErrNoUnbindPending
	resp, _ = api.Unbind(context.Background(), event("DELETE", "/v1/phone/unbind", "", withLang("en")))
	p := decodeProblem(t, resp)
	if resp.StatusCode != 409 || p["code"] != "no_unbind_pending" || p["detail"] != "No removal of the number is scheduled, so there is nothing to cancel." {
		t.Fatalf("cancel with nothing scheduled: %d %v", resp.StatusCode, p)
	}
}
