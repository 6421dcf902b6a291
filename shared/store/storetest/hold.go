package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of the hold on a removal by e-mail code (SPEC §4.3), run by Run.
var holdCases = []contractCase[subject]{
	{"HoldScheduleCancelLapse", holdScheduleCancelLapse},
	{"HoldClaimFreeAtEffectiveAt", holdClaimFreeAtEffectiveAt},
	{"HoldLapseRacesCancel", holdLapseRacesCancel},
	{"HoldSMSUnbindEndsIt", holdSMSUnbindEndsIt},
}

// hold is the effective instant of the holds in these cases: whole
// milliseconds, as binding schedules them.
var holdAt = base.Add(24 * time.Hour)

// bound binds n to a fresh account and returns the account and profile.
func bound(t *testing.T, s subject, name string, n binding.SealedPhone) (string, binding.Profile) {
	t.Helper()
	a := account(name)
	v := verification(a, "b1", n, 0, binding.SealedPhone{})
	start(t, s, v, base)
	if err := s.CompleteBind(ctx, completion(v, base)); err != nil {
		t.Fatalf("bind: %v", err)
	}
	return a, snapshot(t, s, a, 0).Profile
}

// scheduled binds n and schedules its removal at holdAt by an e-mailed
// unbind code; it returns the account and the profile as read afterwards.
func scheduled(t *testing.T, s subject, name string, n binding.SealedPhone) (string, binding.Profile) {
	t.Helper()
	a, p := bound(t, s, name, n)
	u := unbindCode(a, "u1", n, p.Version, binding.ChannelEmail)
	u.ResendAfter = base.Add(2 * time.Minute)
	now := base.Add(time.Minute)
	start(t, s, u, now)
	h := binding.Hold{
		Verification: u, UnbindAt: holdAt, UnbindID: "lapse-" + a,
		History: binding.HistoryEntry{ID: "sched-" + a, At: now, Event: binding.EventUnbindScheduled, Phone: n.Masked, Actor: "user", Channel: binding.ChannelEmail},
		Now:     now,
	}
	stale := h
	stale.Verification.ProfileVersion = 9
	if err := s.ScheduleUnbind(ctx, stale); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("schedule against a moved profile: err = %v, want ErrStale", err)
	}
	if err := s.ScheduleUnbind(ctx, h); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	if err := s.ScheduleUnbind(ctx, h); !errors.Is(err, binding.ErrVerificationUsed) {
		t.Fatalf("scheduling twice with one code: err = %v, want ErrVerificationUsed", err)
	}
	return a, snapshot(t, s, a, 0).Profile
}

func lapse(p binding.Profile, now time.Time) binding.Unbinding {
	return binding.Unbinding{
		Profile: p,
		History: binding.HistoryEntry{ID: p.UnbindID, At: p.UnbindAt, Event: binding.EventUnbound, Phone: p.Phone.Masked, Actor: "user", Channel: binding.ChannelEmail},
		Now:     now,
	}
}

func cancel(p binding.Profile, now time.Time) binding.HoldCancel {
	return binding.HoldCancel{Profile: p, Now: now,
		History: binding.HistoryEntry{At: now, Event: binding.EventUnbindCancelled, Phone: p.Phone.Masked, Actor: "user", Channel: binding.ChannelEmail}}
}

// holdScheduleCancelLapse: a scheduled removal keeps the number bound with
// unbind_at; a cancel clears it; a lapse before its time is refused, at its
// time removes the number, releases the claim and dates the entry
// UnbindAt.
func holdScheduleCancelLapse(t *testing.T, s subject) {
	n := sealed("1234567830")
	a, p := scheduled(t, s, "hold", n)
	if !p.Bound() || !p.UnbindAt.Equal(holdAt) || p.UnbindID != "lapse-"+a || !p.Holding(holdAt.Add(-time.Millisecond)) {
		t.Fatalf("profile after scheduling = %+v", p)
	}
	if owner(t, s, n.HMAC) != a {
		t.Fatal("scheduling released the number")
	}
	if err := s.LapseUnbind(ctx, lapse(p, holdAt.Add(-time.Millisecond))); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("lapse before its time: err = %v, want ErrStale", err)
	}
	if err := s.CancelUnbind(ctx, cancel(p, holdAt)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("cancel at the effective instant: err = %v, want ErrStale", err)
	}
	if err := s.CancelUnbind(ctx, cancel(p, holdAt.Add(-time.Millisecond))); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	snap := snapshot(t, s, a, 20)
	if !snap.Profile.Bound() || !snap.Profile.UnbindAt.IsZero() || snap.Profile.UnbindID != "" || snap.Profile.Version != p.Version+1 {
		t.Fatalf("profile after cancel = %+v", snap.Profile)
	}
	if len(snap.History) != 3 || snap.History[0].Event != binding.EventUnbindCancelled || snap.History[1].Event != binding.EventUnbindScheduled {
		t.Fatalf("history after cancel = %+v", snap.History)
	}
	if err := s.CancelUnbind(ctx, cancel(snap.Profile, holdAt.Add(-time.Hour))); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("cancelling with nothing scheduled: err = %v, want ErrStale", err)
	}
	// Scheduled again, then run out.
	b, q := scheduled(t, s, "lapse", sealed("1234567831"))
	if err := s.LapseUnbind(ctx, lapse(q, holdAt)); err != nil {
		t.Fatalf("lapse at its time: %v", err)
	}
	if err := s.LapseUnbind(ctx, lapse(q, holdAt)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("lapsing twice: err = %v, want ErrStale", err)
	}
	snap = snapshot(t, s, b, 20)
	if snap.Profile.Bound() || !snap.Profile.UnbindAt.IsZero() || snap.Profile.Version != q.Version+1 || snap.Verification != nil {
		t.Fatalf("after lapse: profile %+v, verification %+v", snap.Profile, snap.Verification)
	}
	if h := snap.History[0]; h.Event != binding.EventUnbound || !h.At.Equal(holdAt) || h.ID != q.UnbindID {
		t.Fatalf("lapse history = %+v, want unbound at %s", h, holdAt)
	}
	if owner(t, s, q.Phone.HMAC) != "" {
		t.Fatal("lapse did not release the number")
	}
}

// holdClaimFreeAtEffectiveAt: another account binding the held number one
// millisecond before the effective instant is phone_taken; one millisecond
// after, it wins, and the holder's lapse leaves the new claim alone.
func holdClaimFreeAtEffectiveAt(t *testing.T, s subject) {
	n := sealed("1234567832")
	a, p := scheduled(t, s, "holder", n)
	b := account("taker")
	w := verification(b, "w1", n, 0, binding.SealedPhone{})
	w.ExpiresAt = holdAt.Add(time.Hour)
	start(t, s, w, base)
	if err := s.CompleteBind(ctx, completion(w, holdAt.Add(-time.Millisecond))); !errors.Is(err, binding.ErrPhoneTaken) {
		t.Fatalf("bind a millisecond before the hold ends: err = %v, want ErrPhoneTaken", err)
	}
	if err := s.CompleteBind(ctx, completion(w, holdAt.Add(time.Millisecond))); err != nil {
		t.Fatalf("bind a millisecond after the hold ends: %v", err)
	}
	if owner(t, s, n.HMAC) != b {
		t.Fatal("the new account does not hold the number")
	}
	// The removal is written, and reported as rebound: the number is the
	// taker's now, so the holder's removal must not be told to it.
	if err := s.LapseUnbind(ctx, lapse(p, holdAt.Add(time.Second))); !errors.Is(err, binding.ErrNumberRebound) {
		t.Fatalf("holder's lapse after the number was taken: err = %v, want ErrNumberRebound", err)
	}
	if owner(t, s, n.HMAC) != b || snapshot(t, s, a, 0).Profile.Bound() || !snapshot(t, s, b, 0).Profile.Bound() {
		t.Fatal("the holder's lapse touched the new claim")
	}
}

// holdLapseRacesCancel: a cancel and a lapse of one hold at once, many
// times over; exactly one wins and the state is that outcome's, whole.
func holdLapseRacesCancel(t *testing.T, s subject) {
	for i := range 6 {
		n := sealed("12345678" + string(rune('4'+i)) + "0")
		a, p := scheduled(t, s, "race", n)
		var cancelErr, lapseErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); cancelErr = s.CancelUnbind(ctx, cancel(p, holdAt.Add(-time.Millisecond))) }()
		go func() { defer wg.Done(); lapseErr = s.LapseUnbind(ctx, lapse(p, holdAt)) }()
		wg.Wait()
		snap := snapshot(t, s, a, 20)
		switch {
		case cancelErr == nil && errors.Is(lapseErr, binding.ErrStale):
			if !snap.Profile.Bound() || !snap.Profile.UnbindAt.IsZero() || owner(t, s, n.HMAC) != a || snap.History[0].Event != binding.EventUnbindCancelled {
				t.Fatalf("cancel won but: profile %+v, history %+v", snap.Profile, snap.History)
			}
		case lapseErr == nil && errors.Is(cancelErr, binding.ErrStale):
			if snap.Profile.Bound() || owner(t, s, n.HMAC) != "" || snap.History[0].Event != binding.EventUnbound {
				t.Fatalf("lapse won but: profile %+v, history %+v", snap.Profile, snap.History)
			}
		default:
			t.Fatalf("cancel: %v, lapse: %v; want exactly one to win", cancelErr, lapseErr)
		}
		for _, h := range snap.History {
			if h.Event == binding.EventUnbound && snap.History[0].Event == binding.EventUnbindCancelled {
				t.Fatalf("both outcomes in history: %+v", snap.History)
			}
		}
	}
}

// holdSMSUnbindEndsIt: an unbind by SMS code during the hold removes the
// number at once, and then the hold is gone with it; once the hold is due
// an SMS unbind is stale (the lapse completes it, dated UnbindAt).
func holdSMSUnbindEndsIt(t *testing.T, s subject) {
	n := sealed("1234567833")
	a, p := scheduled(t, s, "sms", n)
	u := verification(a, "u2", n, p.Version, binding.SealedPhone{})
	u.Purpose = binding.PurposeUnbind
	u.CreatedAt, u.ResendAfter, u.ExpiresAt = holdAt.Add(-time.Hour), holdAt.Add(-time.Hour), holdAt.Add(time.Hour)
	start(t, s, u, holdAt.Add(-time.Hour))
	unbinding := binding.Unbinding{
		Verification: &u, Profile: p, Now: holdAt.Add(-time.Minute),
		History: binding.HistoryEntry{At: holdAt.Add(-time.Minute), Event: binding.EventUnbound, Phone: n.Masked, Actor: "user", Channel: binding.ChannelSMS},
	}
	due := unbinding
	due.Now = holdAt
	if err := s.CompleteUnbind(ctx, due); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("SMS unbind once the hold is due: err = %v, want ErrStale", err)
	}
	if err := s.CompleteUnbind(ctx, unbinding); err != nil {
		t.Fatalf("SMS unbind during the hold: %v", err)
	}
	snap := snapshot(t, s, a, 20)
	if snap.Profile.Bound() || !snap.Profile.UnbindAt.IsZero() || owner(t, s, n.HMAC) != "" {
		t.Fatalf("after an SMS unbind during the hold: %+v", snap.Profile)
	}
	if err := s.LapseUnbind(ctx, lapse(p, holdAt)); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("lapse after the SMS unbind: err = %v, want ErrStale", err)
	}
	if len(snap.History) != 3 || snap.History[0].Channel != binding.ChannelSMS {
		t.Fatalf("history = %+v", snap.History)
	}
}
