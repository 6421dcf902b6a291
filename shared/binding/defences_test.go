package binding_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
)

// The defences of issue 6 against SMS pumping and brute force.

func rateLimit(t *testing.T, err error, limit string) *binding.RateLimitError {
	t.Helper()
	var rl *binding.RateLimitError
	if !errors.As(err, &rl) || rl.Limit != limit {
		t.Fatalf("err = %v, want rate limit %s", err, limit)
	}
	return rl
}

// wrongCodes spends every attempt of fresh codes to number until n wrong
// codes were entered, each code waiting out its resend delay.
func (e *env) wrongCodes(t *testing.T, account, number string, n int) {
	t.Helper()
	for n > 0 {
		sent, err := e.request(t, account, number)
		if err != nil {
			t.Fatalf("code with %d wrong codes to go: %v", n, err)
		}
		right := e.sms.lastCode(t, e164(t, number))
		for i := 0; i < 5 && n > 0; i, n = i+1, n-1 {
			if _, err := e.confirm(account, sent.VerificationID, wrongCode(right)); err == nil {
				t.Fatal("a wrong code was accepted")
			}
		}
		e.clock.Advance(2 * time.Hour) // past any resend delay and hourly limit
	}
}

func e164(t *testing.T, raw string) string { return number(t, raw).E164() }

func TestWrongCodesAcrossCodesBlockNewCodes(t *testing.T) {
	e := newEnv(t, func(c *binding.Config) { c.MaxFailuresDay = 15 })
	e.clock.Advance(-9 * time.Hour) // 01:00 UTC: a whole day ahead
	e.wrongCodes(t, "acc", "+79123456789", 15)

	// The account can get no code, to any number, until the day ends...
	_, err := e.request(t, "acc", "+79123456780")
	rl := rateLimit(t, err, binding.LimitFailuresAccount)
	if end := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC); rl.RetryAfter != end.Sub(e.clock.Now()) {
		t.Fatalf("retry after %v, want until midnight UTC", rl.RetryAfter)
	}
	// ...and no account can get one to the number that drew the guesses.
	_, err = e.request(t, "other", "+79123456789")
	rateLimit(t, err, binding.LimitFailuresPhone)
	// Another account and number are unaffected.
	if _, err := e.request(t, "other", "+79123456780"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24 * time.Hour)
	if _, err := e.request(t, "acc", "+79123456789"); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func TestSuccessResetsWrongCodeCount(t *testing.T) {
	e := newEnv(t, func(c *binding.Config) { c.MaxFailuresDay = 15 })
	e.clock.Advance(-9 * time.Hour)
	e.wrongCodes(t, "acc", "+79123456789", 14)
	e.bind(t, "acc", "+79123456789") // a success clears the count
	e.clock.Advance(2 * time.Hour)
	sent, err := e.code(binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS})
	if err != nil {
		t.Fatalf("after a success: %v", err)
	}
	// A new code never resets it: only 15 more wrong ones block again.
	right := e.sms.lastCode(t, "+79123456789")
	for i := 0; i < 5; i++ {
		_, _ = e.svc.Unbind(context.Background(), binding.Confirmation{Session: e.strongSession(), AccountID: "acc", VerificationID: sent.VerificationID, Code: wrongCode(right)})
	}
	e.clock.Advance(2 * time.Hour)
	if _, err := e.code(binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS}); err != nil {
		t.Fatalf("5 wrong codes after a reset: %v", err)
	}
}

func TestResendDelayDoubles(t *testing.T) {
	e := newEnv(t, func(c *binding.Config) { c.CodesPerAccountHour = 100 })
	var waits []time.Duration
	for i := 0; i < 5; i++ {
		sent, err := e.request(t, "acc", "+79123456789")
		if err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
		wait := sent.ResendAfter.Sub(e.clock.Now())
		waits = append(waits, wait)
		// One second early is refused, with the exact wait.
		e.clock.Advance(wait - time.Second)
		_, err = e.request(t, "acc", "+79123456789")
		if rl := rateLimit(t, err, binding.LimitCooldown); rl.RetryAfter != time.Second {
			t.Fatalf("retry after %v", rl.RetryAfter)
		}
		e.clock.Advance(time.Second)
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	// An hour's quiet starts over at 60 s.
	e.clock.Advance(time.Hour)
	sent, err := e.request(t, "acc", "+79123456789")
	if err != nil || sent.ResendAfter.Sub(e.clock.Now()) != time.Minute {
		t.Fatalf("after an hour: %+v %v", sent, err)
	}
}

func TestNumberRangeAndGlobalCaps(t *testing.T) {
	var logs bytes.Buffer
	cfg := config()
	cfg.CodesPerPrefixDay = 3
	cfg.CodesGlobalDay = 5
	sms := &fakeSMS{}
	signals := &fakeSignals{}
	clock := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	svc := binding.New(cfg, store.NewMemory(), binding.Senders{SMS: sms, Signals: signals}, secure.DevKeyring(), clock.Now,
		slog.New(slog.NewJSONHandler(&logs, nil)))
	ask := func(account, raw string) error {
		_, err := svc.RequestCode(context.Background(), binding.CodeRequest{AccountID: account, Purpose: binding.PurposeBind, Phone: number(t, raw), Consent: true})
		return err
	}
	// Three numbers of one range +7912345xxxx, from three accounts. The
	// second reaches half the cap of 3 (rounded up): from there each code
	// sent to the range signals, before the cap refuses anyone.
	for i, n := range []string{"+79123450001", "+79123450002", "+79123450003"} {
		if err := ask(fmt.Sprintf("a%d", i), n); err != nil {
			t.Fatal(err)
		}
		if got, want := signals.count(binding.SignalRangeHalfCap), i; got != want {
			t.Fatalf("after code %d: %d half-cap signals, want %d", i+1, got, want)
		}
	}
	if !strings.Contains(logs.String(), "number range past half its daily cap") {
		t.Fatalf("log: %s", logs.String())
	}
	rateLimit(t, ask("a9", "+79123459999"), binding.LimitPrefixDay)
	if !strings.Contains(logs.String(), "codes per number range cap reached") || !strings.Contains(logs.String(), `"range":"+7912345XXXX"`) ||
		strings.Contains(logs.String(), "+79123459999") {
		t.Fatalf("log: %s", logs.String())
	}
	if len(sms.sent) != 3 {
		t.Fatalf("%d SMS sent", len(sms.sent))
	}
	// Other ranges still work, up to the global cap of 5 a day.
	for i, n := range []string{"+79161110001", "+79261110001"} {
		if err := ask(fmt.Sprintf("b%d", i), n); err != nil {
			t.Fatal(err)
		}
	}
	rateLimit(t, ask("c", "+79361110001"), binding.LimitGlobalDay)
}

func TestOptedOutAndThrottledSends(t *testing.T) {
	e := newEnv(t)
	e.sms.fail = fmt.Errorf("sns: %w", binding.ErrOptedOut)
	if _, err := e.request(t, "acc", "+79123456789"); !errors.Is(err, binding.ErrOptedOut) {
		t.Fatalf("opted-out number: err = %v", err)
	}
	// Nothing is left: another number may be tried at once.
	e.sms.fail = throttled{after: 7 * time.Second}
	_, err := e.request(t, "acc", "+79123456780")
	var delivery *binding.DeliveryError
	if !errors.As(err, &delivery) || delivery.RetryAfter != 7*time.Second {
		t.Fatalf("throttled send: err = %v", err)
	}
	e.sms.fail = nil
	if _, err := e.request(t, "acc", "+79123456780"); err != nil {
		t.Fatalf("after failures: %v", err)
	}
}

type throttled struct{ after time.Duration }

func (t throttled) Error() string             { return "throttled" }
func (t throttled) RetryAfter() time.Duration { return t.after }

// TestStrangersCannotLockOutOwner (issue 12, finding 4): wrong codes that
// strangers enter for a bound number push its daily count over
// MAX_FAILURES_DAY. Other accounts are then refused codes to it, but the
// account the number is bound to may still ask for an unbind code by SMS,
// unbind, and bind the number again. Run on both stores: the store holds the
// checks the domain hands it.
func TestStrangersCannotLockOutOwner(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), func(c *binding.Config) { c.MaxFailuresDay = 15 })
		e.clock.Advance(-9 * time.Hour) // 01:00 UTC: a whole day ahead
		const bound = "+79123456789"
		e.bind(t, "owner", bound)
		// Three throwaway accounts, five wrong codes each: the number's
		// count reaches 15, none of the accounts' does.
		for _, stranger := range []string{"s1", "s2", "s3"} {
			e.wrongCodes(t, stranger, bound, 5)
		}
		if n := e.signals.count(binding.SignalNumberLockOwnerSpared) + e.signals.count(binding.SignalNumberLockRefused); n != 0 {
			t.Fatalf("%d number-lock signals under the limit", n)
		}
		_, err := e.request(t, "s4", bound)
		rateLimit(t, err, binding.LimitFailuresPhone)
		if n := e.signals.count(binding.SignalNumberLockRefused); n != 1 {
			t.Fatalf("%d refused signals, want 1", n)
		}

		sent, err := e.code(binding.CodeRequest{AccountID: "owner", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS})
		if err != nil {
			t.Fatalf("the owner's unbind code: %v", err)
		}
		if n := e.signals.count(binding.SignalNumberLockOwnerSpared); n != 1 {
			t.Fatalf("%d owner-spared signals, want 1", n)
		}
		_, err = e.request(t, "s1", bound)
		rateLimit(t, err, binding.LimitFailuresPhone)
		st, err := e.svc.Unbind(context.Background(), binding.Confirmation{Session: e.strongSession(), AccountID: "owner", VerificationID: sent.VerificationID, Code: e.sms.lastCode(t, bound)})
		if err != nil || st.Phone != "" {
			t.Fatalf("the owner's unbind: %+v %v", st, err)
		}
		// The owner's success cleared the number's count: it binds the
		// number again like anyone, without being spared.
		e.clock.Advance(2 * time.Hour)
		e.bind(t, "owner", bound)
		if n := e.signals.count(binding.SignalNumberLockOwnerSpared); n != 1 {
			t.Fatalf("%d owner-spared signals after the reset, want 1", n)
		}
	})
}

// TestStrangersCannotSpendOwnersCodes (issue 12): other accounts' bind
// requests use up a bound number's codes of the day (CODES_PER_PHONE_DAY).
// Strangers are then refused codes to it, but the account it is bound to
// still gets an unbind code by SMS; that code is counted on the number
// (its count stays true), the owner's own hourly limit still holds, and
// operators hear of it. Both stores: the store keeps the count.
func TestStrangersCannotSpendOwnersCodes(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), func(c *binding.Config) { c.CodesPerPhoneDay = 3; c.CodesPerAccountHour = 2 })
		e.clock.Advance(-9 * time.Hour) // 01:00 UTC: a whole day ahead
		const bound = "+79123456789"
		e.bind(t, "owner", bound) // the number's first code of the day
		for _, stranger := range []string{"s1", "s2"} {
			if _, err := e.request(t, stranger, bound); err != nil {
				t.Fatalf("%s: %v", stranger, err)
			}
		}
		_, err := e.request(t, "s3", bound)
		rateLimit(t, err, binding.LimitPhoneDay)
		e.clock.Advance(2 * time.Minute) // past the owner's resend delay
		if n := e.signals.count(binding.SignalNumberCapOwnerSpared); n != 0 {
			t.Fatalf("%d owner-spared signals before the owner asked", n)
		}

		unbind := binding.CodeRequest{AccountID: "owner", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS, SourceIP: "198.51.100.20"}
		sent, err := e.code(unbind)
		if err != nil {
			t.Fatalf("the owner's unbind code with the number's day used up: %v", err)
		}
		if got := e.sms.lastCode(t, bound); got == "" {
			t.Fatal("no unbind code to the owner's number")
		}
		if n := e.signals.count(binding.SignalNumberCapOwnerSpared); n != 1 {
			t.Fatalf("%d owner-spared signals, want 1", n)
		}
		// Counted: the number's day stays used up for others.
		_, err = e.request(t, "s4", bound)
		rateLimit(t, err, binding.LimitPhoneDay)
		// The owner's own limits still hold: its second code of the
		// hour went to the bind, this is the third.
		e.clock.Advance(2 * time.Minute)
		_, err = e.code(unbind)
		rateLimit(t, err, binding.LimitAccountHour)

		st, err := e.svc.Unbind(context.Background(), binding.Confirmation{Session: e.strongSession(), AccountID: "owner", VerificationID: sent.VerificationID, Code: e.sms.lastCode(t, bound)})
		if err != nil || st.Phone != "" {
			t.Fatalf("the owner's unbind: %+v %v", st, err)
		}
	})
}
