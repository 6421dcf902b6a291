package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of the due-removals list the completion job reads, run by Run.
var dueCases = []contractCase[subject]{
	{"DueHoldsListed", dueHoldsListed},
	{"DueJobRacesCancel", dueJobRacesCancel},
}

// dueList is DueUnbinds at now, read until it settles on want: the
// DynamoDB adapter reads an eventually consistent index.
func dueList(t *testing.T, s subject, now time.Time, want func([]string) bool) []string {
	t.Helper()
	var got []string
	for try := 0; try < 50; try++ {
		var err error
		if got, err = s.DueUnbinds(ctx, now, 1000); err != nil {
			t.Fatalf("due unbinds: %v", err)
		}
		if want(got) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	return got
}

// dueHoldsListed: a hold is listed from its effective instant on, not a
// millisecond before; a cancelled one is not; a completed one is not
// listed again, nor one ended by an SMS unbind.
func dueHoldsListed(t *testing.T, s subject) {
	due, p := scheduled(t, s, "due", sealed("9990001880"))
	cancelled, c := scheduled(t, s, "cancelled", sealed("9990001881"))
	smsEnded, q := scheduled(t, s, "sms-ended", sealed("9990001882"))
	if err := s.CancelUnbind(ctx, cancel(c, holdAt.Add(-time.Minute))); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if err := s.CompleteUnbind(ctx, binding.Unbinding{Profile: q, Now: holdAt.Add(-time.Minute),
		History: binding.HistoryEntry{ID: "sms-" + smsEnded, At: holdAt.Add(-time.Minute), Event: binding.EventUnbound, Phone: q.Phone.Masked, Actor: "user", Channel: binding.ChannelSMS}}); err != nil {
		t.Fatalf("SMS unbind during the hold: %v", err)
	}
	has := func(id string) func([]string) bool { return func(l []string) bool { return slices.Contains(l, id) } }
	if got := dueList(t, s, holdAt.Add(-time.Millisecond), func([]string) bool { return true }); slices.Contains(got, due) {
		t.Fatalf("listed a millisecond before its time: %v", got)
	}
	got := dueList(t, s, holdAt, has(due))
	if !slices.Contains(got, due) || slices.Contains(got, cancelled) || slices.Contains(got, smsEnded) {
		t.Fatalf("due at its time = %v; want %s, not the cancelled %s nor the SMS-ended %s", got, due, cancelled, smsEnded)
	}
	if err := s.LapseUnbind(ctx, lapse(p, holdAt)); err != nil {
		t.Fatalf("lapse: %v", err)
	}
	if got := dueList(t, s, holdAt.Add(time.Hour), func(l []string) bool { return !slices.Contains(l, due) }); slices.Contains(got, due) {
		t.Fatalf("a completed hold listed again: %v", got)
	}
}

// dueJobRacesCancel: the job (list, then lapse at the effective instant)
// and a cancel from an instance whose clock is a millisecond behind, at
// once, many times over: exactly one wins, and afterwards the hold is
// listed no more.
func dueJobRacesCancel(t *testing.T, s subject) {
	for i := range 6 {
		a, p := scheduled(t, s, "job", sealed("99900019"+string(rune('0'+i))+"9"))
		dueList(t, s, holdAt, func(l []string) bool { return slices.Contains(l, a) })
		var cancelErr, lapseErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); cancelErr = s.CancelUnbind(ctx, cancel(p, holdAt.Add(-time.Millisecond))) }()
		go func() {
			defer wg.Done()
			ids, err := s.DueUnbinds(ctx, holdAt, 1000)
			if err != nil {
				lapseErr = err
				return
			}
			if !slices.Contains(ids, a) {
				lapseErr = binding.ErrStale // the cancel came first and the index knew
				return
			}
			lapseErr = s.LapseUnbind(ctx, lapse(p, holdAt))
		}()
		wg.Wait()
		snap := snapshot(t, s, a, 20)
		switch {
		case cancelErr == nil && errors.Is(lapseErr, binding.ErrStale):
			if !snap.Profile.Bound() || !snap.Profile.UnbindAt.IsZero() || snap.History[0].Event != binding.EventUnbindCancelled {
				t.Fatalf("cancel won but: profile %+v, history %+v", snap.Profile, snap.History)
			}
		case lapseErr == nil && errors.Is(cancelErr, binding.ErrStale):
			if snap.Profile.Bound() || snap.History[0].Event != binding.EventUnbound {
				t.Fatalf("the job won but: profile %+v, history %+v", snap.Profile, snap.History)
			}
		default:
			t.Fatalf("cancel: %v, job: %v; want exactly one to win", cancelErr, lapseErr)
		}
		if got := dueList(t, s, holdAt.Add(time.Hour), func(l []string) bool { return !slices.Contains(l, a) }); slices.Contains(got, a) {
			t.Fatalf("still listed after the race: %v", got)
		}
	}
}
