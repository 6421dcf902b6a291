package secure

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
)

// Material is key material in the JSON form ParseKeyring reads and Secrets
// Manager keeps: the HMAC key, the encryption keys by id, and current, the
// id new ciphertexts are sealed with. It is how infra/keysecret writes a
// new ring and how tests make one.
func Material(hmacKey []byte, keys map[string][]byte, current string) []byte {
	m := keyMaterial{Current: current, HMACKey: base64.StdEncoding.EncodeToString(hmacKey), Keys: map[string]string{}}
	for id, k := range keys {
		m.Keys[id] = base64.StdEncoding.EncodeToString(k)
	}
	b, _ := json.Marshal(m) // strings only: it cannot fail
	return b
}

// NewKey draws a fresh 32-byte key, for the HMAC key or an AES-256 key.
func NewKey() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24 and later)
	return b
}
