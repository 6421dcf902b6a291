package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/ops"
	"github.com/gosuslugi/phonebind/shared/secure"
)

// TestKeysCheckOnEveryKeyHolder: every function that holds key material
// answers keys_check with its ring's ids and a sealed test value opened
// again; status, which holds none, does not take it.
func TestKeysCheckOnEveryKeyHolder(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, core.Options{Local: true})
	if err != nil {
		t.Fatal(err)
	}
	dev := secure.DevKeyring()
	for _, fn := range []string{"request-code", "confirm-code", "unbind", "feedback"} {
		h, err := a.Lambda(fn)
		if err != nil {
			t.Fatal(err)
		}
		out, err := h(ctx, json.RawMessage(`{"action":"keys_check"}`))
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		res, ok := out.(ops.Result)
		got, _ := res.Result.(ops.KeysCheckResult)
		if !ok || !res.OK || !got.SealedAndOpened || got.Current != dev.CurrentKeyID() || !slices.Equal(got.Keys, dev.KeyIDs()) {
			t.Errorf("%s keys_check = %+v", fn, out)
		}
		raw, _ := json.Marshal(out)
		if strings.Contains(string(raw), "phonebind keys_check") {
			t.Errorf("%s keys_check shows its test value: %s", fn, raw)
		}
	}
	h, err := a.Lambda("status")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := h(ctx, json.RawMessage(`{"action":"keys_check"}`))
	if res, ok := out.(ops.Result); !ok || res.Error == nil || res.Error.Code != "unknown_action" {
		t.Errorf("status (no key material) took keys_check: %+v", out)
	}
}

// brokenRing seals what it cannot open, as a ring whose keys do not work.
type brokenRing struct{ ops.KeyRing }

func (brokenRing) Open(string, string) (string, error) { return "", secure.ErrDecrypt }

func TestKeysCheckFailsOnARingThatDoesNotOpen(t *testing.T) {
	act := ops.KeysCheck(brokenRing{secure.DevKeyring()})
	_, err := act(context.Background(), json.RawMessage(`{"action":"keys_check"}`))
	if !errors.Is(err, secure.ErrDecrypt) {
		t.Fatalf("keys_check on a ring that cannot open: %v", err)
	}
	_, err = act(context.Background(), json.RawMessage(`{"action":"keys_check","extra":1}`))
	var refused *ops.Error
	if !errors.As(err, &refused) || refused.Field != "extra" {
		t.Fatalf("an unknown field: %v", err)
	}
}
