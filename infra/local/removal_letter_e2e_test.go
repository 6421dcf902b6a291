package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gosuslugi/phonebind/infra/template"
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

// TestE2EHeldRemovalCompletedBySchedule (issue 12): a removal by e-mail
// code whose account never writes again is completed by the schedule's
// event (the runner's ticker runs it each minute) once effective_at has
// passed: the number's removal SMS and the letter are in moto, status
// shows no number, and a second run tells nobody again.
func TestE2EHeldRemovalCompletedBySchedule(t *testing.T) {
	moto := testenv.MotoEndpoint(t)
	verifySender(t, moto)
	e := newE2E(t, map[string]string{"SES_ENDPOINT": moto, "EMAIL_FROM": emailSender, "UNBIND_EMAIL_HOLD": "10m"})
	sub := fmt.Sprintf("held%d", time.Now().UnixNano())
	address := sub + "@example.org"
	num := uniqueNumber()
	e.bind(sub, num)
	e.clock.Advance(time.Minute)
	r := e.requestUnbindByEmail(sub, address)
	expect(t, r, 202, "")
	expect(t, e.unbind(sub, r.str("verification_id"), codeRE.FindString(e.emails(address)[len(e.emails(address))-1].Body)), 202, "")

	removals := func() (sms, letters int) {
		for _, m := range e.sms(num) {
			if strings.HasPrefix(m, "Номер телефона отвязан") {
				sms++
			}
		}
		for _, m := range e.emails(address) {
			if strings.HasPrefix(m.Subject, "Номер телефона отвязан") {
				letters++
			}
		}
		return sms, letters
	}
	e.clock.Advance(9 * time.Minute)
	e.srv.runDue(context.Background(), slog.New(slog.DiscardHandler))
	if sms, letters := removals(); sms+letters != 0 {
		t.Fatalf("before effective_at: %d SMS, %d letters", sms, letters)
	}
	e.clock.Advance(time.Minute)
	e.srv.runDue(context.Background(), slog.New(slog.DiscardHandler))
	if sms, letters := removals(); sms != 1 || letters != 1 {
		t.Fatalf("after the schedule's run: %d removal SMS, %d letters; want one each", sms, letters)
	}
	e.srv.runDue(context.Background(), slog.New(slog.DiscardHandler))
	if sms, letters := removals(); sms != 1 || letters != 1 {
		t.Fatalf("after a second run: %d removal SMS, %d letters", sms, letters)
	}
	if st := e.status(sub); st.str("status") != "none" {
		t.Fatalf("status after the hold: %s", st.raw)
	}
}

// TestScheduleMatchesTemplate: the runner's ticker sends what the
// template's schedule sends, as often.
func TestScheduleMatchesTemplate(t *testing.T) {
	root, err := template.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	at := func(n *yaml.Node, path ...string) *yaml.Node {
		for _, k := range path {
			if n.Kind == yaml.DocumentNode {
				n = n.Content[0]
			}
			var next *yaml.Node
			for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				t.Fatalf("template.yaml has no %s", strings.Join(path, "."))
			}
			n = next
		}
		return n
	}
	ev := at(&doc, "Resources", "UnbindFunction", "Properties", "Events", "CompleteDueUnbinds")
	if at(ev, "Type").Value != "Schedule" || at(ev, "Properties", "Schedule").Value != "rate(1 minute)" || dueEvery != time.Minute {
		t.Fatalf("schedule %s every %s in the template, %s in the runner", at(ev, "Type").Value, at(ev, "Properties", "Schedule").Value, dueEvery)
	}
	if got := at(ev, "Properties", "Input").Value; got != dueEvent {
		t.Fatalf("the template's input %s, the runner's %s", got, dueEvent)
	}
}
