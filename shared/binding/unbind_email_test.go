package binding_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

func unbindByEmail(account, email string) binding.CodeRequest {
	return binding.CodeRequest{AccountID: account, Purpose: binding.PurposeUnbind, Channel: binding.ChannelEmail, Email: email, SourceIP: "203.0.113.9"}
}

func TestUnbindByEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.code(unbindByEmail("acc", "ivan@example.ru")); !errors.Is(err, binding.ErrNoPhoneBound) {
		t.Fatalf("nothing bound: err = %v", err)
	}
	e.bind(t, "acc", "+79123456789")
	e.clock.Advance(time.Minute)
	if _, err := e.code(unbindByEmail("acc", " ")); !errors.Is(err, binding.ErrEmailUnavailable) {
		t.Fatalf("no e-mail claim: err = %v", err)
	}
	smsBefore := len(e.sms.to("+79123456789"))
	sent, err := e.code(unbindByEmail("acc", "ivan@example.ru"))
	if err != nil {
		t.Fatal(err)
	}
	if sent.Channel != binding.ChannelEmail || sent.Destination != "i***@example.ru" || sent.Purpose != binding.PurposeUnbind {
		t.Fatalf("code sent = %+v", sent)
	}
	if n := len(e.sms.to("+79123456789")); n != smsBefore {
		t.Fatalf("an e-mailed code also went by SMS")
	}
	mails := e.sms.to("ivan@example.ru")
	if len(mails) != 1 || !strings.HasPrefix(mails[0], "Код для отвязки номера") ||
		!strings.Contains(mails[0], "+7 912 ***-**-89") || strings.Contains(mails[0], "9123456789") {
		t.Fatalf("e-mail = %q", mails)
	}
	st, err := e.svc.Status(ctx, "acc")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != binding.StatePending || st.Phone != "+7 912 ***-**-89" || st.Request.Destination != "i***@example.ru" {
		t.Fatalf("status while the e-mailed code is out = %+v / %+v", st, st.Request)
	}

	code := e.sms.lastCode(t, "ivan@example.ru")
	st, err = e.svc.Unbind(ctx, binding.Confirmation{Session: e.strongSession(), AccountID: "acc", VerificationID: sent.VerificationID, Code: code, SourceIP: "203.0.113.9"})
	if err != nil {
		t.Fatal(err)
	}
	h := st.History[0]
	if st.State != binding.StateNone || h.Event != binding.EventUnbound || h.Channel != binding.ChannelEmail ||
		h.Actor != "user" || h.SourceIP != "203.0.113.9" || h.Phone != "+7 912 ***-**-89" {
		t.Fatalf("after unbind by e-mail: %+v / history %+v", st, h)
	}
	// The number is free for anyone.
	e.clock.Advance(time.Minute)
	e.bind(t, "other", "+79123456789")
}

func TestUnbindByEmailIgnoresTestNumbers(t *testing.T) {
	// A fictional number's fixed code is for its SMS only: the e-mail gets
	// a random one, and it is sent.
	e := newEnv(t)
	sent, err := e.request(t, "acc", "+79990000001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.confirm("acc", sent.VerificationID, "123456"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.code(unbindByEmail("acc", "ivan@example.ru")); err != nil {
		t.Fatal(err)
	}
	if mails := e.sms.to("ivan@example.ru"); len(mails) != 1 {
		t.Fatalf("e-mails = %q", mails)
	}
}

func TestEmailFailureLeavesNoWorkingCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bind(t, "acc", "+79123456789")
	e.clock.Advance(time.Minute)
	e.sms.fail = errors.New("ses: throttled")
	_, err := e.code(unbindByEmail("acc", "ivan@example.ru"))
	var delivery *binding.DeliveryError
	if !errors.As(err, &delivery) || delivery.Channel != binding.ChannelEmail || delivery.RetryAfter <= 0 {
		t.Fatalf("SES failure: err = %v", err)
	}
	st, err := e.svc.Status(ctx, "acc")
	if err != nil {
		t.Fatal(err)
	}
	if st.Request != nil && st.Request.Purpose == binding.PurposeUnbind {
		t.Fatalf("a code that was never sent is outstanding: %+v", st.Request)
	}
	// No cooldown was spent: the user may try again at once.
	e.sms.fail = nil
	if _, err := e.code(unbindByEmail("acc", "ivan@example.ru")); err != nil {
		t.Fatalf("retry after SES failure: %v", err)
	}
}

func TestEmailUnbindLimitsCountTheAddress(t *testing.T) {
	e := newEnv(t, func(c *binding.Config) { c.CodesPerPhoneDay = 2; c.CodesPerAccountHour = 100 })
	for i, account := range []string{"a1", "a2", "a3"} {
		e.bind(t, account, "+7912345678"+string(rune('1'+i)))
	}
	e.clock.Advance(time.Minute)
	for i, account := range []string{"a1", "a2", "a3"} {
		_, err := e.code(unbindByEmail(account, "Shared@Example.ru"))
		var limited *binding.RateLimitError
		if i < 2 && err != nil || i == 2 && (!errors.As(err, &limited) || limited.Limit != binding.LimitPhoneDay) {
			t.Fatalf("code %d to one address: err = %v", i+1, err)
		}
	}
}

func TestEventsAfterEachCommittedChange(t *testing.T) {
	e := newEnv(t, func(c *binding.Config) { c.ChangeCooldown = time.Hour })
	ctx := context.Background()
	e.bind(t, "acc", "+79123456789")
	e.clock.Advance(2 * time.Hour)
	e.bind(t, "acc", "+79123456780")
	e.clock.Advance(5 * time.Minute)
	sent, err := e.code(binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Unbind(ctx, binding.Confirmation{Session: e.strongSession(), AccountID: "acc", VerificationID: sent.VerificationID, Code: e.sms.lastCode(t, "+79123456780")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	e.bind(t, "acc", "+79123456781")
	if _, err := e.svc.SupportUnbind(ctx, "acc", "ivanova", "lost SIM, passport checked", "FB-7KQ4M9XP"); err != nil {
		t.Fatal(err)
	}

	got := e.events.all()
	want := []struct{ name, phone, previous, actor string }{
		{binding.EventNamePhoneBound, "+7 912 ***-**-89", "", "user"},
		{binding.EventNamePhoneChanged, "+7 912 ***-**-80", "+7 912 ***-**-89", "user"},
		{binding.EventNamePhoneUnbound, "+7 912 ***-**-80", "", "user"},
		{binding.EventNamePhoneBound, "+7 912 ***-**-81", "", "user"},
		{binding.EventNamePhoneSupportUnbound, "+7 912 ***-**-81", "", "support:ivanova"},
	}
	if len(got) != len(want) {
		t.Fatalf("events = %+v", got)
	}
	st, err := e.svc.Status(ctx, "acc")
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Phone != w.phone || g.Previous != w.previous || g.Actor != w.actor || g.AccountID != "acc" || g.ID == "" {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
		// Each event carries the id of the history entry it reports.
		if h := st.History[len(want)-1-i]; h.ID != g.ID || !h.At.Equal(g.At) {
			t.Errorf("event %d id/time %s %s, history %s %s", i, g.ID, g.At, h.ID, h.At)
		}
	}
}

func TestFailedEventNeverUndoesTheChange(t *testing.T) {
	e := newEnv(t)
	e.events.fail = errors.New("sns: throttled")
	e.bind(t, "acc", "+79123456789") // bind fails the test on any error
	st, err := e.svc.Status(context.Background(), "acc")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != binding.StateVerified {
		t.Fatalf("status after a lost event = %+v", st)
	}
}

func TestNoEventsWithoutACommit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sent, err := e.code(binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeBind, Phone: number(t, "+79123456789"), Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.confirm("acc", sent.VerificationID, "000000"); err == nil {
		t.Skip("guessed the random code")
	}
	if _, err := e.svc.SupportUnbind(ctx, "acc", "ivanova", "lost SIM, passport checked", "FB-7KQ4M9XP"); !errors.Is(err, binding.ErrNoPhoneBound) {
		t.Fatalf("support unbind with nothing bound: %v", err)
	}
	if got := e.events.all(); len(got) != 0 {
		t.Fatalf("events without a commit: %+v", got)
	}
}
