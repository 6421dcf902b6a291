package ops

import (
	"context"
	"encoding/json"
	"fmt"
)

// KeyRing is what keys_check needs of the key ring the function loaded at
// its cold start (secure.Keyring).
type KeyRing interface {
	Seal(plaintext string) (keyID, ciphertext string, err error)
	Open(keyID, ciphertext string) (string, error)
	CurrentKeyID() string
	KeyIDs() []string
}

// keysCheckValue is what keys_check seals and opens: a fixed test value,
// never a number or a code.
const keysCheckValue = "phonebind keys_check"

// KeysCheckResult is what the operator reads: key ids only, never material.
type KeysCheckResult struct {
	// Current is the key new numbers are sealed under.
	Current string `json:"current"`
	// Keys are every key id the function opens.
	Keys []string `json:"keys"`
	// SealedAndOpened says a test value sealed under Current opened again.
	SealedAndOpened bool `json:"sealed_and_opened"`
}

// KeysCheck is the keys_check action of every function that holds key
// material: {"action":"keys_check"} seals a test value under the current
// key and opens it, and answers the key ids the function loaded. It is the
// smoke test's proof that KeysSecretArn names a readable secret with
// working keys (`make smoke`), and the check after each step of a key
// rotation that a function runs the new ring (docs/operations.md).
func KeysCheck(keys KeyRing) Action {
	return func(_ context.Context, raw json.RawMessage) (any, error) {
		var ev struct {
			Action string `json:"action"`
		}
		if err := Decode(raw, &ev); err != nil {
			return nil, err
		}
		id, sealed, err := keys.Seal(keysCheckValue)
		if err != nil {
			return nil, fmt.Errorf("seal the test value: %w", err)
		}
		opened, err := keys.Open(id, sealed)
		if err != nil {
			return nil, fmt.Errorf("open the test value sealed under key %s: %w", id, err)
		}
		if opened != keysCheckValue {
			return nil, fmt.Errorf("the test value sealed under key %s opened to something else", id)
		}
		return KeysCheckResult{Current: keys.CurrentKeyID(), Keys: keys.KeyIDs(), SealedAndOpened: true}, nil
	}
}
