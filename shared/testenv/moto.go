package testenv

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// MotoState decodes moto's state dump (GET /moto-api/data.json) into v:
// SMS sent by SNS Publish are under sns.SMS, e-mails sent by SES v2 under
// ses.Message. The dump is the whole server's: use numbers and addresses
// no other test uses.
func MotoState(t testing.TB, endpoint string, v any) {
	t.Helper()
	res, err := http.Get(strings.TrimRight(endpoint, "/") + "/moto-api/data.json")
	if err != nil {
		t.Fatalf("read moto state: %v", err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("decode moto state: %v", err)
	}
}

// SMS is one entry of sns.SMS in moto's state. moto keeps neither the
// message attributes nor the region.
type SMS struct {
	MessageID   string `json:"message_id"`
	PhoneNumber string `json:"phone_number"`
	Message     string `json:"message"`
}

// SentSMS is every SMS moto's SNS accepted, oldest first.
func SentSMS(t testing.TB, endpoint string) []SMS {
	t.Helper()
	var state struct {
		SNS struct {
			SMS []SMS `json:"SMS"`
		} `json:"sns"`
	}
	MotoState(t, endpoint, &state)
	return state.SNS.SMS
}
