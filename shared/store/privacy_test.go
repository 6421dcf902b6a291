package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/faults"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/store/storetest"
)

func TestMemoryPrivacyContract(t *testing.T) {
	storetest.RunPrivacy(t, func(*testing.T) storetest.Stores {
		m, f, i := store.NewMemory(), store.NewFeedbackMemory(), store.NewMemoryIdempotency()
		return storetest.Stores{Binding: m, Tickets: f, Idempotency: i,
			Privacy: store.MemoryPrivacy{Binding: m, Tickets: f, Idempotency: i}, Probe: store.MemoryClaims{M: m}}
	})
}

func TestDynamoPrivacyContract(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	storetest.RunPrivacy(t, func(*testing.T) storetest.Stores {
		d := store.NewDynamo(db, table)
		return storetest.Stores{Binding: d, Tickets: d, Idempotency: store.NewDynamoIdempotency(db, table),
			Privacy: d, Probe: dynamotest.Claims{DB: db, Table: table}}
	})
}

// TestDynamoEraseRerunsAfterAFault: an erasure that fails at any one of its
// calls (before the call, or after it went through) leaves a state that a
// plain rerun finishes: nothing of the account left, its claims released,
// its tickets stripped, and a third run finds nothing.
func TestDynamoEraseRerunsAfterAFault(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	plan := &faults.Plan{}
	d := store.NewDynamo(&faults.DB{DynamoAPI: db, Plan: plan}, table)
	stores := storetest.Stores{Binding: d, Tickets: d, Idempotency: store.NewDynamoIdempotency(db, table), Privacy: d,
		Probe: dynamotest.Claims{DB: db, Table: table}}
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

	// A clean run says how many calls an erasure makes.
	account, _ := storetest.Populate(t, stores, "count")
	plan.Arm(0, faults.Fail)
	clean, err := d.Erase(ctx, account, now)
	if err != nil {
		t.Fatal(err)
	}
	calls := plan.Calls()
	t.Logf("an erasure of %d items takes %d calls", clean.Total(), calls)

	for at := 1; at <= calls; at++ {
		kinds := []faults.Kind{faults.Fail}
		if at%4 == 0 {
			kinds = append(kinds, faults.TimeoutAfter)
		}
		for _, kind := range kinds {
			account, numbers := storetest.Populate(t, stores, "fault")
			plan.Arm(at, kind)
			first, err := d.Erase(ctx, account, now)
			if !plan.Hit() {
				t.Fatalf("call %d (%s) was never made", at, kind)
			}
			if err == nil {
				t.Fatalf("call %d (%s) failed and the erasure said nothing", at, kind)
			}
			plan.Arm(0, faults.Fail)
			rerun, err := d.Erase(ctx, account, now)
			if err != nil {
				t.Fatalf("rerun after call %d (%s): %v", at, kind, err)
			}
			if rerun.Total() == 0 && first.Total() == 0 && kind == faults.Fail {
				t.Fatalf("fault at call %d: neither run erased anything", at)
			}
			h, err := d.Held(ctx, account)
			if err != nil {
				t.Fatal(err)
			}
			if h.Profile.Bound() || h.Verification != nil || len(h.History) != 0 || len(h.Tickets) != 0 {
				t.Fatalf("fault at call %d (%s), rerun: left %+v", at, kind, h)
			}
			for _, n := range numbers {
				if owner, ok, err := stores.Probe.ClaimOwner(ctx, n.HMAC); err != nil || ok {
					t.Fatalf("fault at call %d (%s), rerun: claim of %s still held by %q (%v)", at, kind, n.Masked, owner, err)
				}
			}
			if again, err := d.Erase(ctx, account, now); err != nil || again.Total() != 0 {
				t.Fatalf("fault at call %d (%s): a third run found %+v, %v", at, kind, again, err)
			}
		}
	}
}
