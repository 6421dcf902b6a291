package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"
)

// TestE2ESupportUnbindSendsLetter (issue 12, every removal alerts): an
// operator's removal has no citizen's token, and still the letter goes to
// the verified address the bind's session left on the profile, through
// SES (read back from moto), beside the SMS to the old number.
func TestE2ESupportUnbindSendsLetter(t *testing.T) {
	moto := testenv.MotoEndpoint(t)
	verifySender(t, moto)
	e := newE2E(t, map[string]string{"SES_ENDPOINT": moto, "EMAIL_FROM": emailSender})
	sub := fmt.Sprintf("letter%d", time.Now().UnixNano())
	address := sub + "@example.org"
	num := uniqueNumber()
	e.bind(sub, num)
	before := len(e.emails(address))

	if out := e.supportUnbind(sub, "ivanova"); !strings.Contains(out, `"unbound":true`) {
		t.Fatalf("support unbind: %s", out)
	}
	mails := e.emails(address)
	if len(mails) != before+1 {
		t.Fatalf("moto has %d e-mails to %s after the support unbind, want %d", len(mails), address, before+1)
	}
	m := mails[len(mails)-1]
	if m.Source != emailSender || !strings.HasPrefix(m.Subject, "Номер телефона отвязан от профиля Госуслуг") ||
		!strings.Contains(m.Body, "***-**-"+num[len(num)-2:]+" отвязан от профиля Госуслуг") || strings.Contains(m.Body, num[2:]) {
		t.Fatalf("letter: %+v", m)
	}
	if sms := e.sms(num); len(sms) < 2 || !strings.HasPrefix(sms[len(sms)-1], "Номер телефона отвязан") {
		t.Fatalf("SMS to the old number: %q", sms)
	}
}
