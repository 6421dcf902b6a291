package feedback

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosuslugi/phonebind/shared/phone"
)

// ContactInput is a validated contact before it is sealed: a mobile number
// or an e-mail address, or neither (zero) when none was given.
type ContactInput struct {
	Phone phone.Number
	Email Email
}

// IsZero reports whether no contact was given.
func (c ContactInput) IsZero() bool { return c.Phone.IsZero() && c.Email.IsZero() }

// ParseContact reads the optional contact of a ticket: blank is none, text
// with an "@" must be an e-mail address, anything else a mobile number that
// the parser accepts (SPEC §2). A refusal is a *ContactError.
func ParseContact(raw string, phones PhoneParser) (ContactInput, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ContactInput{}, nil
	}
	if strings.Contains(raw, "@") {
		e, err := ParseEmail(raw)
		if err != nil {
			return ContactInput{}, err
		}
		return ContactInput{Email: e}, nil
	}
	n, err := phones.Parse(raw)
	var invalid *phone.InvalidError
	if errors.As(err, &invalid) {
		return ContactInput{}, &ContactError{Reason: string(invalid.Reason)}
	}
	if err != nil {
		return ContactInput{}, &ContactError{Reason: string(phone.ReasonInvalidNumber)}
	}
	return ContactInput{Phone: n}, nil
}

// Email is a validated e-mail address.
type Email struct{ addr string }

// Address is the address as typed, trimmed. It must never be logged.
func (e Email) Address() string { return e.addr }

// IsZero reports whether e holds no address.
func (e Email) IsZero() bool { return e.addr == "" }

// Masked is the form safe to show and store: the first character of the
// local part and the whole domain, "i***@example.ru".
func (e Email) Masked() string {
	local, domain, _ := strings.Cut(e.addr, "@")
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "***@" + domain
}

// Bounds of an address (RFC 5321 §4.5.3.1).
const (
	maxEmailBytes = 254
	maxLocalBytes = 64
	maxLabelBytes = 63
)

// ParseEmail accepts a bare address that mail can be delivered to:
// local@domain, no display name or comments, a domain of at least two
// labels of letters (Cyrillic ones too: почта.рф), digits and inner hyphens,
// ending in a top-level domain of letters or an IDNA "xn--" label.
func ParseEmail(raw string) (Email, error) {
	bad := &ContactError{Reason: ContactInvalidEmail}
	s := strings.TrimSpace(raw)
	if s == "" || len(s) > maxEmailBytes || strings.Count(s, "@") != 1 {
		return Email{}, bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return Email{}, bad
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || len(local) > maxLocalBytes || !validDomain(domain) {
		return Email{}, bad
	}
	return Email{addr: s}, nil
}

func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelBytes || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(strings.ToLower(tld), "xn--") {
		return true
	}
	if utf8.RuneCountInString(tld) < 2 {
		return false
	}
	for _, r := range tld {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
