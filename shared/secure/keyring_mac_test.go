package secure

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// referenceMAC is the MAC as computed before the HMAC states were reused.
func referenceMAC(master []byte, domain string, msg []byte) string {
	m := hmac.New(sha256.New, derive(master, domain))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func TestMACsMatchAFreshHMAC(t *testing.T) {
	var material struct {
		HMACKey string `json:"hmac_key"`
	}
	if err := json.Unmarshal([]byte(devKeyMaterial), &material); err != nil {
		t.Fatal(err)
	}
	master, err := base64.StdEncoding.DecodeString(material.HMACKey)
	if err != nil {
		t.Fatal(err)
	}
	k := DevKeyring()
	long := strings.Repeat("x", 5000) // past the kept scratch size
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s := fmt.Sprintf("+7912%07d-%d", i, g)
				if i%50 == 0 {
					s += long
				}
				if got, want := k.PhoneMAC(s), referenceMAC(master, domainPhone, []byte(s)); got != want {
					t.Errorf("PhoneMAC(%q) = %s, want %s", s, got, want)
				}
				if got, want := k.SourceMAC(s), referenceMAC(master, domainSource, []byte(s)); got != want {
					t.Errorf("SourceMAC(%q) = %s, want %s", s, got, want)
				}
				msg := binary.BigEndian.AppendUint64(nil, uint64(len(s)))
				msg = append(append(msg, s...), "123456"...)
				if got, want := k.CodeMAC(s, "123456"), referenceMAC(master, domainCode, msg); got != want {
					t.Errorf("CodeMAC(%q) = %s, want %s", s, got, want)
				}
				keyID, ct, err := k.Seal(s)
				if err != nil {
					t.Error(err)
					return
				}
				if plain, err := k.Open(keyID, ct); err != nil || plain != s {
					t.Errorf("Open(Seal(%q)) = %q, %v", s, plain, err)
				}
			}
		}()
	}
	wg.Wait()
}
