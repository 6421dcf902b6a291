package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of the verified e-mail address kept on the profile, run by Run.
var emailCases = []contractCase[subject]{
	{"EmailKeptOnProfile", emailKeptOnProfile},
}

func sealedEmail(n string) binding.SealedEmail {
	return binding.SealedEmail{HMAC: "mac-" + n, KeyID: "k1", Ciphertext: "ct-" + n, Masked: n[:1] + "***@example.ru"}
}

// emailKeptOnProfile: a bind's commit keeps the address it brings; a
// request that holds the bound number replaces it with its profile check
// (the version stays, a stale request writes nothing); a hold keeps a new
// one too; the removal drops it with the number.
func emailKeptOnProfile(t *testing.T, s subject) {
	a := account("mail")
	n := sealed("9990002871")
	v := verification(a, "b1", n, 0, binding.SealedPhone{})
	start(t, s, v, base)
	c := completion(v, base)
	c.Profile.Email = sealedEmail("ivan")
	if err := s.CompleteBind(ctx, c); err != nil {
		t.Fatalf("bind: %v", err)
	}
	p := snapshot(t, s, a, 0).Profile
	if p.Email != sealedEmail("ivan") {
		t.Fatalf("email after bind = %+v", p.Email)
	}

	// An unbind request against a moved profile: refused, address kept.
	now := base.Add(2 * time.Minute)
	u := verification(a, "u1", n, p.Version+1, binding.SealedPhone{})
	u.Purpose, u.CreatedAt, u.ResendAfter = binding.PurposeUnbind, now, now.Add(time.Minute)
	petr := sealedEmail("petr")
	if err := s.StartVerification(ctx, binding.Start{Verification: u, Email: &petr, Now: now}); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("stale request: err = %v, want ErrStale", err)
	}
	if got := snapshot(t, s, a, 0).Profile; got.Email != sealedEmail("ivan") || got.Version != p.Version {
		t.Fatalf("a stale request wrote %+v", got)
	}
	u.ProfileVersion = p.Version
	if err := s.StartVerification(ctx, binding.Start{Verification: u, Email: &petr, Now: now}); err != nil {
		t.Fatalf("request with a new address: %v", err)
	}
	got := snapshot(t, s, a, 0).Profile
	if got.Email != petr || got.Version != p.Version || got.Phone != n {
		t.Fatalf("profile after a request with a new address = %+v", got)
	}

	// The hold keeps the address its code went to.
	u.Channel = binding.ChannelEmail
	later := now.Add(2 * time.Minute)
	u2 := u
	u2.ID, u2.CreatedAt, u2.ResendAfter = "u2", later, later.Add(time.Minute)
	start(t, s, u2, later)
	olga := sealedEmail("olga")
	h := binding.Hold{Verification: u2, UnbindAt: holdAt, UnbindID: "lapse-" + a, Email: &olga, Now: later,
		History: binding.HistoryEntry{ID: "sched-" + a, At: later, Event: binding.EventUnbindScheduled, Phone: n.Masked, Actor: "user", Channel: binding.ChannelEmail}}
	if err := s.ScheduleUnbind(ctx, h); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	held := snapshot(t, s, a, 0).Profile
	if held.Email != olga || !held.UnbindAt.Equal(holdAt) {
		t.Fatalf("profile after scheduling = %+v", held)
	}
	if err := s.LapseUnbind(ctx, lapse(held, holdAt)); err != nil {
		t.Fatalf("lapse: %v", err)
	}
	if gone := snapshot(t, s, a, 0).Profile; !gone.Email.IsZero() || gone.Bound() {
		t.Fatalf("profile after the removal = %+v", gone)
	}
}
