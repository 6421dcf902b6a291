package binding_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Step-up (SPEC §1): a change and an unbind by SMS need a second factor and
// a recent sign-in, an unbind by e-mail only the recent sign-in, a first
// bind neither; a refusal comes before any code is sent or written.
func TestStepUp(t *testing.T) {
	bound := func(t *testing.T, e *env) { e.boundPastCooldown(t, "acc") }
	change := binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeBind, Phone: number(t, "+79161234567"), Consent: true}
	bySMS := binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS}
	byEmail := binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelEmail, Email: "ivan@example.ru"}
	password := func(ago time.Duration) func(*env) binding.Session {
		return func(e *env) binding.Session {
			return binding.Session{AMR: []string{"pwd"}, AuthTime: e.clock.Now().Add(-ago)}
		}
	}
	secondFactor := func(ago time.Duration) func(*env) binding.Session {
		return func(e *env) binding.Session {
			return binding.Session{AMR: []string{"pwd", "otp"}, AuthTime: e.clock.Now().Add(-ago)}
		}
	}
	tests := []struct {
		name    string
		setup   func(*testing.T, *env)
		req     binding.CodeRequest
		session func(*env) binding.Session
		acr     []string
		// wantFactor is nil when the request goes through, else whether the
		// challenge asks for a second factor.
		wantFactor *bool
	}{
		{name: "first bind with a password sign-in of an hour ago", req: change, session: password(time.Hour)},
		{name: "change with a password only", setup: bound, req: change, session: password(time.Minute), wantFactor: ptr(true)},
		{name: "change with a second factor", setup: bound, req: change, session: secondFactor(time.Minute)},
		{name: "change with a second factor 16 minutes old", setup: bound, req: change, session: secondFactor(16 * time.Minute), wantFactor: ptr(true)},
		{name: "change with a sign-in dated in the future", setup: bound, req: change, session: secondFactor(-10 * time.Minute), wantFactor: ptr(true)},
		{name: "change with an acr the deployment names", setup: bound, req: change, acr: []string{"urn:esia:loa:high"},
			session: func(e *env) binding.Session {
				return binding.Session{ACR: "urn:esia:loa:high", AuthTime: e.clock.Now()}
			}},
		{name: "unbind by SMS with a password only", setup: bound, req: bySMS, session: password(time.Minute), wantFactor: ptr(true)},
		{name: "unbind by SMS with a second factor", setup: bound, req: bySMS, session: secondFactor(time.Minute)},
		{name: "unbind by e-mail with a fresh password sign-in", setup: bound, req: byEmail, session: password(time.Minute)},
		{name: "unbind by e-mail with a stale sign-in", setup: bound, req: byEmail, session: password(20 * time.Minute), wantFactor: ptr(false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *binding.Config) { c.StepUp.ACR = tt.acr })
			if tt.setup != nil {
				tt.setup(t, e)
			}
			before := len(e.sms.sent)
			req := tt.req
			req.Session = tt.session(e)
			_, err := e.svc.RequestCode(context.Background(), req)
			if tt.wantFactor == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var up *binding.StepUpError
			if !errors.As(err, &up) || up.SecondFactor != *tt.wantFactor || up.MaxAge != 15*time.Minute {
				t.Fatalf("err = %v, want a step-up challenge (second factor %v)", err, *tt.wantFactor)
			}
			if len(e.sms.sent) != before {
				t.Errorf("a refused request sent %d messages", len(e.sms.sent)-before)
			}
			// Nothing was written: the same request with a strong session
			// goes through at once, with no resend wait and no pending code.
			st, err := e.svc.Status(context.Background(), "acc")
			if err != nil || st.Request != nil && st.Request.State == binding.RequestPending {
				t.Errorf("status after a refusal: %+v, %v", st, err)
			}
			req.Session = e.strongSession()
			if _, err := e.svc.RequestCode(context.Background(), req); err != nil {
				t.Errorf("the same request after stepping up: %v", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Confirming a code needs the step-up its request needed: a session weaker
// than the one that asked (no second factor, or an old sign-in) cannot
// complete a change or a removal with it.
func TestStepUpAtConfirm(t *testing.T) {
	e := newEnv(t)
	sent := e.changeAsked(t, "acc", "+79161234567")
	code := e.sms.lastCode(t, "+79161234567")
	weak := binding.Confirmation{AccountID: "acc", VerificationID: sent.VerificationID, Code: code,
		Session: binding.Session{AMR: []string{"pwd"}, AuthTime: e.clock.Now()}}
	var up *binding.StepUpError
	if _, err := e.svc.Confirm(context.Background(), weak); !errors.As(err, &up) || !up.SecondFactor {
		t.Fatalf("a change confirmed by a password-only session: err = %v", err)
	}
	if st, _ := e.svc.Status(context.Background(), "acc"); st.Phone != "+7 912 ***-**-89" {
		t.Fatalf("the number changed anyway: %+v", st)
	}
	strong := weak
	strong.Session = e.strongSession()
	if st, err := e.svc.Confirm(context.Background(), strong); err != nil || st.Phone != "+7 916 ***-**-67" {
		t.Fatalf("the same code from a strong session: %+v, %v", st, err)
	}
}
