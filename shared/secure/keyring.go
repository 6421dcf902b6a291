// Package secure holds the service's key material and everything done with
// it: HMACs that let numbers, source addresses and codes be compared without
// being stored, and AES-256-GCM encryption of the numbers themselves.
//
// Key material never leaves a Keyring: it has no accessor, and a Keyring
// prints only its key ids, so logging one by mistake shows nothing secret.
package secure

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/gosuslugi/phonebind/shared/binding"
)

var _ binding.Keys = (*Keyring)(nil)

// Sizes the key material must have.
const (
	// MinHMACKeySize is the shortest HMAC key accepted: 32 bytes, the
	// SHA-256 block strength; longer keys are fine.
	MinHMACKeySize = 32
	// EncryptionKeySize is the AES-256 key size.
	EncryptionKeySize = 32
	// NonceSize is the GCM nonce size; a fresh random nonce precedes every
	// ciphertext.
	NonceSize = 12
)

// ErrUnknownKey means a ciphertext names a key id the ring no longer (or
// never) held. Match it with errors.Is.
var ErrUnknownKey = errors.New("unknown encryption key id")

// ErrDecrypt means a ciphertext is malformed, was altered, or was sealed
// under another key or key id. Match it with errors.Is.
var ErrDecrypt = errors.New("ciphertext cannot be decrypted")

// Domain labels: each MAC kind gets its own key derived from the one HMAC
// key, so a phone MAC can never equal an IP or code MAC of the same bytes.
const (
	domainPhone  = "phonebind/v1/phone"
	domainSource = "phonebind/v1/source-ip"
	domainCode   = "phonebind/v1/code"
)

// keyIDPattern keeps key ids short and printable: they are stored next to
// every ciphertext and appear in logs.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring is the loaded key material. It implements binding.Keys and is safe
// for concurrent use (it never changes after it is built).
type Keyring struct {
	current   string
	phoneKey  []byte
	sourceKey []byte
	codeKey   []byte
	aeads     map[string]cipher.AEAD
	// currentAD is current as the additional data Seal authenticates.
	currentAD []byte
}

// keyMaterial is the JSON form of the key material, as kept in Secrets
// Manager.
//
// There is one HMAC key and it must never rotate: PhoneMAC is what makes a
// number unique across accounts and what per-number limits count by, so a new
// HMAC key would let an already bound number be bound a second time and
// would reset its limits. Only the encryption keys rotate: add a key to
// "keys", point "current" at it, and keep the old ones as long as any item
// still holds a ciphertext made under them.
type keyMaterial struct {
	// Current is the id of the key new ciphertexts are sealed with.
	Current string `json:"current"`
	// HMACKey is base64 (standard alphabet, padded) of at least 32 bytes.
	HMACKey string `json:"hmac_key"`
	// Keys maps key ids to base64 of 32-byte AES-256 keys.
	Keys map[string]string `json:"keys"`
}

// ParseKeyring builds a Keyring from the JSON key material
//
//	{"current":"k2","hmac_key":"<base64, 32+ bytes>","keys":{"k1":"<base64, 32 bytes>","k2":"…"}}
//
// It checks every length and that current names one of the keys. Its errors
// never contain key material.
func ParseKeyring(data []byte) (*Keyring, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m keyMaterial
	if err := dec.Decode(&m); err != nil {
		// json's syntax and type errors name offsets and fields, not values.
		return nil, fmt.Errorf("parse key material: %w", err)
	}
	var problems []error
	hmacKey, err := decodeKey(m.HMACKey)
	switch {
	case m.HMACKey == "":
		problems = append(problems, errors.New("hmac_key is missing"))
	case err != nil:
		problems = append(problems, fmt.Errorf("hmac_key: %w", err))
	case len(hmacKey) < MinHMACKeySize:
		problems = append(problems, fmt.Errorf("hmac_key has %d bytes, need at least %d", len(hmacKey), MinHMACKeySize))
	}
	if len(m.Keys) == 0 {
		problems = append(problems, errors.New("keys is empty"))
	}
	aeads := make(map[string]cipher.AEAD, len(m.Keys))
	for _, id := range slices.Sorted(maps.Keys(m.Keys)) {
		if !keyIDPattern.MatchString(id) {
			problems = append(problems, fmt.Errorf("key id %q: use 1 to 64 letters, digits, '.', '_' or '-'", id))
			continue
		}
		key, err := decodeKey(m.Keys[id])
		if err != nil {
			problems = append(problems, fmt.Errorf("key %s: %w", id, err))
			continue
		}
		if len(key) != EncryptionKeySize {
			problems = append(problems, fmt.Errorf("key %s has %d bytes, need %d", id, len(key), EncryptionKeySize))
			continue
		}
		aead, err := newAEAD(key)
		if err != nil {
			problems = append(problems, fmt.Errorf("key %s: %w", id, err))
			continue
		}
		aeads[id] = aead
	}
	switch {
	case m.Current == "":
		problems = append(problems, errors.New("current is missing"))
	case !hasKey(m.Keys, m.Current):
		problems = append(problems, fmt.Errorf("current key %q is not in keys", m.Current))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid key material: %w", errors.Join(problems...))
	}
	return &Keyring{
		current:   m.Current,
		phoneKey:  derive(hmacKey, domainPhone),
		sourceKey: derive(hmacKey, domainSource),
		codeKey:   derive(hmacKey, domainCode),
		aeads:     aeads,
		currentAD: []byte(m.Current),
	}, nil
}

// devKeyMaterial is NOT SECRET. It is published in this source file so that
// local runs and tests work without Secrets Manager; anything it protects is
// readable by anyone. Deployed functions always load KEYS_SECRET_ARN.
const devKeyMaterial = `{
  "current": "dev1",
  "hmac_key": "cGhvbmViaW5kLWRldi1obWFjLWtleS1OT1QtU0VDUkVULWRvLW5vdC11c2U=",
  "keys": {"dev1": "cGhvbmViaW5kLWRldjEtYWVzLU5PVC1TRUNSRVQhISE="}
}`

// DevKeyring returns the fixed development key material, which is NOT
// SECRET: it is in the source code. It exists for local runs and tests, when
// KEYS_SECRET_ARN is empty; never use it for real numbers.
func DevKeyring() *Keyring {
	k, err := ParseKeyring([]byte(devKeyMaterial))
	if err != nil {
		panic("secure: development key material is invalid: " + err.Error())
	}
	return k
}

// CurrentKeyID is the id of the key Seal uses now.
func (k *Keyring) CurrentKeyID() string { return k.current }

// KeyIDs lists, sorted, every key id Open accepts.
func (k *Keyring) KeyIDs() []string { return slices.Sorted(maps.Keys(k.aeads)) }

// String shows key ids only, never key material, so a Keyring that ends up in
// a log line or an error message gives nothing away.
func (k *Keyring) String() string {
	if k == nil {
		return "secure.Keyring(nil)"
	}
	return fmt.Sprintf("secure.Keyring{current: %s, keys: [%s]}", k.current, strings.Join(k.KeyIDs(), " "))
}

// GoString is String, so %#v does not print the key material either.
func (k *Keyring) GoString() string { return k.String() }

// PhoneMAC is the hex HMAC-SHA256 of an E.164 number under the phone key:
// the same number always gives the same value, which is what makes it usable
// as a uniqueness key.
func (k *Keyring) PhoneMAC(e164 string) string {
	return mac(k.phoneKey, []byte(e164))
}

// SourceMAC is the hex HMAC-SHA256 of a client IP address under the source
// key, for per-address limits that do not store the address.
func (k *Keyring) SourceMAC(ip string) string {
	return mac(k.sourceKey, []byte(ip))
}

// CodeMAC is the hex HMAC-SHA256 of a verification id and a code under the
// code key. The id is length-prefixed, so no other (id, code) split of the
// same bytes gives the same MAC; binding the code to its verification means
// one code's MAC is useless for any other verification.
func (k *Keyring) CodeMAC(verificationID, code string) string {
	msg := binary.BigEndian.AppendUint64(nil, uint64(len(verificationID)))
	msg = append(msg, verificationID...)
	return mac(k.codeKey, append(msg, code...))
}

// Seal encrypts plaintext with AES-256-GCM under the current key and returns
// that key's id with base64 (standard, padded) of nonce||ciphertext||tag. The
// key id is the additional data, so a ciphertext relabelled with another id
// fails to open.
func (k *Keyring) Seal(plaintext string) (keyID, ciphertext string, err error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, NonceSize, NonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", "", fmt.Errorf("seal: read nonce: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(plaintext), k.currentAD)
	return k.current, base64.StdEncoding.EncodeToString(sealed), nil
}

// Open decrypts what Seal produced, under any key still in the ring. It fails
// with ErrUnknownKey for a key id the ring does not hold and ErrDecrypt for
// anything malformed or altered.
func (k *Keyring) Open(keyID, ciphertext string) (string, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return "", fmt.Errorf("open: key id %q: %w", keyID, ErrUnknownKey)
	}
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", fmt.Errorf("open: not base64: %w", ErrDecrypt)
	}
	if len(raw) < NonceSize+aead.Overhead() {
		return "", fmt.Errorf("open: too short: %w", ErrDecrypt)
	}
	plain, err := aead.Open(nil, raw[:NonceSize], raw[NonceSize:], []byte(keyID))
	if err != nil {
		return "", fmt.Errorf("open with key %q: %w", keyID, ErrDecrypt)
	}
	return string(plain), nil
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// The error names a byte offset, never the data.
		return nil, fmt.Errorf("not standard base64: %w", err)
	}
	return b, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// derive gives each MAC domain its own key: HMAC-SHA256(master, label).
func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// mac is the hex HMAC-SHA256 of msg under key.
func mac(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
