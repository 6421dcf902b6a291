package secure

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func mustParse(t *testing.T, data []byte) *Keyring {
	t.Helper()
	k, err := ParseKeyring(data)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := DevKeyring()
	for _, plain := range []string{"+79123456789", "", "юникод ✓", strings.Repeat("x", 4096)} {
		id, ct, err := k.Seal(plain)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if id != "dev1" {
			t.Errorf("key id = %q, want dev1", id)
		}
		if plain != "" && strings.Contains(ct, plain) {
			t.Errorf("ciphertext contains the plaintext")
		}
		got, err := k.Open(id, ct)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if got != plain {
			t.Errorf("Open = %q, want %q", got, plain)
		}
	}
}

func TestSealUsesFreshNonce(t *testing.T) {
	k := DevKeyring()
	_, a, _ := k.Seal("+79123456789")
	_, b, _ := k.Seal("+79123456789")
	if a == b {
		t.Fatal("two seals of the same plaintext gave the same ciphertext")
	}
}

func TestRotation(t *testing.T) {
	hmacKey := NewKey()
	k1, k2 := NewKey(), NewKey()
	before := mustParse(t, Material(hmacKey, map[string][]byte{"k1": k1}, "k1"))
	after := mustParse(t, Material(hmacKey, map[string][]byte{"k1": k1, "k2": k2}, "k2"))

	id, ct, err := before.Seal("+79123456789")
	if err != nil || id != "k1" {
		t.Fatalf("Seal before rotation = %q, %v; want k1", id, err)
	}
	got, err := after.Open(id, ct)
	if err != nil || got != "+79123456789" {
		t.Fatalf("Open old ciphertext after rotation = %q, %v", got, err)
	}
	id2, ct2, err := after.Seal("+79123456789")
	if err != nil || id2 != "k2" {
		t.Fatalf("Seal after rotation = %q, %v; want k2", id2, err)
	}
	if _, err := before.Open(id2, ct2); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring opening a k2 ciphertext: err = %v, want ErrUnknownKey", err)
	}
	// The HMAC key did not change, so MACs stay the same across rotation.
	if before.PhoneMAC("+79123456789") != after.PhoneMAC("+79123456789") {
		t.Error("PhoneMAC changed with an encryption key rotation")
	}
	if got := after.KeyIDs(); fmt.Sprint(got) != "[k1 k2]" || after.CurrentKeyID() != "k2" {
		t.Errorf("KeyIDs = %v, CurrentKeyID = %q", got, after.CurrentKeyID())
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	k := DevKeyring()
	id, ct, err := k.Seal("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(ct)
	for i := range raw {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 0x01
		if _, err := k.Open(id, base64.StdEncoding.EncodeToString(bad)); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("flipped byte %d: err = %v, want ErrDecrypt", i, err)
		}
	}
	for name, c := range map[string]string{
		"empty":     "",
		"not b64":   "!!!",
		"truncated": base64.StdEncoding.EncodeToString(raw[:NonceSize+3]),
	} {
		if _, err := k.Open(id, c); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v, want ErrDecrypt", name, err)
		}
	}
}

func TestOpenWrongKeyID(t *testing.T) {
	hmacKey := NewKey()
	k := mustParse(t, Material(hmacKey, map[string][]byte{"k1": NewKey(), "k2": NewKey()}, "k2"))
	id, ct, err := k.Seal("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open("nope", ct); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown id: err = %v, want ErrUnknownKey", err)
	}
	// Relabelling a k2 ciphertext as k1 fails: wrong key, and the id is AAD.
	if id != "k2" {
		t.Fatalf("id = %q", id)
	}
	if _, err := k.Open("k1", ct); !errors.Is(err, ErrDecrypt) {
		t.Errorf("relabelled: err = %v, want ErrDecrypt", err)
	}
}

func TestKeyIDIsAdditionalData(t *testing.T) {
	// Same key bytes under two ids: only the AAD differs.
	key := NewKey()
	k := mustParse(t, Material(NewKey(), map[string][]byte{"a": key, "b": key}, "a"))
	_, ct, err := k.Seal("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open("b", ct); !errors.Is(err, ErrDecrypt) {
		t.Errorf("open under another id with the same key bytes: err = %v, want ErrDecrypt", err)
	}
}

func TestMACs(t *testing.T) {
	k := DevKeyring()
	other := mustParse(t, Material(NewKey(), map[string][]byte{"k1": NewKey()}, "k1"))

	if a, b := k.PhoneMAC("+79123456789"), k.PhoneMAC("+79123456789"); a != b {
		t.Error("PhoneMAC is not deterministic")
	}
	if k.PhoneMAC("+79123456789") != DevKeyring().PhoneMAC("+79123456789") {
		t.Error("PhoneMAC differs between two rings with the same material")
	}
	if k.PhoneMAC("+79123456789") == k.PhoneMAC("+79123456788") {
		t.Error("PhoneMAC collides for different numbers")
	}
	if k.PhoneMAC("+79123456789") == other.PhoneMAC("+79123456789") {
		t.Error("PhoneMAC ignores the key")
	}
	if a, b := k.CodeMAC("v1", "123456"), k.CodeMAC("v1", "123456"); a != b {
		t.Error("CodeMAC is not deterministic")
	}
	if k.CodeMAC("v1", "123456") == k.CodeMAC("v2", "123456") {
		t.Error("CodeMAC ignores the verification id")
	}
	// The id/code boundary is unambiguous.
	if k.CodeMAC("ab", "123") == k.CodeMAC("a", "b123") {
		t.Error("CodeMAC confuses where the id ends")
	}

	// Domain separation: the same input in different roles differs.
	s := "+79123456789"
	macs := map[string]string{
		"phone":  k.PhoneMAC(s),
		"source": k.SourceMAC(s),
		"code":   k.CodeMAC("", s),
	}
	seen := map[string]string{}
	for role, m := range macs {
		if len(m) != 64 || strings.Trim(m, "0123456789abcdef") != "" {
			t.Errorf("%s MAC %q is not 64 hex digits", role, m)
		}
		if prev, ok := seen[m]; ok {
			t.Errorf("%s and %s MACs of the same input are equal", role, prev)
		}
		seen[m] = role
	}
}

func TestParseKeyringErrors(t *testing.T) {
	good32 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{`, "parse key material"},
		{"unknown field", `{"current":"k1","hmac_key":"` + good32 + `","keys":{"k1":"` + good32 + `"},"extra":1}`, "unknown field"},
		{"no hmac", `{"current":"k1","keys":{"k1":"` + good32 + `"}}`, "hmac_key is missing"},
		{"short hmac", `{"current":"k1","hmac_key":"` + short + `","keys":{"k1":"` + good32 + `"}}`, "hmac_key has 16 bytes"},
		{"bad hmac b64", `{"current":"k1","hmac_key":"%%%","keys":{"k1":"` + good32 + `"}}`, "hmac_key: not standard base64"},
		{"no keys", `{"current":"k1","hmac_key":"` + good32 + `","keys":{}}`, "keys is empty"},
		{"short key", `{"current":"k1","hmac_key":"` + good32 + `","keys":{"k1":"` + short + `"}}`, "key k1 has 16 bytes, need 32"},
		{"bad key b64", `{"current":"k1","hmac_key":"` + good32 + `","keys":{"k1":"***"}}`, "key k1: not standard base64"},
		{"bad key id", `{"current":"k 1","hmac_key":"` + good32 + `","keys":{"k 1":"` + good32 + `"}}`, `key id "k 1"`},
		{"no current", `{"hmac_key":"` + good32 + `","keys":{"k1":"` + good32 + `"}}`, "current is missing"},
		{"current not in keys", `{"current":"k9","hmac_key":"` + good32 + `","keys":{"k1":"` + good32 + `"}}`, `current key "k9" is not in keys`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyring([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), good32) || strings.Contains(err.Error(), short) {
				t.Errorf("error leaks key material: %v", err)
			}
		})
	}
}

func TestKeyringDoesNotPrintKeyMaterial(t *testing.T) {
	k := DevKeyring()
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(format, k)
		if strings.Contains(out, "NOT-SECRET") || strings.Contains(strings.ToLower(out), "70686f6e6562696e64") {
			t.Errorf("%s prints key material: %s", format, out)
		}
	}
	if got := k.String(); got != "secure.Keyring{current: dev1, keys: [dev1]}" {
		t.Errorf("String = %q", got)
	}
}
