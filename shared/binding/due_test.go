package binding_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/store"
)

// told counts what a held removal's completion tells: phone.unbound
// events, removal SMS to the number and removal letters to the address.
func (e *env) told(account string) (events, sms, letters int) {
	for _, ev := range e.events.all() {
		if ev.AccountID == account && ev.Name == binding.EventNamePhoneUnbound {
			events++
		}
	}
	for _, b := range e.sms.to("+79123456789") {
		if strings.HasPrefix(b, "Номер телефона отвязан") {
			sms++
		}
	}
	return events, sms, len(e.letters("ivan@example.ru"))
}

// TestCompleteDueUnbindsWithoutWrites (issue 12): a held removal whose
// account never writes again is completed by the job once its time has
// come, not a moment before: the removal is written, phone.unbound is
// published, the number gets its SMS and the kept address its letter,
// once; a second run finds nothing.
func TestCompleteDueUnbindsWithoutWrites(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), withHold)
		ctx := context.Background()
		e.scheduleRemoval(t, "acc")
		e.clock.Advance(holdFor - time.Millisecond)
		if r, err := e.svc.CompleteDueUnbinds(ctx); err != nil || r.Completed != 0 || r.Listed != 0 {
			t.Fatalf("before effective_at: %+v %v", r, err)
		}
		if ev, sms, letters := e.told("acc"); ev+sms+letters != 0 {
			t.Fatalf("told before effective_at: %d events, %d SMS, %d letters", ev, sms, letters)
		}
		e.clock.Advance(time.Millisecond) // effective_at itself
		r, err := e.svc.CompleteDueUnbinds(ctx)
		if err != nil || r.Completed != 1 || r.Listed != 1 {
			t.Fatalf("after effective_at: %+v %v", r, err)
		}
		if ev, sms, letters := e.told("acc"); ev != 1 || sms != 1 || letters != 1 {
			t.Fatalf("told %d events, %d SMS, %d letters; want one each", ev, sms, letters)
		}
		snap, err := e.store.Snapshot(ctx, "acc", 5)
		if err != nil || snap.Profile.Bound() || !snap.Profile.UnbindAt.IsZero() || snap.History[0].Event != binding.EventUnbound {
			t.Fatalf("stored after the job: %+v %v", snap, err)
		}
		if r, err := e.svc.CompleteDueUnbinds(ctx); err != nil || r.Completed != 0 {
			t.Fatalf("second run: %+v %v", r, err)
		}
		if ev, sms, letters := e.told("acc"); ev != 1 || sms != 1 || letters != 1 {
			t.Fatalf("after a second run: %d events, %d SMS, %d letters", ev, sms, letters)
		}
	})
}

// TestDueJobRacesTheAccountsWrite (issue 12): the job and the account's
// own next write (a bind request, which completes a due hold first) at
// once, many times over: the removal is written once and told once.
func TestDueJobRacesTheAccountsWrite(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		for round := range 4 {
			e := lapsedHold(t, fresh())
			var jobErr, reqErr error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); _, jobErr = e.svc.CompleteDueUnbinds(context.Background()) }()
			go func() { defer wg.Done(); _, reqErr = e.request(t, "acc", "+79161234567") }()
			wg.Wait()
			if jobErr != nil || reqErr != nil {
				t.Fatalf("round %d: job %v, request %v", round, jobErr, reqErr)
			}
			// The next minute's run finds nothing left to tell.
			if _, err := e.svc.CompleteDueUnbinds(context.Background()); err != nil {
				t.Fatal(err)
			}
			if ev, sms, letters := e.told("acc"); ev != 1 || sms != 1 || letters != 1 {
				t.Fatalf("round %d: told %d events, %d SMS, %d letters; want one each", round, ev, sms, letters)
			}
		}
	})
}

// TestTwoDueRunsTellOnce: two runs of the job at once (a slow run and the
// next minute's, or an operator's by hand), many times over: the removal
// is written once and told once, the loser counting it gone.
func TestTwoDueRunsTellOnce(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		for round := range 4 {
			e := lapsedHold(t, fresh())
			var reports [2]binding.DueReport
			var errs [2]error
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); reports[i], errs[i] = e.svc.CompleteDueUnbinds(context.Background()) }()
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil || reports[0].Completed+reports[1].Completed != 1 {
				t.Fatalf("round %d: runs %+v, %v", round, reports, errs)
			}
			if ev, sms, letters := e.told("acc"); ev != 1 || sms != 1 || letters != 1 {
				t.Fatalf("round %d: told %d events, %d SMS, %d letters; want one each", round, ev, sms, letters)
			}
		}
	})
}

// TestDueRunNearItsDeadlineLeavesTheRest: a run whose context has (almost)
// run out takes on no hold and says how many it left; the next run tells.
func TestDueRunNearItsDeadlineLeavesTheRest(t *testing.T) {
	e := lapsedHold(t, store.NewMemory())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if r, err := e.svc.CompleteDueUnbinds(ctx); err != nil || r.Listed != 1 || r.Left != 1 || r.Completed != 0 {
		t.Fatalf("run near its deadline: %+v, %v", r, err)
	}
	if ev, _, _ := e.told("acc"); ev != 0 {
		t.Fatalf("told %d events near the deadline", ev)
	}
	if r, err := e.svc.CompleteDueUnbinds(context.Background()); err != nil || r.Completed != 1 {
		t.Fatalf("next run: %+v, %v", r, err)
	}
	if ev, sms, letters := e.told("acc"); ev != 1 || sms != 1 || letters != 1 {
		t.Fatalf("told %d events, %d SMS, %d letters; want one each", ev, sms, letters)
	}
}
