package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

func TestGetSettingsShowsDefaults(t *testing.T) {
	svc := &fakeBinding{}
	resp, err := newAPI(svc, nil).Settings(context.Background(), event("GET", "/v1/phone/settings", ""))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v: %s", resp.StatusCode, err, resp.Body)
	}
	const want = `{"notifications":{"sms":true,"email":true,"push":true},"autofill":true,"third_party":"deny","display_format":"international"}`
	if resp.Body != want {
		t.Fatalf("body %s\nwant %s", resp.Body, want)
	}
}

// A merge patch: the fields given are set, the others kept, and the whole
// object comes back.
func TestPatchSettingsMerges(t *testing.T) {
	svc := &fakeBinding{}
	api := newAPI(svc, nil)
	for _, body := range []string{`{"notifications":{"email":false}}`, `{"display_format":"national","third_party":"ask"}`} {
		resp, _ := api.Settings(context.Background(), event("PATCH", "/v1/phone/settings", body))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, resp.Body)
		}
	}
	resp, _ := api.Settings(context.Background(), event("PATCH", "/v1/phone/settings", `{}`))
	const want = `{"notifications":{"sms":true,"email":false,"push":true},"autofill":true,"third_party":"ask","display_format":"national"}`
	if resp.Body != want {
		t.Fatalf("body %s\nwant %s", resp.Body, want)
	}
	if u := svc.patched[0]; u.AccountID != "alice" || u.SourceIP != "203.0.113.7" || len(u.Session.AMR) != 2 || u.Patch.SMSNotices != nil {
		t.Fatalf("update = %+v", u)
	}
}

func TestPatchSettingsRefusesBadBodies(t *testing.T) {
	tests := []struct {
		body, lang string
		status     int
		field      string
		detail     string
	}{
		{`{"colour":"red"}`, "ru", 400, "colour", "Неизвестное поле «colour»."},
		{`{"notifications":{"fax":true}}`, "en", 400, "notifications.fax", `Unknown field "notifications.fax".`},
		{`{"notifications":{"sms":"yes"}}`, "en", 400, "notifications.sms", `Field "notifications.sms" has the wrong type: expected true or false.`},
		{`{"notifications":true}`, "en", 400, "notifications", ""},
		{`{"autofill":null}`, "ru", 400, "autofill", ""},
		{`{"autofill":1}`, "en", 400, "autofill", ""},
		{`{"third_party":"maybe"}`, "en", 422, "third_party", `Field "third_party" has an unsupported value; allowed: deny, ask, allow.`},
		{`{"display_format":"e164"}`, "ru", 422, "display_format", "Недопустимое значение поля «display_format»; допустимо: international, national."},
		{`{"display_format":7}`, "en", 400, "display_format", ""},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			svc := &fakeBinding{}
			resp, _ := newAPI(svc, nil).Settings(context.Background(), event("PATCH", "/v1/phone/settings", tt.body, withLang(tt.lang)))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			p := decodeProblem(t, resp)
			if p["field"] != tt.field || p["code"] != "invalid_request" || (tt.detail != "" && p["detail"] != tt.detail) {
				t.Fatalf("problem %v", p)
			}
			if len(svc.patched) != 0 {
				t.Fatal("a refused body reached the service")
			}
		})
	}
}

func TestPatchSettingsStepUp(t *testing.T) {
	svc := &fakeBinding{err: &binding.StepUpError{SecondFactor: true, MaxAge: 15 * time.Minute}}
	resp, _ := newAPI(svc, nil).Settings(context.Background(), event("PATCH", "/v1/phone/settings", `{"autofill":false}`, withLang("en")))
	if resp.StatusCode != http.StatusUnauthorized || resp.Headers["WWW-Authenticate"] == "" {
		t.Fatalf("%d %v: %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if p := decodeProblem(t, resp); p["code"] != "insufficient_authentication" {
		t.Fatalf("problem %v", p)
	}
}

func TestInvalidSettingFromTheService(t *testing.T) {
	svc := &fakeBinding{err: errors.Join(binding.ErrInvalidSetting)}
	resp, _ := newAPI(svc, nil).Settings(context.Background(), event("PATCH", "/v1/phone/settings", `{"autofill":false}`, withLang("en")))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("%d: %s", resp.StatusCode, resp.Body)
	}
	if p := decodeProblem(t, resp); p["detail"] != "No such value for a setting. The settings were not changed." {
		t.Fatalf("problem %v", p)
	}
}

// A settings_changed history entry names the fields it set.
func TestHistoryShowsSettingsFields(t *testing.T) {
	svc := &fakeBinding{status: binding.Status{State: binding.StateNone, History: []binding.HistoryEntry{
		{At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Event: binding.EventSettingsChanged, Actor: "user", Fields: []string{"display_format"}},
	}}}
	resp, _ := newAPI(svc, nil).Status(context.Background(), event("GET", "/v1/phone", ""))
	var v struct {
		History []map[string]any `json:"history"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil || len(v.History) != 1 {
		t.Fatalf("%v: %s", err, resp.Body)
	}
	if v.History[0]["event"] != "settings_changed" || v.History[0]["fields"].([]any)[0] != "display_format" {
		t.Fatalf("entry %v", v.History[0])
	}
}
