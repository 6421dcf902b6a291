package binding

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maskEmail shows where an e-mailed code went without spelling out the
// address: the first character of the local part and the whole domain,
// "i***@example.ru". An address without "@" is masked whole.
func maskEmail(addr string) string {
	local, domain, ok := strings.Cut(strings.TrimSpace(addr), "@")
	r, _ := utf8.DecodeRuneInString(local)
	if !ok || local == "" || r == utf8.RuneError {
		return "***"
	}
	return string(r) + "***@" + domain
}

// SealedEmail is the account's verified e-mail address as kept on the
// profile, like a number: a keyed hash to tell a new address from the one
// kept without opening it, a ciphertext for the moment a letter goes, the
// masked form for display. It is kept so that a removal nobody signed in
// for (support unbind, a hold running out) still reaches the mailbox.
type SealedEmail struct {
	HMAC       string
	KeyID      string
	Ciphertext string
	Masked     string
}

// IsZero reports whether no address is sealed here.
func (e SealedEmail) IsZero() bool { return e.HMAC == "" }

// emailMAC is the keyed hash of an address, case-folded as mail systems
// compare domains; the per-destination limit counts the same value.
func (s *Service) emailMAC(addr string) string {
	return s.keys.PhoneMAC("mailto:" + strings.ToLower(strings.TrimSpace(addr)))
}

// emailUpdate is the verified address a request brings, sealed, when it
// differs from the one the profile keeps or the one kept is sealed under
// a key that is no longer current (a key rotation: the old key can go
// once no item names it); nil when there is none or it is the same under
// the current key (nothing to write). Sealing to learn the current key
// costs microseconds and keeps Keys as it is.
func (s *Service) emailUpdate(p Profile, addr string) (*SealedEmail, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, nil
	}
	mac := s.emailMAC(addr)
	keyID, sealed, err := s.keys.Seal(addr)
	if err != nil {
		return nil, fmt.Errorf("seal e-mail: %w", err)
	}
	if p.Email.HMAC == mac && p.Email.KeyID == keyID {
		return nil, nil
	}
	return &SealedEmail{HMAC: mac, KeyID: keyID, Ciphertext: sealed, Masked: maskEmail(addr)}, nil
}

// sealEmail is the verified address a commit writes onto the profile
// (zero without one).
func (s *Service) sealEmail(addr string) (SealedEmail, error) {
	e, err := s.emailUpdate(Profile{}, addr)
	if e == nil || err != nil {
		return SealedEmail{}, err
	}
	return *e, nil
}

// addressOf is where the removal letter of profile p goes: the address of
// the session at hand when it has a verified one, else the one the
// profile keeps (opened here; a failure is logged masked and sends none).
func (s *Service) addressOf(ctx context.Context, p Profile, session string) string {
	if addr := strings.TrimSpace(session); addr != "" {
		return addr
	}
	if p.Email.IsZero() {
		return ""
	}
	addr, err := s.keys.Open(p.Email.KeyID, p.Email.Ciphertext)
	if err != nil {
		s.log.ErrorContext(ctx, "open e-mail for letter", "error", err.Error(), "to", p.Email.Masked)
		return ""
	}
	return addr
}
