package httpapi

import (
	"context"
	"testing"
)

// A field of another purpose is a 400 that names the field and the purpose
// that does not take it (SPEC §5), in both languages, and no code is sent.
func TestFieldOfAnotherPurpose(t *testing.T) {
	tests := []struct {
		name, body, field, en, ru string
	}{
		{"bind by e-mail", `{"purpose":"bind","phone":"+79123456789","consent":true,"channel":"email"}`, "channel",
			`Field "channel" is not accepted on a request with purpose "bind".`,
			"Поле «channel» не принимается в запросе с purpose «bind»."},
		{"unbind with a phone", `{"purpose":"unbind","channel":"sms","phone":"+79123456789"}`, "phone",
			`Field "phone" is not accepted on a request with purpose "unbind".`,
			"Поле «phone» не принимается в запросе с purpose «unbind»."},
		{"unbind with consent", `{"purpose":"unbind","channel":"email","consent":false}`, "consent",
			`Field "consent" is not accepted on a request with purpose "unbind".`,
			"Поле «consent» не принимается в запросе с purpose «unbind»."},
	}
	for _, tt := range tests {
		for lang, want := range map[string]string{"en": tt.en, "ru": tt.ru} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				svc := &fakeBinding{sent: someSent}
				resp, err := newAPI(svc, nil).RequestCode(context.Background(),
					event("POST", "/v1/phone/verification", tt.body, withLang(lang)))
				p := problem(t, resp, err, 400, "invalid_request")
				if p["field"] != tt.field || p["detail"] != want {
					t.Errorf("field, detail = %v, %q; want %s, %q", p["field"], p["detail"], tt.field, want)
				}
				if len(svc.requested) != 0 {
					t.Error("a code was requested for a body with a field of another purpose")
				}
			})
		}
	}
}
