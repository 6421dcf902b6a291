package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Moto is what moto's state dump (GET /moto-api/data.json) holds of the
// messages the service sent: SMS sent by SNS Publish (sns.SMS) and e-mails
// sent by SES v2 (ses.Message). The dump is the whole server's: use numbers
// and addresses no other test uses.
type Moto struct {
	SNS struct {
		SMS []SMS `json:"SMS"`
	} `json:"sns"`
	SES struct {
		Message []Email `json:"Message"`
	} `json:"ses"`
}

// SMS is one entry of sns.SMS in moto's state. moto keeps neither the
// message attributes nor the region.
type SMS struct {
	MessageID   string `json:"message_id"`
	PhoneNumber string `json:"phone_number"`
	Message     string `json:"message"`
}

// Email is one entry of ses.Message in moto's state.
type Email struct {
	Subject      string `json:"subject"`
	Body         string `json:"body"`
	Source       string `json:"source"`
	Destinations struct {
		ToAddresses []string `json:"ToAddresses"`
	} `json:"destinations"`
}

// ReadMoto reads moto's state at endpoint. It takes no testing.TB, for the
// tools that drive a local stack outside a test (make bench).
func ReadMoto(ctx context.Context, endpoint string) (Moto, error) {
	var m Moto
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+"/moto-api/data.json", nil)
	if err != nil {
		return m, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, fmt.Errorf("read moto state: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return m, fmt.Errorf("read moto state: %s", res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return m, fmt.Errorf("decode moto state: %w", err)
	}
	return m, nil
}

// MotoState is ReadMoto in a test: a failed read fails the test.
func MotoState(t testing.TB, endpoint string) Moto {
	t.Helper()
	m, err := ReadMoto(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// SentSMS is every SMS moto's SNS accepted, oldest first.
func SentSMS(t testing.TB, endpoint string) []SMS {
	t.Helper()
	return MotoState(t, endpoint).SNS.SMS
}

// SMSByNumber is the texts of every SMS moto's SNS accepted, oldest first,
// by number.
func (m Moto) SMSByNumber() map[string][]string {
	out := map[string][]string{}
	for _, s := range m.SNS.SMS {
		out[s.PhoneNumber] = append(out[s.PhoneNumber], s.Message)
	}
	return out
}

// EmailsTo is every e-mail moto's SES accepted for address, oldest first.
func (m Moto) EmailsTo(address string) []Email {
	var out []Email
	for _, e := range m.SES.Message {
		for _, to := range e.Destinations.ToAddresses {
			if to == address {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// codePattern finds a code in an SMS: the service's codes are 4 to 10
// digits (CODE_LENGTH), standing alone. Only code texts are read with it (a
// scheduled removal's text carries a year).
var codePattern = regexp.MustCompile(`\b\d{4,10}\b`)

// LatestSMSCode is the code in the newest SMS to number that carries one.
// It takes no testing.TB, for the tools that drive a local stack (make
// bench) as well as tests.
func LatestSMSCode(ctx context.Context, endpoint, number string) (string, error) {
	m, err := ReadMoto(ctx, endpoint)
	if err != nil {
		return "", err
	}
	msgs := m.SMSByNumber()[number]
	for i := len(msgs) - 1; i >= 0; i-- {
		if c := codePattern.FindString(msgs[i]); c != "" {
			return c, nil
		}
	}
	return "", fmt.Errorf("no SMS with a code reached %s in moto", number)
}
