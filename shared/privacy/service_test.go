package privacy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/privacy"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// stepUp refuses or allows every session.
type stepUp struct{ err error }

func (s stepUp) DemandStepUp(binding.Session) error { return s.err }

// flakyEvents fails every publish and counts the attempts.
type flakyEvents struct{ tried int }

func (f *flakyEvents) AccountErased(context.Context, privacy.ErasedEvent) error {
	f.tried++
	return errors.New("topic unreachable")
}

// held seeds a memory store with a number bound and its removal by e-mail
// code held until holdEnds.
func held(t *testing.T, keys *secure.Keyring, now, holdEnds time.Time) store.MemoryPrivacy {
	t.Helper()
	mem := store.NewMemory()
	keyID, ct, err := keys.Seal("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	n := binding.SealedPhone{HMAC: keys.PhoneMAC("+79123456789"), KeyID: keyID, Ciphertext: ct, Masked: "+7 912 ***-**-89"}
	v := binding.Verification{ID: "v1", AccountID: "acc", Purpose: binding.PurposeBind, Channel: binding.ChannelSMS, Destination: n,
		CodeHMAC: "c", CreatedAt: now, ExpiresAt: now.Add(time.Minute), ResendAfter: now, MaxAttempts: 5, State: binding.RequestPending}
	ctx := context.Background()
	if err := mem.StartVerification(ctx, binding.Start{Verification: v, Now: now}); err != nil {
		t.Fatal(err)
	}
	p := binding.Profile{AccountID: "acc", Phone: n, VerifiedAt: now, BoundAt: now, Version: 1}
	if err := mem.CompleteBind(ctx, binding.Completion{Verification: v, Profile: p, Now: now,
		History: binding.HistoryEntry{ID: "h1", At: now, Event: binding.EventBound, Phone: n.Masked, Actor: "user"}}); err != nil {
		t.Fatal(err)
	}
	v2 := v
	v2.ID, v2.Purpose, v2.Channel, v2.ProfileVersion, v2.SentTo = "v2", binding.PurposeUnbind, binding.ChannelEmail, 1, "a***@example.org"
	if err := mem.StartVerification(ctx, binding.Start{Verification: v2, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := mem.ScheduleUnbind(ctx, binding.Hold{Verification: v2, UnbindAt: holdEnds, UnbindID: "h2", Now: now,
		History: binding.HistoryEntry{ID: "h3", At: now, Event: binding.EventUnbindScheduled, Phone: n.Masked, Actor: "user"}}); err != nil {
		t.Fatal(err)
	}
	return store.MemoryPrivacy{Binding: mem, Tickets: store.NewFeedbackMemory(), Idempotency: store.NewMemoryIdempotency()}
}

// While a removal is held the report shows the number in full with when it
// goes; once it is due the number is shown as gone, as status shows it,
// though no write has completed the removal yet.
func TestReportFollowsTheHold(t *testing.T) {
	keys := secure.DevKeyring()
	clock := testenv.NewClock(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	ends := clock.Now().Add(24 * time.Hour)
	svc := privacy.New(held(t, keys, clock.Now(), ends), keys, stepUp{}, nil, clock.Now, nil)
	r, err := svc.Report(context.Background(), "acc", binding.Session{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Phone == nil || r.Phone.Number != "+79123456789" || !r.Phone.UnbindAt.Equal(ends) || len(r.History) != 2 ||
		r.Verification == nil || r.Verification.State != binding.RequestCompleted || r.Verification.Destination != "a***@example.org" {
		t.Fatalf("during the hold: %+v %+v", r.Phone, r.Verification)
	}
	clock.Advance(25 * time.Hour)
	if r, err = svc.Report(context.Background(), "acc", binding.Session{}); err != nil || r.Phone != nil || r.Consent != nil {
		t.Fatalf("after the hold: %+v, %v", r.Phone, err)
	}
}

// A session without step-up is refused before anything is read.
func TestReportNeedsStepUp(t *testing.T) {
	refusal := &binding.StepUpError{SecondFactor: true, MaxAge: 15 * time.Minute}
	svc := privacy.New(nil, nil, stepUp{err: refusal}, nil, nil, nil)
	var got *binding.StepUpError
	if _, err := svc.Report(context.Background(), "acc", binding.Session{}); !errors.As(err, &got) {
		t.Fatalf("err = %v, want the step-up refusal", err)
	}
}

// A publish that fails is logged, not undone: the erasure still answers
// what it erased, and the event is tried on every run.
func TestEraseOutlivesAFailedPublish(t *testing.T) {
	keys := secure.DevKeyring()
	clock := testenv.NewClock(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	events := &flakyEvents{}
	svc := privacy.New(held(t, keys, clock.Now(), clock.Now().Add(time.Hour)), keys, stepUp{}, events, clock.Now, nil)
	first, err := svc.Erase(context.Background(), "acc")
	if err != nil || first.Profile != 1 || first.Claims != 1 || first.History != 2 {
		t.Fatalf("erase = %+v, %v", first, err)
	}
	again, err := svc.Erase(context.Background(), "acc")
	if err != nil || again.Total() != 0 || events.tried != 2 {
		t.Fatalf("second erase = %+v, %v; publishes tried %d", again, err, events.tried)
	}
}
