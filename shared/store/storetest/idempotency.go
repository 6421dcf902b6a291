package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/idempotency"
)

// RunIdempotency runs the idempotency.Store contract against fresh stores.
func RunIdempotency(t *testing.T, newStore func(t *testing.T) idempotency.Store) {
	t.Helper()
	runCases(t, newStore, []contractCase[idempotency.Store]{
		{"ClaimFinishReplay", idemClaimFinishReplay},
		{"InProgressThenLapse", idemInProgressThenLapse},
		{"ReleaseFreesKey", idemReleaseFreesKey},
		{"ConcurrentClaims", idemConcurrentClaims},
	})
}

func idemRecord(account, token string, now time.Time) idempotency.Record {
	return idempotency.Record{
		AccountID: account, KeyHash: "k-" + account, Fingerprint: "fp-1", Token: token,
		LockedUntil: now.Add(10 * time.Second), ExpiresAt: now.Add(24 * time.Hour),
	}
}

func idemClaimFinishReplay(t *testing.T, s idempotency.Store) {
	r := idemRecord(account("idem"), "t1", base)
	if old, err := s.Claim(ctx, r, base); err != nil || old != nil {
		t.Fatalf("first claim: %v %v", old, err)
	}
	resp := idempotency.Response{Status: 202, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"a":1}`}
	if err := s.Finish(ctx, r, resp); err != nil {
		t.Fatal(err)
	}
	again := r
	again.Token = "t2"
	old, err := s.Claim(ctx, again, base.Add(time.Minute))
	if err != nil || old == nil || old.Response == nil || old.Response.Status != 202 || old.Response.Body != `{"a":1}` ||
		old.Response.Headers["Content-Type"] != "application/json" || old.Fingerprint != "fp-1" {
		t.Fatalf("replay: %+v %v", old, err)
	}
	// Past its expiry the key is new again.
	if old, err := s.Claim(ctx, again, base.Add(25*time.Hour)); err != nil || old != nil {
		t.Fatalf("claim after expiry: %+v %v", old, err)
	}
}

func idemInProgressThenLapse(t *testing.T, s idempotency.Store) {
	r := idemRecord(account("idem"), "t1", base)
	if _, err := s.Claim(ctx, r, base); err != nil {
		t.Fatal(err)
	}
	other := r
	other.Token = "t2"
	other.LockedUntil = base.Add(20 * time.Second)
	if old, err := s.Claim(ctx, other, base.Add(time.Second)); !errors.Is(err, idempotency.ErrInProgress) || old == nil || old.Fingerprint != "fp-1" {
		t.Fatalf("claim while in progress: %+v %v", old, err)
	}
	// The first request crashed: after its lock lapses, a retry takes over.
	if old, err := s.Claim(ctx, other, base.Add(11*time.Second)); err != nil || old != nil {
		t.Fatalf("claim after the lock lapsed: %+v %v", old, err)
	}
	// The crashed request's late Finish changes nothing (adapters may
	// report it or not; what matters is the state).
	_ = s.Finish(ctx, r, idempotency.Response{Status: 500})
	third := r
	third.Token = "t3"
	if _, err := s.Claim(ctx, third, base.Add(12*time.Second)); !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("a stale token finished the key: %v", err)
	}
}

func idemReleaseFreesKey(t *testing.T, s idempotency.Store) {
	r := idemRecord(account("idem"), "t1", base)
	if _, err := s.Claim(ctx, r, base); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Token = "t2"
	if old, err := s.Claim(ctx, r, base.Add(time.Second)); err != nil || old != nil {
		t.Fatalf("claim after release: %+v %v", old, err)
	}
}

func idemConcurrentClaims(t *testing.T, s idempotency.Store) {
	acc := account("idem")
	won, _ := race(t, 10, idempotency.ErrInProgress, func(i int) error {
		old, err := s.Claim(ctx, idemRecord(acc, "t"+string(rune('a'+i)), base), base)
		if err == nil && old != nil {
			return fmt.Errorf("a first claim found a record: %+v", old)
		}
		return err
	})
	if won != 1 {
		t.Fatalf("%d requests claimed one key", won)
	}
}
