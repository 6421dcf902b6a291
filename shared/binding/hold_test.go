package binding_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

const holdFor = 24 * time.Hour

func withHold(c *binding.Config) { c.UnbindEmailHold = holdFor }

// holdConfig is config() with the hold, for a service wired another way.
func holdConfig() binding.Config {
	cfg := config()
	withHold(&cfg)
	return cfg
}

// lapsedHold is an env with the hold whose removal of "acc" is due by a
// second: the job's case.
func lapsedHold(t *testing.T, st binding.Store) *env {
	t.Helper()
	e := newEnvOn(t, st, withHold)
	e.scheduleRemoval(t, "acc")
	e.clock.Advance(holdFor + time.Second)
	return e
}

// onStores runs a hold case on memory stores and on DynamoDB Local
// (skipped without DYNAMODB_ENDPOINT); fresh makes an empty store.
func onStores(t *testing.T, run func(t *testing.T, fresh func() binding.Store)) {
	t.Run("memory", func(t *testing.T) {
		run(t, func() binding.Store { return store.NewMemory() })
	})
	t.Run("dynamodb", func(t *testing.T) {
		db := dynamotest.Client(t)
		run(t, func() binding.Store { return store.NewDynamo(db, dynamotest.Table(t, db)) })
	})
}

// twin is a second service over e's store with a clock of its own, so
// that two goroutines can act at two instants.
func (e *env) twin(t *testing.T, at time.Time) *binding.Service {
	t.Helper()
	cfg := holdConfig()
	clock := testenv.NewClock(at)
	return binding.New(cfg, e.store, binding.Senders{SMS: e.sms, Email: e.sms, Events: e.events}, e.keys, clock.Now, nil)
}

// scheduleRemoval binds +79123456789 to account and confirms an e-mailed
// unbind code: the removal is scheduled. It returns the answer.
func (e *env) scheduleRemoval(t *testing.T, account string) binding.Status {
	t.Helper()
	e.bind(t, account, "+79123456789")
	e.clock.Advance(time.Minute)
	sent, err := e.code(unbindByEmail(account, "ivan@example.ru"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.Unbind(context.Background(), binding.Confirmation{Session: e.strongSession(),
		AccountID: account, VerificationID: sent.VerificationID, Code: e.sms.lastCode(t, "ivan@example.ru"),
		SourceIP: "203.0.113.9", Email: "ivan@example.ru",
	})
	if err != nil {
		t.Fatalf("unbind by e-mail code: %v", err)
	}
	return st
}

func TestUnbindByEmailIsHeld(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), withHold)
		ctx := context.Background()
		acc := testenv.Unique("held")
		got := e.scheduleRemoval(t, acc)
		effective := e.clock.Now().Add(holdFor).Truncate(time.Millisecond)
		r := got.Request
		if got.State != binding.StateVerified || got.Phone != "+7 912 ***-**-89" || r == nil ||
			r.Purpose != binding.PurposeUnbind || r.Channel != binding.ChannelEmail || r.State != binding.RequestScheduled || !r.EffectiveAt.Equal(effective) {
			t.Fatalf("answer to an e-mailed unbind code = %+v / %+v", got, r)
		}
		if h := got.History[0]; h.Event != binding.EventUnbindScheduled || h.Channel != binding.ChannelEmail || h.SourceIP != "203.0.113.9" {
			t.Fatalf("history = %+v", got.History)
		}
		// Told at once: the number by SMS, the verified e-mail by a letter.
		sms := e.sms.to("+79123456789")
		if last := sms[len(sms)-1]; !strings.HasPrefix(last, "Номер будет отвязан от профиля Госуслуг 24.11.2026 13:01 (МСК).") ||
			!strings.Contains(last, "Если это не вы, отмените отвязку в профиле или обратитесь в поддержку.") {
			t.Fatalf("SMS to the number = %q", last)
		}
		mails := e.sms.to("ivan@example.ru")
		if last := mails[len(mails)-1]; !strings.Contains(last, "Номер +7 912 ***-**-89 будет отвязан от профиля Госуслуг 24.11.2026 13:01 (МСК).") ||
			!strings.Contains(last, "отмените отвязку в профиле или обратитесь в поддержку") ||
			!strings.Contains(last, "If this was not you, cancel the removal") || strings.Contains(last, "9123456789") {
			t.Fatalf("letter = %q", last)
		}
		if ev := e.events.all(); ev[len(ev)-1].Name != binding.EventNameUnbindScheduled || ev[len(ev)-1].Phone != "+7 912 ***-**-89" {
			t.Fatalf("events = %+v", ev)
		}
		// During the hold: status shows it; a bind of another number and a
		// second e-mailed code wait for it.
		st1, err := e.svc.Status(ctx, acc)
		if err != nil || st1.State != binding.StateVerified || st1.Request.State != binding.RequestScheduled {
			t.Fatalf("status during the hold = %+v, %v", st1, err)
		}
		e.clock.Advance(time.Hour)
		if _, err := e.request(t, acc, "+79123456700"); !errors.Is(err, binding.ErrUnbindPending) {
			t.Fatalf("bind another number during the hold: err = %v, want ErrUnbindPending", err)
		}
		if _, err := e.code(unbindByEmail(acc, "ivan@example.ru")); !errors.Is(err, binding.ErrUnbindPending) {
			t.Fatalf("another e-mailed code during the hold: err = %v, want ErrUnbindPending", err)
		}
		// At effective_at it is gone for every reader, dated effective_at,
		// before any write has completed it.
		e.clock.Set(effective)
		st2, err := e.svc.Status(ctx, acc)
		if err != nil {
			t.Fatal(err)
		}
		if st2.State != binding.StateNone || st2.Phone != "" || st2.Consent != nil || (st2.Request != nil && st2.Request.State == binding.RequestScheduled) {
			t.Fatalf("status at effective_at = %+v / %+v", st2, st2.Request)
		}
		if h := st2.History[0]; h.Event != binding.EventUnbound || !h.At.Equal(effective) || h.Channel != binding.ChannelEmail {
			t.Fatalf("history at effective_at = %+v", st2.History)
		}
		// A write completes it (the same entry, once) and tells nobody;
		// the job tells the number.
		told := len(e.events.all())
		if _, err := e.svc.CancelUnbind(ctx, acc, "203.0.113.9"); !errors.Is(err, binding.ErrNoUnbindPending) {
			t.Fatalf("cancel at effective_at: err = %v, want ErrNoUnbindPending", err)
		}
		if len(e.events.all()) != told {
			t.Fatalf("the write told: events %+v", e.events.all())
		}
		if r, err := e.svc.CompleteDueUnbinds(ctx); err != nil || r.Completed != 1 {
			t.Fatalf("job after the write's lapse: %+v, %v", r, err)
		}
		st3, err := e.svc.Status(ctx, acc)
		if err != nil || st3.State != binding.StateNone || st3.History[0].ID != st2.History[0].ID || !st3.History[0].At.Equal(effective) ||
			st3.History[1].Event != binding.EventUnbindScheduled {
			t.Fatalf("status after completion = %+v, %v", st3.History, err)
		}
		sms = e.sms.to("+79123456789")
		if last := sms[len(sms)-1]; !strings.HasPrefix(last, "Номер телефона отвязан") {
			t.Fatalf("SMS at completion = %q", last)
		}
		if ev := e.events.all(); ev[len(ev)-1].Name != binding.EventNamePhoneUnbound || !ev[len(ev)-1].At.Equal(effective) {
			t.Fatalf("events = %+v", ev)
		}
		// The number is free for anyone; the account may bind again.
		e.bind(t, testenv.Unique("next"), "+79123456789")
		e.clock.Advance(2 * time.Minute)
		e.bind(t, acc, "+79123456700")
	})
}

func TestCancelUnbind(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), withHold)
		ctx := context.Background()
		acc := testenv.Unique("cancel")
		if _, err := e.svc.CancelUnbind(ctx, acc, "203.0.113.9"); !errors.Is(err, binding.ErrNoUnbindPending) {
			t.Fatalf("cancel with nothing bound: err = %v", err)
		}
		scheduled := e.scheduleRemoval(t, acc)
		e.clock.Advance(time.Hour)
		got, err := e.svc.CancelUnbind(ctx, acc, "203.0.113.10")
		if err != nil {
			t.Fatal(err)
		}
		// The e-mailed code's request is not shown as "completed": that would
		// say the number is gone.
		if got.State != binding.StateVerified || got.Phone != "+7 912 ***-**-89" || got.Request != nil {
			t.Fatalf("answer to cancel = %+v / %+v", got, got.Request)
		}
		if h := got.History[0]; h.Event != binding.EventUnbindCancelled || h.Actor != "user" || h.SourceIP != "203.0.113.10" || h.Phone != "+7 912 ***-**-89" {
			t.Fatalf("history = %+v", got.History)
		}
		if ev := e.events.all(); ev[len(ev)-1].Name != binding.EventNameUnbindCancelled {
			t.Fatalf("events = %+v", ev)
		}
		sms := e.sms.to("+79123456789")
		if last := sms[len(sms)-1]; !strings.HasPrefix(last, "Отвязка номера от профиля Госуслуг отменена") {
			t.Fatalf("SMS after cancel = %q", last)
		}
		if _, err := e.svc.CancelUnbind(ctx, acc, ""); !errors.Is(err, binding.ErrNoUnbindPending) {
			t.Fatalf("second cancel: err = %v, want ErrNoUnbindPending", err)
		}
		// Past the time it would have taken effect, the number stays.
		e.clock.Set(scheduled.Request.EffectiveAt.Add(time.Hour))
		if st, err := e.svc.Status(ctx, acc); err != nil || st.State != binding.StateVerified || st.History[0].Event != binding.EventUnbindCancelled {
			t.Fatalf("status after the cancelled time = %+v, %v", st, err)
		}
		// An operator cancels on the user's word, with the reason.
		other := testenv.Unique("support")
		e2 := newEnvOn(t, fresh(), withHold)
		e2.scheduleRemoval(t, other)
		e2.clock.Advance(time.Minute)
		got, err = e2.svc.SupportCancelUnbind(ctx, other, "ivanova", "the user called: not them")
		if err != nil {
			t.Fatal(err)
		}
		if h := got.History[0]; got.State != binding.StateVerified || h.Event != binding.EventUnbindCancelled ||
			h.Actor != "support:ivanova" || h.Channel != binding.ChannelSupport || h.Reason != "the user called: not them" {
			t.Fatalf("support cancel = %+v / %+v", got, got.History)
		}
	})
}

// TestHoldRaces: real goroutines, each service at its own instant over one
// store.
func TestHoldRaces(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		ctx := context.Background()
		t.Run("completion races a cancel", func(t *testing.T) {
			for range 5 {
				e := newEnvOn(t, fresh(), withHold)
				acc := testenv.Unique("race")
				effective := e.scheduleRemoval(t, acc).Request.EffectiveAt
				canceller, completer := e.twin(t, effective.Add(-time.Millisecond)), e.twin(t, effective)
				var cancelErr, supportErr error
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); _, cancelErr = canceller.CancelUnbind(ctx, acc, "") }()
				// An operator's support unbind finds the hold due and completes it first.
				go func() { defer wg.Done(); _, supportErr = completer.SupportUnbind(ctx, acc, "op", "r", "FB-1") }()
				wg.Wait()
				after, err := e.twin(t, effective.Add(time.Second)).Status(ctx, acc)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case cancelErr == nil:
					// The cancel came first: the number stayed, and the support
					// unbind then removed it as support_unbound.
					if supportErr != nil || after.State != binding.StateNone || after.History[0].Event != binding.EventSupportUnbound ||
						after.History[1].Event != binding.EventUnbindCancelled {
						t.Fatalf("cancel won: support %v, history %+v", supportErr, after.History)
					}
				case errors.Is(cancelErr, binding.ErrNoUnbindPending):
					// The completion came first, dated effective_at; nothing left
					// for support to remove.
					if !errors.Is(supportErr, binding.ErrNoPhoneBound) || after.State != binding.StateNone ||
						after.History[0].Event != binding.EventUnbound || !after.History[0].At.Equal(effective) {
						t.Fatalf("completion won: support %v, history %+v", supportErr, after.History)
					}
				default:
					t.Fatalf("cancel: %v", cancelErr)
				}
				for _, h := range after.History {
					if h.Event == binding.EventUnbound && cancelErr == nil {
						t.Fatalf("both outcomes: %+v", after.History)
					}
				}
			}
		})
		t.Run("an SMS unbind during the hold", func(t *testing.T) {
			for range 5 {
				e := newEnvOn(t, fresh(), withHold)
				acc := testenv.Unique("sms")
				e.scheduleRemoval(t, acc)
				e.clock.Advance(time.Hour)
				sent, err := e.code(binding.CodeRequest{AccountID: acc, Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS})
				if err != nil {
					t.Fatalf("SMS code during the hold: %v", err)
				}
				code := e.sms.lastCode(t, "+79123456789")
				var unbindErr, cancelErr error
				var wg sync.WaitGroup
				wg.Add(2)
				go func() {
					defer wg.Done()
					_, unbindErr = e.svc.Unbind(ctx, binding.Confirmation{Session: e.strongSession(), AccountID: acc, VerificationID: sent.VerificationID, Code: code})
				}()
				go func() { defer wg.Done(); _, cancelErr = e.svc.CancelUnbind(ctx, acc, "") }()
				wg.Wait()
				after, err := e.svc.Status(ctx, acc)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case unbindErr == nil:
					// Removed at once, and the hold with it.
					if !errors.Is(cancelErr, binding.ErrNoUnbindPending) || after.State != binding.StateNone ||
						after.History[0].Event != binding.EventUnbound || after.History[0].Channel != binding.ChannelSMS {
						t.Fatalf("SMS unbind won: cancel %v, status %+v", cancelErr, after)
					}
					e.bind(t, testenv.Unique("taker"), "+79123456789")
				case errors.Is(unbindErr, binding.ErrStale):
					if cancelErr != nil || after.State != binding.StateVerified || after.History[0].Event != binding.EventUnbindCancelled {
						t.Fatalf("cancel won: cancel %v, status %+v", cancelErr, after)
					}
				default:
					t.Fatalf("SMS unbind: %v", unbindErr)
				}
			}
		})
		t.Run("another account binds around effective_at", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				offset time.Duration
				want   error
			}{{"a millisecond before", -time.Millisecond, binding.ErrPhoneTaken}, {"a millisecond after", time.Millisecond, nil}} {
				t.Run(tc.name, func(t *testing.T) {
					e := newEnvOn(t, fresh(), withHold)
					holder, taker := testenv.Unique("holder"), testenv.Unique("taker")
					effective := e.scheduleRemoval(t, holder).Request.EffectiveAt
					e.clock.Set(effective.Add(-2 * time.Minute))
					sent, err := e.request(t, taker, "+79123456789")
					if err != nil {
						t.Fatal(err)
					}
					code := e.sms.lastCode(t, "+79123456789")
					at := effective.Add(tc.offset)
					binder, reader := e.twin(t, at), e.twin(t, at)
					var bindErr, readErr error
					var holderState binding.State
					var wg sync.WaitGroup
					wg.Add(2)
					go func() {
						defer wg.Done()
						_, bindErr = binder.Confirm(ctx, binding.Confirmation{AccountID: taker, VerificationID: sent.VerificationID, Code: code})
					}()
					go func() {
						defer wg.Done()
						var s binding.Status
						s, readErr = reader.Status(ctx, holder)
						holderState = s.State
					}()
					wg.Wait()
					if readErr != nil || !errors.Is(bindErr, tc.want) || (tc.want == nil) != (holderState == binding.StateNone) {
						t.Fatalf("bind %s effective_at: err = %v (want %v); holder reads %s (%v)", tc.name, bindErr, tc.want, holderState, readErr)
					}
					if tc.want == nil {
						if s, _ := e.twin(t, at).Status(ctx, taker); s.State != binding.StateVerified {
							t.Fatalf("taker after the bind: %+v", s)
						}
					}
				})
			}
		})
	})
}

// Every SMS the hold sends a number is one the alert function relays
// (binding.IsAlertText): the unbind function has no SMS grant of its own.
func TestHoldAlertsAreRelayable(t *testing.T) {
	e := newEnv(t, withHold)
	acc := testenv.Unique("relay")
	e.scheduleRemoval(t, acc)
	e.clock.Advance(time.Minute)
	if _, err := e.svc.CancelUnbind(context.Background(), acc, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	sms := e.sms.to("+79123456789")
	var alerts int
	for _, body := range sms {
		if strings.Contains(body, "Код") {
			continue // the bind and unbind codes go out from request-code
		}
		alerts++
		if !binding.IsAlertText(body) {
			t.Errorf("the alert function would refuse %q", body)
		}
	}
	if alerts < 2 {
		t.Fatalf("%d alerts in %q, want the scheduled and the cancelled notices", alerts, sms)
	}
	if binding.IsAlertText("Номер будет отвязан от профиля Госуслуг завтра. Код 123456") {
		t.Error("a text of the scheduled notice's shape with other words is relayed")
	}
}

// An SMS unbind code confirmed after the hold took effect is not an error:
// the removal it asked for is done, and the caller sees the number gone.
func TestSMSUnbindAfterTheHoldTookEffect(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), withHold)
		acc := testenv.Unique("late")
		effective := e.scheduleRemoval(t, acc).Request.EffectiveAt
		e.clock.Set(effective.Add(-2 * time.Minute))
		sent, err := e.code(binding.CodeRequest{AccountID: acc, Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Set(effective.Add(time.Minute))
		st, err := e.svc.Unbind(context.Background(), binding.Confirmation{Session: e.strongSession(), AccountID: acc, VerificationID: sent.VerificationID, Code: e.sms.lastCode(t, "+79123456789")})
		if err != nil || st.State != binding.StateNone || st.History[0].Event != binding.EventUnbound || !st.History[0].At.Equal(effective) {
			t.Fatalf("SMS code after effective_at: %+v, %v", st, err)
		}
	})
}

// A hold completed after another account took the number (it bound it past
// effective_at) is not told to the number: it is the taker's now.
func TestLapseAfterTheNumberWasTakenTellsNobody(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), withHold)
		holder, taker := testenv.Unique("holder"), testenv.Unique("taker")
		effective := e.scheduleRemoval(t, holder).Request.EffectiveAt
		e.clock.Set(effective.Add(time.Minute))
		e.bind(t, taker, "+79123456789")
		before := len(e.sms.to("+79123456789"))
		// The holder's next write completes its removal.
		e.clock.Advance(time.Minute)
		if _, err := e.request(t, holder, "+79161234567"); err != nil {
			t.Fatal(err)
		}
		if got := e.sms.to("+79123456789")[before:]; len(got) != 0 {
			t.Fatalf("the taker's number was told of the holder's removal: %q", got)
		}
		if st, err := e.svc.Status(context.Background(), taker); err != nil || st.State != binding.StateVerified {
			t.Fatalf("taker's status = %+v, %v", st, err)
		}
	})
}
