package ops_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/ops"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// inbox keeps the last code each number or address was sent.
type inbox struct {
	mu    sync.Mutex
	codes map[string]string
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func (b *inbox) keep(to, body string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := sixDigits.FindString(body); c != "" {
		b.codes[to] = c
	}
}

func (b *inbox) SendSMS(_ context.Context, to, body string) error { b.keep(to, body); return nil }

func (b *inbox) SendEmail(_ context.Context, to, _, body string) error { b.keep(to, body); return nil }

// bind binds +79123456789 to req's account through svc with the code the
// box got; req brings the account and the session or source address.
func (b *inbox) bind(t *testing.T, svc *binding.Service, req binding.CodeRequest) {
	t.Helper()
	n, err := phone.NewParser([]string{"RU"}).Parse("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	req.Purpose, req.Phone, req.Consent = binding.PurposeBind, n, true
	sent, err := svc.RequestCode(context.Background(), req)
	if err != nil {
		t.Fatalf("request a bind of %s: %v", req.AccountID, err)
	}
	if _, err := svc.Confirm(context.Background(), binding.Confirmation{AccountID: req.AccountID, VerificationID: sent.VerificationID, Code: b.codes["+79123456789"]}); err != nil {
		t.Fatalf("bind %s: %v", req.AccountID, err)
	}
}

// serviceConfig is the binding service's configuration of the actions'
// tests: a day's hold, step-up by a second factor.
func serviceConfig() binding.Config {
	return binding.Config{CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, CodesPerAccountHour: 5, CodesPerPhoneDay: 10,
		CodesPerIPHour: 20, MaxFailuresDay: 15, CodesPerPrefixDay: 50, CodesGlobalDay: 1000, UnbindEmailHold: 24 * time.Hour,
		HistoryRetention: time.Hour, StepUp: binding.StepUp{AMR: []string{"mfa"}, MaxAge: 15 * time.Minute}}
}

// TestCancelUnbindEvent: the sample cancel_unbind event takes back a
// scheduled removal; with none scheduled it is refused as
// no_unbind_pending; every field is required.
func TestCancelUnbindEvent(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	box := &inbox{codes: map[string]string{}}
	cfg := serviceConfig()
	svc := binding.New(cfg, store.NewMemory(), binding.Senders{SMS: box, Email: box}, secure.DevKeyring(), clock.Now, nil)
	session := binding.Session{AMR: []string{"mfa"}, AuthTime: clock.Now()}
	box.bind(t, svc, binding.CodeRequest{AccountID: "acc-1", Session: session})

	h := ops.Function(nil, map[string]ops.Action{"cancel_unbind": ops.CancelUnbind(svc, nil)}, nil)
	sample, err := os.ReadFile("../../infra/events/cancel-unbind.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := invoke(t, h, string(sample)); !strings.Contains(got, `"code":"no_unbind_pending"`) || strings.Contains(got, `"ok":true`) {
		t.Fatalf("nothing scheduled: %s", got)
	}

	clock.Advance(time.Minute)
	sent, err := svc.RequestCode(ctx, binding.CodeRequest{AccountID: "acc-1", Purpose: binding.PurposeUnbind, Channel: binding.ChannelEmail, Email: "ivan@example.ru", Session: session})
	if err != nil {
		t.Fatal(err)
	}
	st, err := svc.Unbind(ctx, binding.Confirmation{AccountID: "acc-1", VerificationID: sent.VerificationID, Code: box.codes["ivan@example.ru"], Email: "ivan@example.ru", Session: session})
	if err != nil || st.Request.State != binding.RequestScheduled {
		t.Fatalf("schedule: %+v, %v", st.Request, err)
	}
	for _, c := range []struct{ event, want string }{
		{`{"action":"cancel_unbind","account_id":"acc-1","operator":"ivanova"}`, `"field":"reason"`},
		{`{"action":"cancel_unbind","account_id":" ","operator":"ivanova","reason":"r"}`, `"field":"account_id"`},
		{`{"action":"cancel_unbind","account_id":"acc-1","reason":"r"}`, `"field":"operator"`},
		{`{"action":"cancel_unbind","account_id":"acc-1","operator":"o","reason":"r","ticket_id":"FB-1"}`, `unknown field ticket_id`},
	} {
		if got := invoke(t, h, c.event); !strings.Contains(got, c.want) || strings.Contains(got, `"ok":true`) {
			t.Errorf("%s\n  → %s\n  want %s", c.event, got, c.want)
		}
	}
	clock.Advance(time.Hour)
	got := invoke(t, h, string(sample))
	if !strings.Contains(got, `"ok":true`) || !strings.Contains(got, `"cancelled":true`) || !strings.Contains(got, `"status":"verified"`) {
		t.Fatalf("cancel_unbind: %s", got)
	}
	after, err := svc.Status(ctx, "acc-1")
	if err != nil {
		t.Fatal(err)
	}
	if h := after.History[0]; after.State != binding.StateVerified || h.Event != binding.EventUnbindCancelled || h.Actor != "support:ivanova" ||
		!strings.Contains(h.Reason, "not theirs") || (after.Request != nil && after.Request.State == binding.RequestScheduled) {
		t.Fatalf("after cancel_unbind: %+v / %+v", after, after.History)
	}
	// Past the time the removal would have taken effect, the number stays.
	clock.Advance(48 * time.Hour)
	if after, err := svc.Status(ctx, "acc-1"); err != nil || after.State != binding.StateVerified {
		t.Fatalf("two days later: %+v, %v", after, err)
	}
}
