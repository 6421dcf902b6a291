// Package storetest is the contract every binding.Store adapter passes: the
// memory store and the DynamoDB adapter run the same cases, so `make run` on
// memory behaves like production on DynamoDB.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Probe says who holds a number, which the contract needs to check the
// one-claim-per-number invariant and which binding.Store does not offer.
// Each adapter's test supplies it from outside the production type (for
// DynamoDB, dynamotest.Claims reads the table directly).
type Probe interface {
	ClaimOwner(ctx context.Context, phoneHMAC string) (owner string, ok bool, err error)
}

// subject is a store under test with the probe that looks into it.
type subject struct {
	binding.Store
	Probe
}

// contractCase is one case of a contract suite on stores of type S.
type contractCase[S any] = struct {
	name string
	run  func(t *testing.T, s S)
}

// runCases runs every case on a fresh store made by newStore.
func runCases[S any](t *testing.T, newStore func(t *testing.T) S, cases ...[]contractCase[S]) {
	t.Helper()
	for _, c := range slices.Concat(cases...) {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// race runs op(0) … op(n-1) at once, each in its own goroutine, and counts
// the calls that succeeded and those refused with refusal; any other
// answer fails the test.
func race(t *testing.T, n int, refusal error, op func(i int) error) (ok, refused int64) {
	t.Helper()
	var oks, refusals atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := op(i); {
			case err == nil:
				oks.Add(1)
			case errors.Is(err, refusal):
				refusals.Add(1)
			default:
				t.Errorf("call %d of %d: %v", i, n, err)
			}
		}()
	}
	wg.Wait()
	return oks.Load(), refusals.Load()
}

// Run runs the contract against fresh stores made by newStore, each with
// its probe.
func Run(t *testing.T, newStore func(t *testing.T) (binding.Store, Probe)) {
	t.Helper()
	runCases(t, func(t *testing.T) subject {
		s, p := newStore(t)
		return subject{s, p}
	}, bindingCases, holdCases, settingsCases, tallyCases, emailCases, dueCases, accessCases)
}

// Cases of codes, binds and unbinds, run by Run.
var bindingCases = []contractCase[subject]{
	{"EmptySnapshot", emptySnapshot},
	{"StartAndRead", startAndRead},
	{"Cooldown", cooldown},
	{"CounterCeiling", counterCeiling},
	{"StaleProfileOnStart", staleProfileOnStart},
	{"SharedCounterItems", sharedCounterItems},
	{"GlobalCap", globalCap},
	{"CancelGivesBack", cancelGivesBack},
	{"CountAttempt", countAttempt},
	{"CompleteBindAndChange", completeBindAndChange},
	{"PhoneTakenWritesNothing", phoneTakenWritesNothing},
	{"StaleProfileOnComplete", staleProfileOnComplete},
	{"Reject", reject},
	{"CompleteUnbind", completeUnbind},
	{"HistoryNewestFirst", historyNewestFirst},
	{"ConcurrentAttempts", concurrentAttempts},
	{"ConcurrentClaims", concurrentClaims},
	{"FailureChecksAndReset", failureChecksAndReset},
	{"OnlyNamedChecksHold", onlyNamedChecksHold},
	{"UnbindLeavesNoCiphertext", unbindLeavesNoCiphertext},
	{"SequenceRoundTrips", sequenceRoundTrips},
}

var (
	ctx  = context.Background()
	base = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	seq  atomic.Int64
)

// account returns an account id unique across runs sharing one table.
func account(name string) string {
	return fmt.Sprintf("%s-%d-%d", name, time.Now().UnixNano(), seq.Add(1))
}

func sealed(n string) binding.SealedPhone {
	return binding.SealedPhone{HMAC: "hmac-" + n, KeyID: "k1", Ciphertext: "ct-" + n, Masked: "+7 912 ***-**-" + n[len(n)-2:]}
}

func verification(accountID, id string, dest binding.SealedPhone, version int64, previous binding.SealedPhone) binding.Verification {
	return binding.Verification{
		ID:             id,
		AccountID:      accountID,
		Purpose:        binding.PurposeBind,
		Channel:        binding.ChannelSMS,
		Destination:    dest,
		CodeHMAC:       "code-" + id,
		CreatedAt:      base,
		ExpiresAt:      base.Add(5 * time.Minute),
		ResendAfter:    base.Add(time.Minute),
		MaxAttempts:    5,
		State:          binding.RequestPending,
		ProfileVersion: version,
		Previous:       previous,
		ConsentVersion: "2026-01",
	}
}

// unbindCode is an unbind's verification of n, sent by channel.
func unbindCode(accountID, id string, n binding.SealedPhone, version int64, channel binding.Channel) binding.Verification {
	u := verification(accountID, id, n, version, binding.SealedPhone{})
	u.Purpose, u.Channel = binding.PurposeUnbind, channel
	return u
}

func counter(name, subject string, max int) binding.Counter {
	return binding.Counter{Name: name, Subject: subject, WindowStart: base.Truncate(time.Hour), Period: time.Hour, Max: max}
}

func start(t *testing.T, s subject, v binding.Verification, now time.Time, counters ...binding.Counter) {
	t.Helper()
	if err := s.StartVerification(ctx, binding.Start{Verification: v, Counters: counters, Now: now}); err != nil {
		t.Fatalf("start %s: %v", v.ID, err)
	}
}

func completion(v binding.Verification, now time.Time) binding.Completion {
	event := binding.EventBound
	if !v.Previous.IsZero() {
		event = binding.EventChanged
	}
	return binding.Completion{
		Verification: v,
		Profile: binding.Profile{
			AccountID: v.AccountID, Phone: v.Destination, VerifiedAt: now, BoundAt: now,
			Consent: binding.Consent{Version: v.ConsentVersion, GivenAt: now}, Version: v.ProfileVersion + 1,
		},
		Release: v.Previous,
		History: binding.HistoryEntry{At: now, Event: event, Phone: v.Destination.Masked, Actor: "user", Channel: binding.ChannelSMS, SourceIP: "203.0.113.7", ExpiresAt: now.Add(24 * time.Hour)},
		Now:     now,
	}
}

func snapshot(t *testing.T, s subject, accountID string, limit int) binding.Snapshot {
	t.Helper()
	snap, err := s.Snapshot(ctx, accountID, limit)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return snap
}

func owner(t *testing.T, s subject, hmac string) string {
	t.Helper()
	o, ok, err := s.ClaimOwner(ctx, hmac)
	if err != nil {
		t.Fatalf("claim owner: %v", err)
	}
	if !ok {
		return ""
	}
	return o
}

func emptySnapshot(t *testing.T, s subject) {
	snap := snapshot(t, s, account("empty"), 20)
	if snap.Profile.Bound() || snap.Profile.Version != 0 || snap.Verification != nil || len(snap.History) != 0 {
		t.Fatalf("empty account snapshot = %+v", snap)
	}
}

func startAndRead(t *testing.T, s subject) {
	a := account("read")
	v := verification(a, "v1", sealed("1234567801"), 0, binding.SealedPhone{})
	start(t, s, v, base, counter(binding.LimitAccountHour, a, 5))
	snap := snapshot(t, s, a, 0)
	if snap.Verification == nil {
		t.Fatal("verification not stored")
	}
	got := *snap.Verification
	if got.ID != v.ID || got.CodeHMAC != v.CodeHMAC || got.Destination != v.Destination ||
		!got.ExpiresAt.Equal(v.ExpiresAt) || !got.ResendAfter.Equal(v.ResendAfter) ||
		got.State != binding.RequestPending || got.MaxAttempts != 5 || got.Attempts != 0 ||
		got.Purpose != binding.PurposeBind || got.Channel != binding.ChannelSMS || got.ConsentVersion != "2026-01" {
		t.Fatalf("stored verification = %+v, want %+v", got, v)
	}
}

func cooldown(t *testing.T, s subject) {
	a := account("cool")
	start(t, s, verification(a, "v1", sealed("1234567802"), 0, binding.SealedPhone{}), base)
	err := s.StartVerification(ctx, binding.Start{Verification: verification(a, "v2", sealed("1234567802"), 0, binding.SealedPhone{}), Now: base.Add(30 * time.Second)})
	var cool *binding.CooldownError
	if !errors.As(err, &cool) || !cool.ResendAfter.Equal(base.Add(time.Minute)) {
		t.Fatalf("second start within cooldown: err = %v, want CooldownError until %s", err, base.Add(time.Minute))
	}
	if snap := snapshot(t, s, a, 0); snap.Verification.ID != "v1" {
		t.Fatalf("refused start replaced the verification with %s", snap.Verification.ID)
	}
	v3 := verification(a, "v3", sealed("1234567802"), 0, binding.SealedPhone{})
	v3.ResendAfter = base.Add(2 * time.Minute)
	start(t, s, v3, base.Add(time.Minute))
	if snap := snapshot(t, s, a, 0); snap.Verification.ID != "v3" {
		t.Fatalf("start after cooldown kept %s", snap.Verification.ID)
	}
}

func counterCeiling(t *testing.T, s subject) {
	ip := account("ip")
	a1, a2, a3 := account("c1"), account("c2"), account("c3")
	start(t, s, verification(a1, "v1", sealed("1234567803"), 0, binding.SealedPhone{}), base, counter(binding.LimitIPHour, ip, 2), counter(binding.LimitAccountHour, a1, 5))
	start(t, s, verification(a2, "v2", sealed("1234567804"), 0, binding.SealedPhone{}), base, counter(binding.LimitIPHour, ip, 2), counter(binding.LimitAccountHour, a2, 5))
	acct3 := counter(binding.LimitAccountHour, a3, 1)
	err := s.StartVerification(ctx, binding.Start{Verification: verification(a3, "v3", sealed("1234567805"), 0, binding.SealedPhone{}), Now: base,
		Counters: []binding.Counter{acct3, counter(binding.LimitIPHour, ip, 2)}})
	var full *binding.LimitError
	if !errors.As(err, &full) || full.Counter.Name != binding.LimitIPHour {
		t.Fatalf("third code from one IP: err = %v, want LimitError on %s", err, binding.LimitIPHour)
	}
	if snap := snapshot(t, s, a3, 0); snap.Verification != nil {
		t.Fatal("refused start wrote a verification")
	}
	// The account counter was not spent by the refused start: with a max of
	// one it still takes a code.
	start(t, s, verification(a3, "v4", sealed("1234567805"), 0, binding.SealedPhone{}), base, acct3)
}

// staleProfileOnStart: a first bind made against a profile version that is
// gone is stored (checking the profile there would cost every request), and
// its commit is what refuses it, claiming nothing. A request that holds the
// bound number (a change's previous number, an unbind's destination) is
// refused at once, so that no item keeps the ciphertext of a number that may
// have been unbound meanwhile.
func staleProfileOnStart(t *testing.T, s subject) {
	a := account("stale")
	v := verification(a, "v1", sealed("1234567806"), 3, binding.SealedPhone{})
	start(t, s, v, base)
	if err := s.CompleteBind(ctx, completion(v, base)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("commit of a request made against a profile version that is not there: err = %v, want ErrStale", err)
	}
	if owner, ok, err := s.ClaimOwner(ctx, v.Destination.HMAC); err != nil || ok {
		t.Fatalf("stale commit claimed the number for %q (err %v)", owner, err)
	}
	if snap := snapshot(t, s, a, 0); snap.Profile.Version != 0 || snap.Profile.Bound() {
		t.Fatalf("stale commit wrote a profile: %+v", snap.Profile)
	}

	change := verification(account("stale-change"), "v2", sealed("1234567816"), 3, sealed("1234567817"))
	unbind := verification(account("stale-unbind"), "v3", sealed("1234567818"), 3, binding.SealedPhone{})
	unbind.Purpose = binding.PurposeUnbind
	for _, v := range []binding.Verification{change, unbind} {
		if err := s.StartVerification(ctx, binding.Start{Verification: v, Now: base}); !errors.Is(err, binding.ErrStale) {
			t.Fatalf("%s request holding the bound number, against a profile version that is not there: err = %v, want ErrStale", v.Purpose, err)
		}
		if snap := snapshot(t, s, v.AccountID, 0); snap.Verification != nil {
			t.Fatalf("refused %s request stored: %+v", v.Purpose, snap.Verification)
		}
	}
}

// sharedCounterItems: an account's codes of the hour and its wrong codes of
// the day (and a number's codes and wrong codes of the day) may share an
// item; each still holds its own count and its own ceiling.
func sharedCounterItems(t *testing.T, s subject) {
	a := account("shared")
	mac := "hmac-" + a
	day := time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, time.UTC)
	codes := binding.Counter{Name: binding.LimitAccountHour, Subject: a, WindowStart: base.Truncate(time.Hour), Period: time.Hour, Max: 2}
	phone := binding.Counter{Name: binding.LimitPhoneDay, Subject: mac, WindowStart: day, Period: 24 * time.Hour, Max: 5}
	fails := []binding.Counter{
		{Name: binding.LimitFailuresAccount, Subject: a, WindowStart: day, Period: 24 * time.Hour, Max: 2},
		{Name: binding.LimitFailuresPhone, Subject: mac, WindowStart: day, Period: 24 * time.Hour, Max: 2},
	}
	st := func(id string, now time.Time) error {
		return s.StartVerification(ctx, binding.Start{Verification: verification(a, id, sealed("1234567899"), 0, binding.SealedPhone{}),
			Counters: []binding.Counter{codes, phone}, Checks: fails, Now: now})
	}
	if err := st("v1", base); err != nil {
		t.Fatal(err)
	}
	// One wrong code of the day is below its ceiling of two.
	if err := s.CountFailures(ctx, fails); err != nil {
		t.Fatal(err)
	}
	if err := st("v2", base.Add(2*time.Minute)); err != nil {
		t.Fatalf("second code, one wrong code counted: %v", err)
	}
	// The hour's codes are at their ceiling of two; the wrong codes are not.
	var full *binding.LimitError
	if err := st("v3", base.Add(4*time.Minute)); !errors.As(err, &full) || full.Counter.Name != binding.LimitAccountHour {
		t.Fatalf("third code in the hour: err = %v, want LimitError on %s", err, binding.LimitAccountHour)
	}
	// The next hour has its own count, in the same day.
	next := codes
	next.WindowStart = codes.WindowStart.Add(time.Hour)
	later := base.Add(time.Hour)
	err := s.StartVerification(ctx, binding.Start{Verification: verification(a, "v4", sealed("1234567899"), 0, binding.SealedPhone{}),
		Counters: []binding.Counter{next, phone}, Checks: fails, Now: later})
	if err != nil {
		t.Fatalf("first code of the next hour: %v", err)
	}
	// A second wrong code reaches the day's ceiling: no code in any hour.
	if err := s.CountFailures(ctx, fails); err != nil {
		t.Fatal(err)
	}
	next.WindowStart = next.WindowStart.Add(time.Hour)
	err = s.StartVerification(ctx, binding.Start{Verification: verification(a, "v5", sealed("1234567899"), 0, binding.SealedPhone{}),
		Counters: []binding.Counter{next, phone}, Checks: fails, Now: later.Add(time.Hour)})
	if !errors.As(err, &full) || (full.Counter.Name != binding.LimitFailuresAccount && full.Counter.Name != binding.LimitFailuresPhone) {
		t.Fatalf("code after two wrong codes of the day: err = %v, want a failures LimitError", err)
	}
}

// globalCap: the global daily cap is never exceeded, even spread over
// several code requests of one store.
func globalCap(t *testing.T, s subject) {
	day := time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, time.UTC)
	// A subject of its own keeps runs sharing one table apart.
	global := binding.Counter{Name: binding.LimitGlobalDay, Subject: account("all"), WindowStart: day, Period: 24 * time.Hour, Max: 3}
	ok := 0
	var first binding.Start
	for i := range 5 {
		st := binding.Start{Verification: verification(account("global"), fmt.Sprintf("g%d", i), sealed("1234567898"), 0, binding.SealedPhone{}),
			Counters: []binding.Counter{global}, Now: base}
		err := s.StartVerification(ctx, st)
		var full *binding.LimitError
		switch {
		case err == nil:
			if ok == 0 {
				first = st
			}
			ok++
		case errors.As(err, &full) && full.Counter.Name == binding.LimitGlobalDay:
		default:
			t.Fatalf("code %d: %v", i, err)
		}
	}
	if ok != 3 {
		t.Fatalf("%d codes under a global cap of 3, want 3", ok)
	}
	// A code given back (its send failed) may be issued again, once.
	if err := s.CancelVerification(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := func(id string) error {
		return s.StartVerification(ctx, binding.Start{Verification: verification(account("global"), id, sealed("1234567898"), 0, binding.SealedPhone{}),
			Counters: []binding.Counter{global}, Now: base})
	}
	if err := again("gy"); err != nil {
		t.Fatalf("code after one was given back: %v", err)
	}
	if err := again("gz"); err == nil {
		t.Fatal("a code passed the cap after the given-back one was reissued")
	}
}

func cancelGivesBack(t *testing.T, s subject) {
	a := account("cancel")
	c := counter(binding.LimitAccountHour, a, 1)
	st := binding.Start{Verification: verification(a, "v1", sealed("1234567807"), 0, binding.SealedPhone{}), Counters: []binding.Counter{c}, Now: base}
	if err := s.StartVerification(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := s.CancelVerification(ctx, st); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if snap := snapshot(t, s, a, 0); snap.Verification != nil {
		t.Fatal("cancelled verification still there")
	}
	// Neither cooldown nor the counter holds the next request back.
	start(t, s, verification(a, "v2", sealed("1234567807"), 0, binding.SealedPhone{}), base, c)
	// Cancelling a start that was already replaced leaves the new one.
	if err := s.CancelVerification(ctx, binding.Start{Verification: verification(a, "v1", sealed("1234567807"), 0, binding.SealedPhone{}), Now: base}); err != nil {
		t.Fatalf("cancel of a replaced start: %v", err)
	}
	if snap := snapshot(t, s, a, 0); snap.Verification == nil || snap.Verification.ID != "v2" {
		t.Fatal("cancelling an old start removed the current verification")
	}
}

func countAttempt(t *testing.T, s subject) {
	a := account("attempt")
	if _, err := s.CountAttempt(ctx, a, "nope", binding.PurposeBind, base); !errors.Is(err, binding.ErrVerificationNotFound) {
		t.Fatalf("no verification: err = %v", err)
	}
	v := verification(a, "v1", sealed("1234567808"), 0, binding.SealedPhone{})
	v.MaxAttempts = 3
	start(t, s, v, base)
	if _, err := s.CountAttempt(ctx, a, "other", binding.PurposeBind, base); !errors.Is(err, binding.ErrVerificationNotFound) {
		t.Fatalf("wrong id: err = %v", err)
	}
	if _, err := s.CountAttempt(ctx, account("stranger"), "v1", binding.PurposeBind, base); !errors.Is(err, binding.ErrVerificationNotFound) {
		t.Fatalf("another account's id: err = %v", err)
	}
	// A bind code sent to the unbind route is told so and spends nothing.
	var mismatch *binding.PurposeMismatchError
	if _, err := s.CountAttempt(ctx, a, "v1", binding.PurposeUnbind, base); !errors.As(err, &mismatch) || mismatch.Purpose != binding.PurposeBind {
		t.Fatalf("another purpose: err = %v, want the purpose mismatch", err)
	}
	if snap := snapshot(t, s, a, 0); snap.Verification.Attempts != 0 {
		t.Fatal("an attempt on the wrong route was counted")
	}
	for i := 1; i <= 3; i++ {
		got, err := s.CountAttempt(ctx, a, "v1", binding.PurposeBind, base.Add(time.Second))
		if err != nil || got.Attempts != i || got.CodeHMAC != v.CodeHMAC {
			t.Fatalf("attempt %d: %+v, %v", i, got, err)
		}
	}
	if _, err := s.CountAttempt(ctx, a, "v1", binding.PurposeBind, base.Add(time.Second)); !errors.Is(err, binding.ErrAttemptsExceeded) {
		t.Fatalf("attempt past max: err = %v", err)
	}
	b := account("expiry")
	start(t, s, verification(b, "v2", sealed("1234567809"), 0, binding.SealedPhone{}), base)
	if _, err := s.CountAttempt(ctx, b, "v2", binding.PurposeBind, base.Add(5*time.Minute)); !errors.Is(err, binding.ErrCodeExpired) {
		t.Fatalf("attempt at expiry: err = %v", err)
	}
	if snap := snapshot(t, s, b, 0); snap.Verification.Attempts != 0 {
		t.Fatal("an expired attempt was counted")
	}
}

func completeBindAndChange(t *testing.T, s subject) {
	a := account("bind")
	first := sealed("1234567810")
	v := verification(a, "v1", first, 0, binding.SealedPhone{})
	start(t, s, v, base)
	counted, err := s.CountAttempt(ctx, a, "v1", binding.PurposeBind, base.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteBind(ctx, completion(counted, base.Add(2*time.Second))); err != nil {
		t.Fatalf("complete bind: %v", err)
	}
	if err := s.CompleteBind(ctx, completion(counted, base.Add(3*time.Second))); !errors.Is(err, binding.ErrVerificationUsed) {
		t.Fatalf("second completion: err = %v, want ErrVerificationUsed", err)
	}
	if _, err := s.CountAttempt(ctx, a, "v1", binding.PurposeBind, base.Add(3*time.Second)); !errors.Is(err, binding.ErrVerificationUsed) {
		t.Fatalf("attempt on a used verification: err = %v", err)
	}
	snap := snapshot(t, s, a, 20)
	p := snap.Profile
	if p.Phone != first || p.Version != 1 || !p.BoundAt.Equal(base.Add(2*time.Second)) || p.Consent.Version != "2026-01" {
		t.Fatalf("profile after bind = %+v", p)
	}
	if snap.Verification.State != binding.RequestCompleted || snap.Verification.CodeHMAC != "" {
		t.Fatalf("verification after bind = %+v (code HMAC must be gone)", snap.Verification)
	}
	if owner(t, s, first.HMAC) != a {
		t.Fatal("bound number not claimed")
	}

	second := sealed("1234567811")
	later := base.Add(40 * 24 * time.Hour)
	w := verification(a, "v2", second, 1, first)
	w.CreatedAt, w.ExpiresAt, w.ResendAfter = later, later.Add(5*time.Minute), later.Add(time.Minute)
	start(t, s, w, later)
	counted, err = s.CountAttempt(ctx, a, "v2", binding.PurposeBind, later)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteBind(ctx, completion(counted, later.Add(time.Second))); err != nil {
		t.Fatalf("complete change: %v", err)
	}
	if owner(t, s, first.HMAC) != "" {
		t.Fatal("old number not released by the change")
	}
	if owner(t, s, second.HMAC) != a {
		t.Fatal("new number not claimed by the change")
	}
	snap = snapshot(t, s, a, 20)
	if snap.Profile.Phone != second || snap.Profile.Version != 2 {
		t.Fatalf("profile after change = %+v", snap.Profile)
	}
	if len(snap.History) != 2 || snap.History[0].Event != binding.EventChanged || snap.History[1].Event != binding.EventBound ||
		snap.History[0].Phone != second.Masked || snap.History[0].SourceIP != "203.0.113.7" || snap.History[0].Actor != "user" {
		t.Fatalf("history = %+v", snap.History)
	}
}

func phoneTakenWritesNothing(t *testing.T, s subject) {
	a, b := account("holder"), account("taker")
	n := sealed("1234567812")
	va := verification(a, "va", n, 0, binding.SealedPhone{})
	start(t, s, va, base)
	if err := s.CompleteBind(ctx, completion(va, base)); err != nil {
		t.Fatal(err)
	}
	vb := verification(b, "vb", n, 0, binding.SealedPhone{})
	start(t, s, vb, base)
	if err := s.CompleteBind(ctx, completion(vb, base)); !errors.Is(err, binding.ErrPhoneTaken) {
		t.Fatalf("claiming a taken number: err = %v, want ErrPhoneTaken", err)
	}
	snap := snapshot(t, s, b, 20)
	if snap.Profile.Bound() || len(snap.History) != 0 || snap.Verification.State != binding.RequestPending {
		t.Fatalf("refused claim left state behind: %+v", snap)
	}
	if owner(t, s, n.HMAC) != a {
		t.Fatal("number moved off its holder")
	}
}

func staleProfileOnComplete(t *testing.T, s subject) {
	a := account("stale-complete")
	v := verification(a, "v1", sealed("1234567813"), 0, binding.SealedPhone{})
	start(t, s, v, base)
	v.ProfileVersion = 7 // as if the request had seen another profile
	if err := s.CompleteBind(ctx, completion(v, base)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("complete against a moved profile: err = %v, want ErrStale", err)
	}
	if owner(t, s, "hmac-1234567813") != "" {
		t.Fatal("stale completion claimed the number")
	}
}

func reject(t *testing.T, s subject) {
	a := account("reject")
	start(t, s, verification(a, "v1", sealed("1234567814"), 0, binding.SealedPhone{}), base)
	if err := s.RejectVerification(ctx, a, "v1", binding.ReasonPhoneTaken, base); err != nil {
		t.Fatal(err)
	}
	v := snapshot(t, s, a, 0).Verification
	if v.State != binding.RequestRejected || v.Reason != binding.ReasonPhoneTaken || v.CodeHMAC != "" {
		t.Fatalf("rejected verification = %+v", v)
	}
	if _, err := s.CountAttempt(ctx, a, "v1", binding.PurposeBind, base); !errors.Is(err, binding.ErrVerificationUsed) {
		t.Fatalf("attempt on a rejected verification: err = %v", err)
	}
	if err := s.RejectVerification(ctx, a, "v1", binding.ReasonSuperseded, base); err != nil {
		t.Fatalf("rejecting twice: %v", err)
	}
	if v := snapshot(t, s, a, 0).Verification; v.Reason != binding.ReasonPhoneTaken {
		t.Fatalf("second reject changed the reason to %q", v.Reason)
	}
}

func historyNewestFirst(t *testing.T, s subject) {
	a := account("history")
	var prev binding.SealedPhone
	for i := 0; i < 23; i++ {
		n := sealed(fmt.Sprintf("12345679%02d", i))
		at := base.Add(time.Duration(i) * time.Hour)
		v := verification(a, fmt.Sprintf("v%d", i), n, int64(i), prev)
		v.ResendAfter = at
		start(t, s, v, at)
		if err := s.CompleteBind(ctx, completion(v, at)); err != nil {
			t.Fatalf("bind %d: %v", i, err)
		}
		prev = n
	}
	snap := snapshot(t, s, a, 20)
	if len(snap.History) != 20 {
		t.Fatalf("history has %d entries, want the newest 20", len(snap.History))
	}
	for i, h := range snap.History {
		if want := base.Add(time.Duration(22-i) * time.Hour); !h.At.Equal(want) {
			t.Fatalf("history[%d].At = %s, want %s", i, h.At, want)
		}
	}
	if snap.Profile.Version != 23 || snap.Verification == nil {
		t.Fatalf("snapshot with history lost profile or verification: %+v", snap.Profile)
	}
}

func concurrentAttempts(t *testing.T, s subject) {
	a := account("guess")
	start(t, s, verification(a, "v1", sealed("1234567815"), 0, binding.SealedPhone{}), base)
	counted, _ := race(t, 40, binding.ErrAttemptsExceeded, func(int) error {
		_, err := s.CountAttempt(ctx, a, "v1", binding.PurposeBind, base)
		return err
	})
	if counted != 5 {
		t.Fatalf("40 concurrent attempts counted %d, want exactly 5", counted)
	}
}

func concurrentClaims(t *testing.T, s subject) {
	n := sealed("1234567816")
	accounts := []string{account("race-a"), account("race-b"), account("race-c")}
	var vs []binding.Verification
	for i, a := range accounts {
		v := verification(a, fmt.Sprintf("v%d", i), n, 0, binding.SealedPhone{})
		start(t, s, v, base)
		vs = append(vs, v)
	}
	won, taken := race(t, len(vs), binding.ErrPhoneTaken, func(i int) error {
		return s.CompleteBind(ctx, completion(vs[i], base))
	})
	if won != 1 || taken != 2 {
		t.Fatalf("3 accounts claiming one number: %d won, %d taken; want 1 and 2", won, taken)
	}
	holder := owner(t, s, n.HMAC)
	bound := 0
	for _, a := range accounts {
		if snapshot(t, s, a, 0).Profile.Bound() {
			bound++
			if a != holder {
				t.Fatalf("account %s is bound but the claim is %s's", a, holder)
			}
		}
	}
	if bound != 1 {
		t.Fatalf("%d accounts bound to one number", bound)
	}
}

func completeUnbind(t *testing.T, s subject) {
	a, b := account("unbind"), account("rebind")
	n := sealed("1234567817")
	v := verification(a, "v1", n, 0, binding.SealedPhone{})
	start(t, s, v, base)
	if err := s.CompleteBind(ctx, completion(v, base)); err != nil {
		t.Fatal(err)
	}
	profile := snapshot(t, s, a, 0).Profile
	u := verification(a, "u1", n, profile.Version, binding.SealedPhone{})
	u.Purpose = binding.PurposeUnbind
	u.ResendAfter = base.Add(2 * time.Minute)
	start(t, s, u, base.Add(time.Minute))
	unbinding := binding.Unbinding{
		Verification: &u,
		Profile:      profile,
		History:      binding.HistoryEntry{At: base.Add(time.Minute), Event: binding.EventUnbound, Phone: n.Masked, Actor: "user", Channel: binding.ChannelSMS},
		Now:          base.Add(time.Minute),
	}
	stale := unbinding
	stale.Profile.Version = 9
	if err := s.CompleteUnbind(ctx, stale); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("unbind against a moved profile: err = %v, want ErrStale", err)
	}
	if err := s.CompleteUnbind(ctx, unbinding); err != nil {
		t.Fatalf("unbind: %v", err)
	}
	if err := s.CompleteUnbind(ctx, unbinding); !errors.Is(err, binding.ErrVerificationUsed) {
		t.Fatalf("second unbind with one code: err = %v, want ErrVerificationUsed", err)
	}
	snap := snapshot(t, s, a, 20)
	if snap.Profile.Bound() || snap.Profile.Version != profile.Version+1 || !snap.Profile.BoundAt.IsZero() || snap.Profile.Consent.Version != "" {
		t.Fatalf("profile after unbind = %+v", snap.Profile)
	}
	if snap.Verification.State != binding.RequestCompleted || len(snap.History) != 2 || snap.History[0].Event != binding.EventUnbound {
		t.Fatalf("after unbind: verification %+v, history %+v", snap.Verification, snap.History)
	}
	if owner(t, s, n.HMAC) != "" {
		t.Fatal("unbind did not release the number")
	}
	// A support unbind (no verification) of an account whose number is gone
	// already is stale, not a second release.
	again := binding.Unbinding{Profile: profile, History: unbinding.History, Now: base.Add(2 * time.Minute)}
	if err := s.CompleteUnbind(ctx, again); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("unbinding twice: err = %v, want ErrStale", err)
	}
	// The released number is free for anyone at once.
	w := verification(b, "w1", n, 0, binding.SealedPhone{})
	start(t, s, w, base.Add(time.Minute))
	if err := s.CompleteBind(ctx, completion(w, base.Add(time.Minute))); err != nil {
		t.Fatalf("binding a released number: %v", err)
	}
}

// failureChecksAndReset: Checks hold a new code back without spending, and
// a commit's Reset clears them.
func failureChecksAndReset(t *testing.T, s subject) {
	a := account("failures")
	fails := []binding.Counter{counter("failures_account_day", a, 2), counter("failures_phone_day", "hmac-"+a, 2)}
	if err := s.CountFailures(ctx, fails); err != nil {
		t.Fatal(err)
	}
	v := verification(a, "v1", sealed("1234567820"), 0, binding.SealedPhone{})
	// One failure each, under 2: the check passes and spends nothing.
	if err := s.StartVerification(ctx, binding.Start{Verification: v, Checks: fails, Now: base}); err != nil {
		t.Fatalf("under the ceiling: %v", err)
	}
	if err := s.CountFailures(ctx, fails[:1]); err != nil {
		t.Fatal(err)
	}
	v2 := verification(a, "v2", sealed("1234567820"), 0, binding.SealedPhone{})
	err := s.StartVerification(ctx, binding.Start{Verification: v2, Checks: fails, Now: base.Add(2 * time.Minute)})
	var full *binding.LimitError
	if !errors.As(err, &full) || full.Counter.Name != "failures_account_day" {
		t.Fatalf("at the ceiling: err = %v, want the account's failure limit", err)
	}
	if snapshot(t, s, a, 0).Verification.ID != "v1" {
		t.Fatal("a refused start wrote its verification")
	}
	c := completion(v, base.Add(time.Minute))
	c.Reset = fails
	if err := s.CompleteBind(ctx, c); err != nil {
		t.Fatal(err)
	}
	v3 := verification(a, "v3", sealed("1234567821"), 1, binding.SealedPhone{})
	if err := s.StartVerification(ctx, binding.Start{Verification: v3, Checks: fails, Now: base.Add(3 * time.Minute)}); err != nil {
		t.Fatalf("after a reset: %v", err)
	}
}

// onlyNamedChecksHold: a store holds a start to the checks it is handed and
// to no others. A number's wrong codes share an item with its codes of the
// day (DynamoDB); when the domain leaves the number's failure count out
// (its owner asks: binding's failureChecks), a count over the ceiling on
// that item must not refuse the owner's code, and must refuse anyone else's.
func onlyNamedChecksHold(t *testing.T, s subject) {
	owner, stranger := account("owner"), account("stranger")
	mac := "hmac-" + owner
	day := time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, time.UTC)
	daily := func(name, subject string) binding.Counter {
		return binding.Counter{Name: name, Subject: subject, WindowStart: day, Period: 24 * time.Hour, Max: 3}
	}
	numberFails := daily(binding.LimitFailuresPhone, mac)
	for range 4 {
		if err := s.CountFailures(ctx, []binding.Counter{daily(binding.LimitFailuresAccount, stranger), numberFails}); err != nil {
			t.Fatal(err)
		}
	}
	codes := daily(binding.LimitPhoneDay, mac)
	var full *binding.LimitError
	err := s.StartVerification(ctx, binding.Start{Verification: verification(stranger, "v1", sealed("1234567830"), 0, binding.SealedPhone{}),
		Counters: []binding.Counter{codes}, Checks: []binding.Counter{numberFails}, Now: base})
	if !errors.As(err, &full) || full.Counter.Name != binding.LimitFailuresPhone {
		t.Fatalf("a code with the number's failures over the ceiling: err = %v, want LimitError on %s", err, binding.LimitFailuresPhone)
	}
	err = s.StartVerification(ctx, binding.Start{Verification: verification(owner, "v1", sealed("1234567830"), 0, binding.SealedPhone{}),
		Counters: []binding.Counter{codes}, Checks: []binding.Counter{daily(binding.LimitFailuresAccount, owner)}, Now: base})
	if err != nil {
		t.Fatalf("a code that is not held to the number's failures: %v", err)
	}
}

// unbindLeavesNoCiphertext: after an unbind (by code or by support) no
// verification still holds the number's ciphertext.
func unbindLeavesNoCiphertext(t *testing.T, s subject) {
	for _, bySupport := range []bool{false, true} {
		a := account("scrub")
		n := sealed("1234567830")
		v := verification(a, "v1", n, 0, binding.SealedPhone{})
		start(t, s, v, base)
		if err := s.CompleteBind(ctx, completion(v, base)); err != nil {
			t.Fatal(err)
		}
		profile := snapshot(t, s, a, 0).Profile
		u := binding.Unbinding{Profile: profile, History: binding.HistoryEntry{At: base.Add(time.Minute), Event: binding.EventSupportUnbound, Phone: n.Masked, Actor: "support:x", Channel: binding.ChannelSupport}, Now: base.Add(time.Minute)}
		if !bySupport {
			uv := verification(a, "u1", n, profile.Version, binding.SealedPhone{})
			uv.Purpose = binding.PurposeUnbind
			start(t, s, uv, base.Add(2*time.Minute))
			u.Verification = &uv
			u.Now = base.Add(2 * time.Minute)
		}
		if err := s.CompleteUnbind(ctx, u); err != nil {
			t.Fatal(err)
		}
		snap := snapshot(t, s, a, 20)
		if w := snap.Verification; w != nil && (w.Destination.Ciphertext != "" || w.Previous.Ciphertext != "") {
			t.Fatalf("support=%v: verification keeps a ciphertext: %+v", bySupport, w)
		}
	}
}

func sequenceRoundTrips(t *testing.T, s subject) {
	a := account("seq")
	v := verification(a, "v1", sealed("1234567840"), 0, binding.SealedPhone{})
	v.Sequence = 4
	v.SentTo = "a***@example.org"
	start(t, s, v, base)
	got := snapshot(t, s, a, 0).Verification
	if got.Sequence != 4 || got.SentTo != "a***@example.org" {
		t.Fatalf("read back %+v", got)
	}
}
