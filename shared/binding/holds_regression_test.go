package binding_test

// Regression tests from the review of the holds branch (issue 12): each
// failed on 0ed8e2a.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/secure"
)

// TestLapseByRequestCodeIsToldByTheJob: deployed, the
// request-code function is wired without an events publisher
// (functions/request-code/main.go: core.AWS has no Events; its role has
// an explicit Deny on every SNS ARN). When the account's next write after
// effective_at is a code request (the natural thing after a removal:
// bind a new number), that function completes the hold through lapse and
// its phone.unbound goes nowhere; the job then finds nothing to do. The
// commit promises the event "once, whoever completes it".
func TestLapseByRequestCodeIsToldByTheJob(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := lapsedHold(t, fresh())
		// As functions/request-code wires the service: SMS, e-mail, no events.
		requestCode := binding.New(holdConfig(), e.store, binding.Senders{SMS: e.sms, Email: e.sms, Signals: e.signals}, e.keys, e.clock.Now, nil)
		if _, err := requestCode.RequestCode(context.Background(), binding.CodeRequest{
			AccountID: "acc", Purpose: binding.PurposeBind, Phone: number(t, "+79161234567"), Consent: true,
			SourceIP: "198.51.100.10", Session: e.strongSession(),
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CompleteDueUnbinds(context.Background()); err != nil {
			t.Fatal(err)
		}
		if ev, sms, letters := e.told("acc"); ev != 1 || sms != 1 || letters != 1 {
			t.Fatalf("told %d events, %d SMS, %d letters; want one each", ev, sms, letters)
		}
	})
}

// failingAfterLapse is a store whose LapseUnbind commits and then fails,
// as store.(*Dynamo).LapseUnbind does when its claim-release DeleteItem
// (after the TransactWriteItems committed) times out or is throttled.
type failingAfterLapse struct{ binding.Store }

func (f failingAfterLapse) LapseUnbind(ctx context.Context, u binding.Unbinding) error {
	if err := f.Store.LapseUnbind(ctx, u); err != nil {
		return err
	}
	return errors.New("release claim: operation error DynamoDB: DeleteItem, context deadline exceeded")
}

// TestCommittedLapseFailingLaterIsToldByTheNextRun: the removal is written
// (so the hold leaves HoldsDue), the release of the claim fails, lapse
// returns the error before telling anyone, and no later run or write
// ever tells: the docs' "a run that fails is retried by the next
// minute's run ... each hold is completed and told once" does not hold.
func TestCommittedLapseFailingLaterIsToldByTheNextRun(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := lapsedHold(t, fresh())
		job := binding.New(holdConfig(), failingAfterLapse{e.store}, binding.Senders{SMS: e.sms, Email: e.sms, Events: e.events, Signals: e.signals}, e.keys, e.clock.Now, nil)
		if r, err := job.CompleteDueUnbinds(context.Background()); err == nil || r.Failed != 1 {
			t.Fatalf("first run: %+v, %v; want one failed", r, err)
		}
		if n := e.signals.count(binding.SignalDueUnbindFailed); n != 1 {
			t.Fatalf("failing account signalled %d times, want 1", n)
		}
		e.clock.Advance(time.Minute)
		if r, err := e.svc.CompleteDueUnbinds(context.Background()); err != nil || r.Listed != 0 {
			t.Logf("next run: %+v %v", r, err)
		}
		if ev, sms, letters := e.told("acc"); ev != 1 || sms != 1 || letters != 1 {
			t.Fatalf("told %d events, %d SMS, %d letters; want one each", ev, sms, letters)
		}
	})
}

// TestChangeFromSessionWithoutEmailKeepsAddress: the address
// kept from the bind is wiped by a change confirmed from a session
// without email_verified (Confirm seals c.Email, zero, and CompleteBind
// puts the whole profile), so a later support unbind sends no letter,
// although requests never clear it (emailUpdate: nil when absent).
func TestChangeFromSessionWithoutEmailKeepsAddress(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.confirmWithEmail(t, "acc", "+79123456789", "ivan@example.ru")
	e.clock.Advance(721 * time.Hour)
	e.bind(t, "acc", "+79161234567") // a change, confirmed by a session without an address
	if _, err := e.svc.SupportUnbind(ctx, "acc", "ivanova", "SIM lost", "FB-1"); err != nil {
		t.Fatal(err)
	}
	if got := e.letters("ivan@example.ru"); len(got) != 1 {
		t.Fatalf("letters to the address kept from the bind after a support unbind: %d", len(got))
	}
}

// TestKeptAddressResealedUnderTheCurrentKey: after a key rotation, the
// next request that brings the same verified address seals it again under
// the current key, so the old key can go once no item names it
// (docs/operations.md, Rotate keys); under the current key nothing is
// written again.
func TestKeptAddressResealedUnderTheCurrentKey(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh())
		ctx := context.Background()
		e.confirmWithEmail(t, "acc", "+79123456789", "ivan@example.ru")
		rotated, err := secure.ParseKeyring([]byte(`{"current":"k2","hmac_key":"cGhvbmViaW5kLWRldi1obWFjLWtleS1OT1QtU0VDUkVULWRvLW5vdC11c2U=",
			"keys":{"dev1":"cGhvbmViaW5kLWRldjEtYWVzLU5PVC1TRUNSRVQhISE=","k2":"cm90YXRlZC1rZXktdHdvLWZvci10aGUtdGVzdHMhISE="}}`))
		if err != nil {
			t.Fatal(err)
		}
		cfg := config()
		after := binding.New(cfg, e.store, binding.Senders{SMS: e.sms, Email: e.sms, Events: e.events}, rotated, e.clock.Now, nil)
		e.clock.Advance(time.Minute)
		if _, err := after.RequestCode(ctx, binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS,
			Email: "ivan@example.ru", SourceIP: "203.0.113.9", Session: e.strongSession()}); err != nil {
			t.Fatal(err)
		}
		snap, err := e.store.Snapshot(ctx, "acc", 0)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Profile.Email.KeyID != "k2" {
			t.Fatalf("kept address sealed under %q after the rotation, want k2", snap.Profile.Email.KeyID)
		}
		if addr, err := rotated.Open(snap.Profile.Email.KeyID, snap.Profile.Email.Ciphertext); err != nil || addr != "ivan@example.ru" {
			t.Fatalf("kept address opens to %q, %v", addr, err)
		}
	})
}
