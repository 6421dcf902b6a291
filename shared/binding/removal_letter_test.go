package binding_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// letters are the removal letters sent to addr.
func (e *env) letters(addr string) []string {
	var out []string
	for _, b := range e.sms.to(addr) {
		if strings.HasPrefix(b, "Номер телефона отвязан от профиля Госуслуг") {
			out = append(out, b)
		}
	}
	return out
}

// TestRemovalLettersWithoutSession (issue 12, every removal alerts): the
// verified address a bind's session brings is kept on the profile, a
// request that holds the number replaces it with a new one, and a removal
// whose caller has no address (support unbind, an SMS unbind from a
// session without email_verified) is told to the kept one. Both stores.
func TestRemovalLettersWithoutSession(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh())
		ctx := context.Background()
		const num = "+79123456789"
		e.confirmWithEmail(t, "acc", num, "ivan@example.ru")
		if _, err := e.svc.SupportUnbind(ctx, "acc", "ivanova", "SIM lost", "FB-1"); err != nil {
			t.Fatal(err)
		}
		if got := e.letters("ivan@example.ru"); len(got) != 1 || !strings.Contains(got[0], "+7 912 ***-**-89 отвязан") {
			t.Fatalf("letters after the support unbind: %q", got)
		}

		// Bound by a session without an address; the unbind request
		// brings one, the confirming session none.
		e.clock.Advance(time.Hour)
		e.bind(t, "acc", num)
		e.clock.Advance(2 * time.Minute)
		sent, err := e.code(binding.CodeRequest{AccountID: "acc", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS, Email: "petr@example.ru"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Unbind(ctx, binding.Confirmation{Session: e.strongSession(), AccountID: "acc", VerificationID: sent.VerificationID, Code: e.sms.lastCode(t, num)}); err != nil {
			t.Fatal(err)
		}
		if got := e.letters("petr@example.ru"); len(got) != 1 {
			t.Fatalf("letters after an SMS unbind from a session without an address: %q", got)
		}
		if got := e.letters("ivan@example.ru"); len(got) != 1 {
			t.Fatalf("the old address heard of the second removal: %q", got)
		}
	})
}
