package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of counters spent without a ceiling (binding.Start.Tallies), run by
// Run.
var tallyCases = []contractCase[subject]{
	{"TalliesCountedNotHeld", talliesCountedNotHeld},
}

// talliesCountedNotHeld: a number's codes of the day at their ceiling
// refuse a code that spends them, not one that only tallies them; the
// tally is counted (the next spender is still refused, and past the
// ceiling), checks on the same item still hold the tallying start, and
// a cancel gives the tally back.
func talliesCountedNotHeld(t *testing.T, s subject) {
	day := time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, time.UTC)
	mac := "hmac-tally-" + account("n")
	phoneDay := binding.Counter{Name: binding.LimitPhoneDay, Subject: mac, WindowStart: day, Period: 24 * time.Hour, Max: 2}
	failures := binding.Counter{Name: binding.LimitFailuresPhone, Subject: mac, WindowStart: day, Period: 24 * time.Hour, Max: 1}
	n := sealed("9990002870")
	for _, name := range []string{"a", "b"} {
		start(t, s, verification(account(name), "v-"+name, n, 0, binding.SealedPhone{}), base, phoneDay)
	}
	refusedBy := func(err error, want string) {
		t.Helper()
		var full *binding.LimitError
		if !errors.As(err, &full) || full.Counter.Name != want {
			t.Fatalf("err = %v, want LimitError on %s", err, want)
		}
	}
	c := account("c")
	refusedBy(s.StartVerification(ctx, binding.Start{Verification: verification(c, "v-c", n, 0, binding.SealedPhone{}), Counters: []binding.Counter{phoneDay}, Now: base}), binding.LimitPhoneDay)

	owner := account("owner")
	tally := binding.Start{Verification: verification(owner, "v-o", n, 0, binding.SealedPhone{}), Tallies: []binding.Counter{phoneDay}, Now: base}
	if err := s.StartVerification(ctx, tally); err != nil {
		t.Fatalf("a tally at the ceiling: %v", err)
	}
	if snap := snapshot(t, s, owner, 0); snap.Verification == nil || snap.Verification.ID != "v-o" {
		t.Fatalf("the tallying start wrote %+v", snap.Verification)
	}
	// Counted: with the ceiling raised by one, a spender is still refused.
	raised := phoneDay
	raised.Max = 3
	refusedBy(s.StartVerification(ctx, binding.Start{Verification: verification(c, "v-c2", n, 0, binding.SealedPhone{}), Counters: []binding.Counter{raised}, Now: base}), binding.LimitPhoneDay)

	// A check on the same item still holds a tallying start.
	if err := s.CountFailures(ctx, []binding.Counter{failures}); err != nil {
		t.Fatal(err)
	}
	late := base.Add(2 * time.Minute)
	checked := binding.Start{Verification: verification(owner, "v-o2", n, 0, binding.SealedPhone{}), Tallies: []binding.Counter{phoneDay}, Checks: []binding.Counter{failures}, Now: late}
	refusedBy(s.StartVerification(ctx, checked), binding.LimitFailuresPhone)

	// Given back by a cancel: three codes, and the raised ceiling takes one.
	if err := s.CancelVerification(ctx, tally); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	start(t, s, verification(c, "v-c3", n, 0, binding.SealedPhone{}), late, raised)
}
