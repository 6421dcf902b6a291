package storetest

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of the due-removals list the completion job reads, run by Run.
var dueCases = []contractCase[subject]{
	{"DueHoldsListed", dueHoldsListed},
	{"DueJobRacesCancel", dueJobRacesCancel},
	{"HeldOutboxOutlivesTheProfile", heldOutboxOutlivesTheProfile},
	{"NoticeTakenOnce", noticeTakenOnce},
	{"NoCodeToADueHold", noCodeToADueHold},
}

// dueList is the accounts of DueUnbinds at now, read until it settles on
// want: the DynamoDB adapter reads an eventually consistent index.
func dueList(t *testing.T, s subject, now time.Time, want func([]string) bool) []string {
	t.Helper()
	var got []string
	for try := 0; try < 50; try++ {
		got = dueAccounts(t, s, now)
		if want(got) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	return got
}

func dueAccounts(t *testing.T, s subject, now time.Time) []string {
	t.Helper()
	holds, err := s.DueUnbinds(ctx, now, 1000)
	if err != nil {
		t.Fatalf("due unbinds: %v", err)
	}
	var out []string
	for _, h := range holds {
		if h.UnbindID != "lapse-"+h.AccountID {
			t.Fatalf("listed %+v: unbind id is not the one scheduled", h)
		}
		out = append(out, h.AccountID)
	}
	return out
}

// tellAll takes and ends the telling of a's lapsed hold, as the job does.
func tellAll(t *testing.T, s subject, a string, now time.Time) binding.HoldNotice {
	t.Helper()
	h := binding.DueHold{AccountID: a, UnbindID: "lapse-" + a}
	n, err := s.TakeNotice(ctx, h, now, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("take notice: %v", err)
	}
	if err := s.NoticeSent(ctx, h, now.Add(time.Minute)); err != nil {
		t.Fatalf("notice sent: %v", err)
	}
	return n
}

// dueHoldsListed: a hold is listed from its effective instant on, not a
// millisecond before; a cancelled one is not, nor one ended by an SMS
// unbind; a completed one stays listed until it is told of (its HELD
// item is the outbox), and not after.
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
	if got := dueList(t, s, holdAt.Add(time.Hour), has(due)); !slices.Contains(got, due) {
		t.Fatalf("a completed hold not yet told of is not listed: %v", got)
	}
	tellAll(t, s, due, holdAt.Add(time.Hour))
	if got := dueList(t, s, holdAt.Add(time.Hour), func(l []string) bool { return !slices.Contains(l, due) }); slices.Contains(got, due) {
		t.Fatalf("a told hold listed again: %v", got)
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
			holds, err := s.DueUnbinds(ctx, holdAt, 1000)
			if err != nil {
				lapseErr = err
				return
			}
			if !slices.Contains(holds, binding.DueHold{AccountID: a, UnbindID: p.UnbindID}) {
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
			tellAll(t, s, a, holdAt)
		default:
			t.Fatalf("cancel: %v, job: %v; want exactly one to win", cancelErr, lapseErr)
		}
		if got := dueList(t, s, holdAt.Add(time.Hour), func(l []string) bool { return !slices.Contains(l, a) }); slices.Contains(got, a) {
			t.Fatalf("still listed after the race: %v", got)
		}
	}
}

// heldOutboxOutlivesTheProfile: a lapsed hold's HELD item keeps what to
// tell (the number, the address kept, when) through the account's next
// whole-profile write (a new bind); it cannot be taken before the lapse
// nor after it is told, and a number bound by another account meanwhile
// is reported Rebound.
func heldOutboxOutlivesTheProfile(t *testing.T, s subject) {
	n := sealed("9990001890")
	a, p := bound(t, s, "outbox", n)
	u := unbindCode(a, "u1", n, p.Version, binding.ChannelEmail)
	now := base.Add(time.Minute)
	start(t, s, u, now)
	kept := sealedEmail("outbox")
	if err := s.ScheduleUnbind(ctx, binding.Hold{Verification: u, UnbindAt: holdAt, UnbindID: "lapse-" + a, Email: &kept, Now: now,
		History: binding.HistoryEntry{ID: "sched-" + a, At: now, Event: binding.EventUnbindScheduled, Phone: n.Masked, Actor: "user", Channel: binding.ChannelEmail}}); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	h := binding.DueHold{AccountID: a, UnbindID: "lapse-" + a}
	if _, err := s.TakeNotice(ctx, h, holdAt, holdAt.Add(time.Minute)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("notice taken before the lapse: err = %v, want ErrStale", err)
	}
	p = snapshot(t, s, a, 0).Profile
	if err := s.LapseUnbind(ctx, lapse(p, holdAt)); err != nil {
		t.Fatalf("lapse: %v", err)
	}
	// Another account binds the number, then this account binds a new one.
	other := account("outbox-other")
	ov := verification(other, "b1", n, 0, binding.SealedPhone{})
	start(t, s, ov, holdAt.Add(time.Second))
	if err := s.CompleteBind(ctx, completion(ov, holdAt.Add(time.Second))); err != nil {
		t.Fatalf("another account binds the freed number: %v", err)
	}
	next := sealed("9990001891")
	v := verification(a, "b2", next, p.Version+1, binding.SealedPhone{})
	start(t, s, v, holdAt.Add(2*time.Second))
	if err := s.CompleteBind(ctx, completion(v, holdAt.Add(2*time.Second))); err != nil {
		t.Fatalf("the account binds a new number: %v", err)
	}
	got := tellAll(t, s, a, holdAt.Add(time.Minute))
	want := binding.HoldNotice{AccountID: a, UnbindID: "lapse-" + a, UnbindAt: holdAt, Phone: n, Email: kept, Rebound: true}
	if got != want {
		t.Fatalf("notice after a new bind = %+v, want %+v", got, want)
	}
	if _, err := s.TakeNotice(ctx, h, holdAt.Add(time.Hour), holdAt.Add(2*time.Hour)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("notice taken again after it was sent: err = %v, want ErrStale", err)
	}
}

// noticeTakenOnce: tellers racing for one lapsed hold (real goroutines):
// exactly one takes it; nobody else until its lease ends; a teller whose
// lease ran out and was taken over cannot delete the item under the new
// one, who can.
func noticeTakenOnce(t *testing.T, s subject) {
	a, p := scheduled(t, s, "notice-once", sealed("9990001892"))
	if err := s.LapseUnbind(ctx, lapse(p, holdAt)); err != nil {
		t.Fatalf("lapse: %v", err)
	}
	h := binding.DueHold{AccountID: a, UnbindID: "lapse-" + a}
	until := holdAt.Add(time.Minute)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch _, err := s.TakeNotice(ctx, h, holdAt, until); {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, binding.ErrStale):
				t.Errorf("take notice: %v", err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d tellers took the notice, want 1", won.Load())
	}
	if _, err := s.TakeNotice(ctx, h, until.Add(-time.Millisecond), until.Add(time.Hour)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("taken within another's lease: err = %v, want ErrStale", err)
	}
	later := until.Add(time.Hour)
	if _, err := s.TakeNotice(ctx, h, until.Add(time.Millisecond), later); err != nil {
		t.Fatalf("taken after the lease ran out: %v", err)
	}
	if err := s.NoticeSent(ctx, h, until); err != nil {
		t.Fatalf("notice sent by the first teller: %v", err)
	}
	// Still there: taken again once the second lease ran out, and ended
	// by the one who holds it now.
	last := later.Add(time.Hour)
	if _, err := s.TakeNotice(ctx, h, later.Add(time.Millisecond), last); err != nil {
		t.Fatalf("the first teller deleted the item under the second: %v", err)
	}
	if err := s.NoticeSent(ctx, h, last); err != nil {
		t.Fatalf("notice sent: %v", err)
	}
	if _, err := s.TakeNotice(ctx, h, last.Add(time.Hour), last.Add(2*time.Hour)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("notice left after it was sent: err = %v, want ErrStale", err)
	}
}

// noCodeToADueHold: a request holding the bound number (an SMS unbind
// code), made against the profile as read before its hold came due, is
// refused at the due instant and stores nothing; a millisecond before,
// it is stored.
func noCodeToADueHold(t *testing.T, s subject) {
	n := sealed("9990001893")
	a, p := scheduled(t, s, "due-code", n)
	u := unbindCode(a, "u2", n, p.Version, binding.ChannelSMS)
	u.ResendAfter = holdAt.Add(time.Minute)
	if err := s.StartVerification(ctx, binding.Start{Verification: u, Now: holdAt}); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("code to a number whose hold is due: err = %v, want ErrStale", err)
	}
	if v := snapshot(t, s, a, 0).Verification; v != nil && v.ID == u.ID {
		t.Fatalf("stored a code to a removed number: %+v", v)
	}
	if err := s.StartVerification(ctx, binding.Start{Verification: u, Now: holdAt.Add(-time.Millisecond)}); err != nil {
		t.Fatalf("code a millisecond before the hold is due: %v", err)
	}
}
