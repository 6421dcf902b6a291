package storetest

// An erased account stays erased: reads after it, and a first bind racing
// it (SPEC §4.9).

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// A portal service's refused read after the erasure (its consumers learn
// of it later) writes nothing under the erased account: no log entry, no
// request.
func privacyReadAfterEraseWritesNothing(t *testing.T, s Stores) {
	bs := subject{s.Binding, s.Probe}
	a, _ := boundAccount(t, bs, "read-after-erase")
	if _, err := s.Privacy.Erase(ctx, a, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i, p := range binding.ReadPurposes {
		r := binding.Refusal{AccountID: a, Entry: binding.AccessLogEntry{ID: "e" + string(p), At: base.Add(time.Duration(i+2) * time.Minute),
			ClientID: "notifier", ClientName: "Notifier", Purpose: p, Result: binding.ReadNoPhoneBound, ExpiresAt: base.Add(8760 * time.Hour)}}
		if p == binding.ReadThirdParty {
			r.NewRequest = pendingRequest(a, "req", "notifier", r.Entry.At)
		}
		if created, err := s.Binding.LogRefusal(ctx, r); err != nil || created {
			t.Fatalf("%s refusal after the erasure: %v, %v", p, created, err)
		}
	}
	held, err := s.Privacy.Held(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(held.AccessLog) != 0 || len(held.AccessRequests) != 0 || held.Profile.Version != 0 {
		t.Fatalf("after erasure and reads the account holds %+v", held)
	}
}

// The confirmation of a first bind racing the account's erasure, in
// goroutines: whatever the order, an erasure that reports success leaves
// nothing of the account (no profile, no history, no claim), and a confirm
// that lost finds its verification gone.
func privacyEraseRacesFirstBind(t *testing.T, s Stores) {
	bs := subject{s.Binding, s.Probe}
	for i := range 6 {
		a := account("erase-bind")
		n := sealed(a + "-42")
		v := verification(a, "v-"+a, n, 0, binding.SealedPhone{})
		start(t, bs, v, base)
		var wg sync.WaitGroup
		var eraseErr, bindErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, eraseErr = s.Privacy.Erase(ctx, a, base.Add(time.Minute))
		}()
		go func() {
			defer wg.Done()
			bindErr = s.Binding.CompleteBind(ctx, completion(v, base.Add(time.Second)))
		}()
		wg.Wait()
		if eraseErr != nil {
			t.Fatalf("round %d: erase: %v", i, eraseErr)
		}
		if bindErr != nil && !errors.Is(bindErr, binding.ErrStale) && !errors.Is(bindErr, binding.ErrVerificationNotFound) && !errors.Is(bindErr, binding.ErrVerificationUsed) {
			t.Fatalf("round %d: confirm: %v", i, bindErr)
		}
		held, err := s.Privacy.Held(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if held.Profile.Version != 0 || len(held.History) != 0 || held.Verification != nil || owner(t, bs, n.HMAC) != "" {
			t.Fatalf("round %d (confirm %v): erased yet left %+v, claim %q", i, bindErr, held, owner(t, bs, n.HMAC))
		}
	}
}
