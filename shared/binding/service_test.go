package binding_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
)

// fakeSMS records what would have been sent and fails while fail is set.
type fakeSMS struct {
	mu   sync.Mutex
	sent []sms
	fail error
}

type sms struct{ to, body string }

func (f *fakeSMS) SendSMS(_ context.Context, to, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.sent = append(f.sent, sms{to, body})
	return nil
}

// SendEmail records an e-mail as a message to the address: the subject, a
// blank line and the body.
func (f *fakeSMS) SendEmail(_ context.Context, to, subject, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.sent = append(f.sent, sms{to, subject + "\n\n" + body})
	return nil
}

// fakeEvents records published events and fails while fail is set.
type fakeEvents struct {
	mu     sync.Mutex
	events []binding.PhoneEvent
	fail   error
}

func (f *fakeEvents) PhoneEvent(_ context.Context, e binding.PhoneEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.events = append(f.events, e)
	return nil
}

func (f *fakeEvents) all() []binding.PhoneEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]binding.PhoneEvent(nil), f.events...)
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode is the code in the newest SMS to a number.
func (f *fakeSMS) lastCode(t *testing.T, to string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.sent) - 1; i >= 0; i-- {
		if f.sent[i].to == to {
			if m := codeRE.FindStringSubmatch(f.sent[i].body); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no code sent to %s", to)
	return ""
}

func (f *fakeSMS) to(number string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sent {
		if m.to == number {
			out = append(out, m.body)
		}
	}
	return out
}

// fakeSignals records the signals given.
type fakeSignals struct {
	mu  sync.Mutex
	got []binding.Signal
}

func (f *fakeSignals) Signal(_ context.Context, s binding.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, s)
}

// count says how many times s was given.
func (f *fakeSignals) count(s binding.Signal) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, g := range f.got {
		if g == s {
			n++
		}
	}
	return n
}

type env struct {
	svc     *binding.Service
	sms     *fakeSMS
	events  *fakeEvents
	signals *fakeSignals
	clock   *testenv.Clock
	store   binding.Store
	keys    *secure.Keyring
}

func config() binding.Config {
	return binding.Config{
		CodeLength:          6,
		CodeTTL:             5 * time.Minute,
		MaxAttempts:         5,
		ResendCooldown:      time.Minute,
		CodesPerAccountHour: 5,
		CodesPerPhoneDay:    10,
		CodesPerIPHour:      20,
		ChangeCooldown:      720 * time.Hour,
		TestNumbers:         map[string]string{"+79990000001": "123456"},
		ConsentVersion:      "2026-01",
		HistoryRetention:    3 * 365 * 24 * time.Hour,
		StepUp:              binding.StepUp{AMR: []string{"mfa", "otp"}, MaxAge: 15 * time.Minute},
	}
}

func newEnv(t *testing.T, mutate ...func(*binding.Config)) *env {
	t.Helper()
	return newEnvOn(t, store.NewMemory(), mutate...)
}

// newEnvOn is newEnv over another store (DynamoDB Local, for the rules
// whose enforcement the store shares, and the hold's races).
func newEnvOn(t *testing.T, st binding.Store, mutate ...func(*binding.Config)) *env {
	t.Helper()
	cfg := config()
	for _, m := range mutate {
		m(&cfg)
	}
	e := &env{
		sms:     &fakeSMS{},
		events:  &fakeEvents{},
		signals: &fakeSignals{},
		clock:   testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)),
		store:   st,
		keys:    secure.DevKeyring(),
	}
	e.svc = binding.New(cfg, e.store, binding.Senders{SMS: e.sms, Email: e.sms, Events: e.events, Signals: e.signals}, e.keys, e.clock.Now, nil)
	return e
}

var parser = phone.NewParser([]string{"RU"})

func number(t *testing.T, raw string) phone.Number {
	t.Helper()
	n, err := parser.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return n
}

// code asks for a code as a person signed in a moment ago with a second
// factor, unless the request says how the session signed in (step-up has
// its own tests).
func (e *env) code(r binding.CodeRequest) (binding.CodeSent, error) {
	if r.Session.AuthTime.IsZero() {
		r.Session = e.strongSession()
	}
	return e.svc.RequestCode(context.Background(), r)
}

// strongSession is a sign-in with a second factor, a minute ago.
func (e *env) strongSession() binding.Session {
	return binding.Session{AMR: []string{"pwd", "mfa"}, AuthTime: e.clock.Now().Add(-time.Minute)}
}

func (e *env) request(t *testing.T, account, raw string) (binding.CodeSent, error) {
	t.Helper()
	return e.code(binding.CodeRequest{
		AccountID: account, Purpose: binding.PurposeBind, Phone: number(t, raw), Consent: true, SourceIP: "198.51.100.10",
	})
}

// boundPastCooldown binds +79123456789 to account and lets the change
// cooldown (720h) pass: a change may be asked for.
func (e *env) boundPastCooldown(t *testing.T, account string) {
	t.Helper()
	e.bind(t, account, "+79123456789")
	e.clock.Advance(31 * 24 * time.Hour)
}

// changeAsked is boundPastCooldown, then a request to change to raw.
func (e *env) changeAsked(t *testing.T, account, raw string) binding.CodeSent {
	t.Helper()
	e.boundPastCooldown(t, account)
	sent, err := e.request(t, account, raw)
	if err != nil {
		t.Fatalf("request a change to %s: %v", raw, err)
	}
	return sent
}

func (e *env) confirm(account, id, code string) (binding.Status, error) {
	return e.svc.Confirm(context.Background(), binding.Confirmation{Session: e.strongSession(), AccountID: account, VerificationID: id, Code: code, SourceIP: "198.51.100.10"})
}

// bind binds a number to an account through both calls.
func (e *env) bind(t *testing.T, account, raw string) binding.Status {
	t.Helper()
	sent, err := e.request(t, account, raw)
	if err != nil {
		t.Fatalf("request %s: %v", raw, err)
	}
	st, err := e.confirm(account, sent.VerificationID, e.sms.lastCode(t, number(t, raw).E164()))
	if err != nil {
		t.Fatalf("confirm %s: %v", raw, err)
	}
	return st
}

func TestBindHappyPath(t *testing.T) {
	e := newEnv(t)
	sent, err := e.request(t, "alice", "8 (912) 345-67-89")
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if sent.Destination != "+7 912 ***-**-89" || sent.Channel != binding.ChannelSMS || sent.AttemptsLeft != 5 ||
		!sent.ExpiresAt.Equal(now.Add(5*time.Minute)) || !sent.ResendAfter.Equal(now.Add(time.Minute)) {
		t.Fatalf("code sent = %+v", sent)
	}
	msgs := e.sms.to("+79123456789")
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "Код подтверждения: ") || !strings.HasSuffix(msgs[0], "Действует 5 мин.") {
		t.Fatalf("SMS to the number = %q", msgs)
	}
	st, err := e.svc.Status(context.Background(), "alice")
	if err != nil || st.State != binding.StatePending || st.Request.State != binding.RequestPending ||
		st.Phone != "" || st.Request.Destination != "+7 912 ***-**-89" || !st.ChangeAllowedAfter.IsZero() {
		t.Fatalf("status while pending = %+v, %v", st, err)
	}
	e.clock.Advance(30 * time.Second)
	st, err = e.confirm("alice", sent.VerificationID, e.sms.lastCode(t, "+79123456789"))
	if err != nil {
		t.Fatal(err)
	}
	if st.State != binding.StateVerified || st.Phone != "+7 912 ***-**-89" || !st.VerifiedAt.Equal(e.clock.Now()) ||
		!st.ChangeAllowedAfter.Equal(e.clock.Now().Add(720*time.Hour)) || st.Consent == nil || st.Consent.Version != "2026-01" ||
		st.Request.State != binding.RequestCompleted {
		t.Fatalf("status after confirm = %+v", st)
	}
	if len(st.History) != 1 || st.History[0].Event != binding.EventBound || st.History[0].Actor != "user" || st.History[0].Channel != binding.ChannelSMS {
		t.Fatalf("history = %+v", st.History)
	}
}

func TestRequestRules(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
		req   binding.CodeRequest
		check func(t *testing.T, err error)
	}{
		{
			name: "consent required",
			req:  binding.CodeRequest{Purpose: binding.PurposeBind, Consent: false},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, binding.ErrConsentRequired) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "unknown purpose",
			req:  binding.CodeRequest{Purpose: "steal", Consent: true},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, binding.ErrInvalidPurpose) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "same phone once a change is allowed",
			setup: func(t *testing.T, e *env) {
				e.bind(t, "acc", "+79123456789")
				e.clock.Advance(721 * time.Hour)
			},
			req: binding.CodeRequest{Purpose: binding.PurposeBind, Consent: true},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, binding.ErrSamePhone) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			// Inside the cooldown the bound number answers like any other,
			// so a stolen session cannot find it by trying candidates.
			name:  "bound number inside the cooldown is not unmasked",
			setup: func(t *testing.T, e *env) { e.bind(t, "acc", "+79123456789") },
			req:   binding.CodeRequest{Purpose: binding.PurposeBind, Consent: true},
			check: func(t *testing.T, err error) {
				var soon *binding.ChangeTooSoonError
				if !errors.As(err, &soon) {
					t.Fatalf("err = %v, want change_too_soon as for any other number", err)
				}
			},
		},
		{
			name: "change too soon",
			setup: func(t *testing.T, e *env) {
				e.bind(t, "acc", "+79120000000")
				e.clock.Advance(29 * 24 * time.Hour)
			},
			req: binding.CodeRequest{Purpose: binding.PurposeBind, Consent: true},
			check: func(t *testing.T, err error) {
				var soon *binding.ChangeTooSoonError
				want := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(720 * time.Hour)
				if !errors.As(err, &soon) || !soon.AllowedAfter.Equal(want) {
					t.Fatalf("err = %v, want change allowed after %s", err, want)
				}
			},
		},
		{
			name: "resend cooldown",
			setup: func(t *testing.T, e *env) {
				if _, err := e.request(t, "acc", "+79120000000"); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(20 * time.Second)
			},
			req: binding.CodeRequest{Purpose: binding.PurposeBind, Consent: true},
			check: func(t *testing.T, err error) {
				var rl *binding.RateLimitError
				if !errors.As(err, &rl) || rl.Limit != binding.LimitCooldown || rl.RetryAfter != 40*time.Second {
					t.Fatalf("err = %v, want cooldown with 40s left", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			before := len(e.sms.sent)
			tt.req.AccountID = "acc"
			tt.req.Phone = number(t, "+79123456789")
			_, err := e.code(tt.req)
			tt.check(t, err)
			if len(e.sms.sent) != before {
				t.Fatalf("a refused request sent %d SMS", len(e.sms.sent)-before)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Run("per account per hour", func(t *testing.T) {
		e := newEnv(t)
		// Each code waits twice as long as the last: 1, 2, 4, 8, 16 minutes.
		for i := 0; i < 5; i++ {
			if _, err := e.request(t, "acc", "+79123456789"); err != nil {
				t.Fatalf("code %d: %v", i+1, err)
			}
			e.clock.Advance(time.Minute << i)
		}
		_, err := e.request(t, "acc", "+79123456789")
		var rl *binding.RateLimitError
		if !errors.As(err, &rl) || rl.Limit != binding.LimitAccountHour || rl.RetryAfter != 29*time.Minute {
			t.Fatalf("sixth code in an hour: err = %v", err)
		}
	})
	t.Run("per number per day", func(t *testing.T) {
		e := newEnv(t)
		for i := 0; i < 10; i++ {
			if _, err := e.request(t, "acc"+string(rune('a'+i)), "+79123456789"); err != nil {
				t.Fatalf("code %d: %v", i+1, err)
			}
		}
		_, err := e.request(t, "other", "+79123456789")
		var rl *binding.RateLimitError
		if !errors.As(err, &rl) || rl.Limit != binding.LimitPhoneDay || rl.RetryAfter != 14*time.Hour {
			t.Fatalf("eleventh code to one number: err = %v", err)
		}
		// Another number from the same accounts is not affected.
		if _, err := e.request(t, "other", "+79123456780"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("per source IP per hour", func(t *testing.T) {
		e := newEnv(t)
		for i := 0; i < 20; i++ {
			n := number(t, "+7912345670"+string(rune('0'+i%10)))
			acct := "ip-user-" + string(rune('a'+i))
			if _, err := e.code(binding.CodeRequest{AccountID: acct, Purpose: binding.PurposeBind, Phone: n, Consent: true, SourceIP: "203.0.113.9"}); err != nil {
				t.Fatalf("code %d: %v", i+1, err)
			}
		}
		_, err := e.code(binding.CodeRequest{AccountID: "ip-user-z", Purpose: binding.PurposeBind, Phone: number(t, "+79123456789"), Consent: true, SourceIP: "203.0.113.9"})
		var rl *binding.RateLimitError
		if !errors.As(err, &rl) || rl.Limit != binding.LimitIPHour {
			t.Fatalf("21st code from one IP: err = %v", err)
		}
	})
}

func TestConfirmRules(t *testing.T) {
	t.Run("wrong code counts down then dies", func(t *testing.T) {
		e := newEnv(t)
		sent, _ := e.request(t, "acc", "+79123456789")
		right := e.sms.lastCode(t, "+79123456789")
		wrong := wrongCode(right)
		for left := 4; left >= 0; left-- {
			_, err := e.confirm("acc", sent.VerificationID, wrong)
			var ci *binding.CodeInvalidError
			if !errors.As(err, &ci) || ci.AttemptsLeft != left {
				t.Fatalf("wrong code: err = %v, want %d attempts left", err, left)
			}
		}
		if _, err := e.confirm("acc", sent.VerificationID, right); !errors.Is(err, binding.ErrAttemptsExceeded) {
			t.Fatalf("right code after 5 wrong: err = %v", err)
		}
		st, _ := e.svc.Status(context.Background(), "acc")
		if st.State != binding.StateNone || st.Request.State != binding.RequestRejected || st.Request.Reason != binding.ReasonAttemptsExceeded {
			t.Fatalf("status = %+v / %+v", st, st.Request)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := newEnv(t)
		sent, _ := e.request(t, "acc", "+79123456789")
		e.clock.Advance(5 * time.Minute)
		if _, err := e.confirm("acc", sent.VerificationID, e.sms.lastCode(t, "+79123456789")); !errors.Is(err, binding.ErrCodeExpired) {
			t.Fatalf("err = %v", err)
		}
		st, _ := e.svc.Status(context.Background(), "acc")
		if st.Request.State != binding.RequestRejected || st.Request.Reason != binding.ReasonExpired {
			t.Fatalf("request = %+v", st.Request)
		}
	})
	t.Run("single use", func(t *testing.T) {
		e := newEnv(t)
		sent, _ := e.request(t, "acc", "+79123456789")
		code := e.sms.lastCode(t, "+79123456789")
		if _, err := e.confirm("acc", sent.VerificationID, code); err != nil {
			t.Fatal(err)
		}
		if _, err := e.confirm("acc", sent.VerificationID, code); !errors.Is(err, binding.ErrVerificationUsed) {
			t.Fatalf("second confirm: err = %v", err)
		}
	})
	t.Run("supersede", func(t *testing.T) {
		e := newEnv(t)
		first, _ := e.request(t, "acc", "+79123456789")
		oldCode := e.sms.lastCode(t, "+79123456789")
		e.clock.Advance(time.Minute)
		second, err := e.request(t, "acc", "+79123456789")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.confirm("acc", first.VerificationID, oldCode); !errors.Is(err, binding.ErrVerificationNotFound) {
			t.Fatalf("old verification: err = %v", err)
		}
		newCode := e.sms.lastCode(t, "+79123456789")
		if newCode != oldCode {
			var ci *binding.CodeInvalidError
			if _, err := e.confirm("acc", second.VerificationID, oldCode); !errors.As(err, &ci) {
				t.Fatalf("old code on the new verification: err = %v", err)
			}
		}
		if _, err := e.confirm("acc", second.VerificationID, newCode); err != nil {
			t.Fatalf("new code: %v", err)
		}
	})
	t.Run("another account's verification", func(t *testing.T) {
		e := newEnv(t)
		sent, _ := e.request(t, "owner", "+79123456789")
		if _, err := e.confirm("intruder", sent.VerificationID, e.sms.lastCode(t, "+79123456789")); !errors.Is(err, binding.ErrVerificationNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSMSFailureLeavesNothing(t *testing.T) {
	e := newEnv(t, func(c *binding.Config) { c.CodesPerAccountHour = 1 })
	e.sms.fail = errors.New("sns: throttled")
	_, err := e.request(t, "acc", "+79123456789")
	var de *binding.DeliveryError
	if !errors.As(err, &de) || de.RetryAfter <= 0 {
		t.Fatalf("err = %v, want DeliveryError", err)
	}
	st, _ := e.svc.Status(context.Background(), "acc")
	if st.Request != nil || st.State != binding.StateNone {
		t.Fatalf("failed send left a request: %+v", st.Request)
	}
	// Neither the cooldown nor the one code an hour was spent.
	e.sms.fail = nil
	if _, err := e.request(t, "acc", "+79123456789"); err != nil {
		t.Fatalf("retry after a failed send: %v", err)
	}
}

// TestPhoneTakenOnlyAfterProof holds revealTaken's rule: whether a number
// is taken is revealed only after proof of possession (a right code). A
// request and a wrong code are answered for a taken number exactly as for
// a free one.
func TestPhoneTakenOnlyAfterProof(t *testing.T) {
	e := newEnv(t)
	e.bind(t, "holder", "+79123456789")
	e.clock.Advance(time.Minute)
	free, errFree := e.request(t, "newcomer", "+79123456780")
	taken, errTaken := e.request(t, "intruder", "+79123456789")
	if errFree != nil || errTaken != nil || free.Destination == "" || taken.AttemptsLeft != free.AttemptsLeft {
		t.Fatalf("request for a free and a taken number differ: %+v %v / %+v %v", free, errFree, taken, errTaken)
	}
	right := e.sms.lastCode(t, "+79123456789")
	var onTaken, onFree *binding.CodeInvalidError
	if _, err := e.confirm("intruder", taken.VerificationID, wrongCode(right)); !errors.As(err, &onTaken) {
		t.Fatalf("a wrong code must say only that the code is wrong, got %v", err)
	}
	if _, err := e.confirm("newcomer", free.VerificationID, wrongCode(e.sms.lastCode(t, "+79123456780"))); !errors.As(err, &onFree) || *onFree != *onTaken {
		t.Fatalf("a wrong code for a free number = %v, for a taken one %+v: they must not differ", err, onTaken)
	}
	if _, err := e.confirm("intruder", taken.VerificationID, e.sms.lastCode(t, "+79123456789")); !errors.Is(err, binding.ErrPhoneTaken) {
		t.Fatalf("right code for a taken number: err = %v", err)
	}
	st, _ := e.svc.Status(context.Background(), "intruder")
	if st.State != binding.StateNone || st.Request.State != binding.RequestRejected || st.Request.Reason != binding.ReasonPhoneTaken {
		t.Fatalf("intruder status = %+v / %+v", st, st.Request)
	}
	holder, _ := e.svc.Status(context.Background(), "holder")
	if holder.State != binding.StateVerified {
		t.Fatal("the holder lost the number")
	}
}

func TestChangeAlertsAndReleasesOldNumber(t *testing.T) {
	e := newEnv(t)
	sent := e.changeAsked(t, "acc", "+79120000000")
	old := e.sms.to("+79123456789")
	if len(old) != 2 || !strings.Contains(old[1], "смена номера") {
		t.Fatalf("old number was not alerted of the change request: %q", old)
	}
	st, err := e.svc.Status(context.Background(), "acc")
	if err != nil || st.Phone != "+7 912 ***-**-89" {
		t.Fatalf("old number must stay until the new one is confirmed: %+v", st)
	}
	st, err = e.confirm("acc", sent.VerificationID, e.sms.lastCode(t, "+79120000000"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Phone != "+7 912 ***-**-00" || len(st.History) != 2 || st.History[0].Event != binding.EventChanged {
		t.Fatalf("status after change = %+v", st)
	}
	if old := e.sms.to("+79123456789"); len(old) != 3 || !strings.Contains(old[2], "изменён") {
		t.Fatalf("old number was not told the change is done: %q", old)
	}
	// The old number is free again for anyone.
	e.bind(t, "someone-else", "+79123456789")
}

func TestTestNumbersSendNothing(t *testing.T) {
	e := newEnv(t)
	sent, err := e.request(t, "qa", "+79990000001")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.sms.sent) != 0 {
		t.Fatalf("an SMS went to a fictional number: %+v", e.sms.sent)
	}
	if _, err := e.confirm("qa", sent.VerificationID, "123456"); err != nil {
		t.Fatalf("fixed code: %v", err)
	}
}

func TestCodesAreUniformDigits(t *testing.T) {
	e := newEnv(t)
	counts := map[byte]int{}
	const n = 300
	for i := 0; i < n; i++ {
		req := binding.CodeRequest{AccountID: fmt.Sprintf("u%d", i), Purpose: binding.PurposeBind, Phone: number(t, fmt.Sprintf("+7912345%04d", i)), Consent: true}
		if _, err := e.code(req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	for _, m := range e.sms.sent {
		code := codeRE.FindString(m.body)
		if len(code) != 6 {
			t.Fatalf("code %q is not 6 digits", code)
		}
		for i := 0; i < 6; i++ {
			counts[code[i]]++
		}
	}
	// 1800 digits: each of ten should appear about 180 times.
	for d := byte('0'); d <= '9'; d++ {
		if counts[d] < 100 || counts[d] > 270 {
			t.Fatalf("digit %c appears %d times in %d codes: not uniform", d, counts[d], n)
		}
	}
}

// wrongCode is a well-formed code that is not right.
func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

func TestUnbindBySMS(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.code(binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS}); !errors.Is(err, binding.ErrNoPhoneBound) {
		t.Fatalf("unbind with nothing bound: err = %v", err)
	}
	e.bind(t, "acc", "+79123456789")
	e.clock.Advance(time.Minute)
	sent, err := e.code(binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.sms.to("+79123456789")
	if !strings.HasPrefix(msgs[len(msgs)-1], "Код для отвязки") || sent.Destination != "+7 912 ***-**-89" {
		t.Fatalf("unbind code SMS %q / %+v", msgs, sent)
	}
	code := e.sms.lastCode(t, "+79123456789")
	var mismatch *binding.PurposeMismatchError
	if _, err := e.confirm("acc", sent.VerificationID, code); !errors.As(err, &mismatch) || mismatch.Purpose != binding.PurposeUnbind {
		t.Fatalf("an unbind code at confirm: err = %v", err)
	}
	if st, _ := e.svc.Status(ctx, "acc"); st.Request == nil || st.Request.AttemptsLeft != sent.AttemptsLeft {
		t.Fatalf("an unbind code at confirm spent an attempt: %+v", st.Request)
	}
	st, err := e.svc.Unbind(ctx, binding.Confirmation{Session: e.strongSession(), AccountID: "acc", VerificationID: sent.VerificationID, Code: code, Email: "ivan@example.ru"})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != binding.StateNone || st.Phone != "" || len(st.History) != 2 || st.History[0].Event != binding.EventUnbound {
		t.Fatalf("status after unbind = %+v", st)
	}
	// Told to the number and to the verified e-mail (SPEC §4.3: every removal).
	if msgs := e.sms.to("+79123456789"); msgs[len(msgs)-1] != "Номер телефона отвязан от профиля Госуслуг. Если это были не вы, срочно обратитесь в поддержку." {
		t.Errorf("SMS after the removal: %q", msgs[len(msgs)-1])
	}
	if mails := e.sms.to("ivan@example.ru"); len(mails) != 1 || !strings.Contains(mails[0], "Номер +7 912 ***-**-89 отвязан от профиля Госуслуг") ||
		!strings.Contains(mails[0], "was removed from your Gosuslugi profile") || strings.Contains(mails[0], "9123456789") {
		t.Errorf("letter after the removal: %q", mails)
	}
	// Released at once, and a new bind is not a change (no cooldown).
	e.clock.Advance(time.Minute)
	e.bind(t, "other", "+79123456789")
	e.clock.Advance(time.Minute)
	e.bind(t, "acc", "+79123456780")
}

func TestSupportUnbind(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bind(t, "acc", "+79123456789")
	st, err := e.svc.SupportUnbind(ctx, "acc", "ivanova", "lost SIM, passport checked", "FB-7KQ4M9XP")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != binding.StateNone || st.History[0].Event != binding.EventSupportUnbound ||
		st.History[0].Actor != "support:ivanova" || st.History[0].Channel != binding.ChannelSupport ||
		st.History[0].TicketID != "FB-7KQ4M9XP" || st.History[0].Reason != "lost SIM, passport checked" {
		t.Fatalf("status after support unbind = %+v", st)
	}
	// The number removed is told, so a removal is never silent.
	if msgs := e.sms.to("+79123456789"); len(msgs) == 0 || !strings.HasPrefix(msgs[len(msgs)-1], "Номер телефона отвязан") {
		t.Fatalf("no removal alert to the old number: %q", msgs)
	}
	if _, err := e.svc.SupportUnbind(ctx, "acc", "ivanova", "lost SIM, passport checked", "FB-7KQ4M9XP"); !errors.Is(err, binding.ErrNoPhoneBound) {
		t.Fatalf("second support unbind: err = %v", err)
	}
}
