package phone

import "strings"

// Digit-count bounds, checked before any metadata is consulted.
const (
	// ruNationalDigits is the length of every Russian (and Kazakh) national
	// significant number: the whole +7 plan is ten digits after the code.
	ruNationalDigits = 10
	// minDigits and maxDigits bound a full international number, country code
	// included. E.164 allows at most 15; no mobile anywhere is shorter than 8
	// (Saint Helena and the Falklands, +290/+500 and five digits, are the
	// shortest).
	minDigits = 8
	maxDigits = 15
)

// defaultRegion is the region allowed when none are configured (SPEC §2).
const defaultRegion = "RU"

// Parser turns what people type into a validated mobile Number. It holds only
// the allowed regions, so one Parser built at cold start is safe to share
// between concurrent requests.
type Parser struct {
	// allowed is a short list (usually one or two entries): a linear scan
	// beats a map at this size and allocates nothing.
	allowed []string
}

// NewParser builds a Parser that accepts numbers from allowedRegions, ISO
// 3166 codes such as "RU" or "KZ" (case and surrounding spaces ignored).
// Blank entries are skipped; an empty list means just RU, the SPEC default.
func NewParser(allowedRegions []string) *Parser {
	p := &Parser{}
	for _, r := range allowedRegions {
		r = strings.ToUpper(strings.TrimSpace(r))
		if r == "" || p.allows(r) {
			continue
		}
		p.allowed = append(p.allowed, r)
	}
	if len(p.allowed) == 0 {
		p.allowed = []string{defaultRegion}
	}
	return p
}

func (p *Parser) allows(region string) bool {
	for _, r := range p.allowed {
		if r == region {
			return true
		}
	}
	return false
}

// Parse accepts the forms people type (+7 912 345-67-89, 8 (912) 345 67 89,
// +79123456789, 79123456789, 9123456789) and returns the canonical number.
// A refusal is always an *InvalidError whose Reason is the first failing
// check in SPEC §2 order: empty, invalid_characters, invalid_length,
// invalid_number, region_not_allowed, not_mobile.
func (p *Parser) Parse(raw string) (Number, error) {
	var buf [maxDigits]byte
	digits, plus, reason := scan(raw, &buf)
	if reason != "" {
		return Number{}, invalid(reason)
	}

	// Without a "+" the only reading is Russian: the trunk prefix 8 or the
	// country code 7 before ten digits, or ten bare national digits. Anything
	// else typed without "+" has the wrong number of digits for that plan.
	// With "+7" the whole +7 plan (Russia and Kazakhstan) is ten national
	// digits, so it is held to that length too.
	var national []byte
	switch {
	case plus && digits[0] == '7':
		if len(digits) != 1+ruNationalDigits {
			return Number{}, invalid(ReasonInvalidLength)
		}
		national = digits[1:]
	case plus:
		if len(digits) < minDigits || len(digits) > maxDigits {
			return Number{}, invalid(ReasonInvalidLength)
		}
	case len(digits) == ruNationalDigits:
		national = digits
	case len(digits) == 1+ruNationalDigits && (digits[0] == '7' || digits[0] == '8'):
		national = digits[1:]
	default:
		return Number{}, invalid(ReasonInvalidLength)
	}

	// Validate a fully international string, so no default region ever
	// has to be guessed. It is built on the stack; the string made from it
	// is the one allocation of an accepted number.
	intl := append(make([]byte, 0, 1+maxDigits), '+')
	if national != nil {
		intl = append(append(intl, '7'), national...)
	} else {
		intl = append(intl, digits...)
	}
	v, reason := validate(string(intl))
	if reason != "" {
		return Number{}, invalid(reason)
	}
	if !p.allows(v.region.id) {
		return Number{}, invalid(ReasonRegionNotAllowed)
	}
	// kindMobile includes FIXED_LINE_OR_MOBILE: libphonenumber reports it
	// where a numbering plan does not separate the two (the +1 plan, China's
	// shared ranges), so refusing it would refuse every mobile there.
	// Russia and Kazakhstan have separate ranges, so a +7 landline is always
	// FIXED_LINE and still refused; whether a number really takes SMS is
	// proven by the verification code anyway.
	if v.kind != kindMobile {
		return Number{}, invalid(ReasonNotMobile)
	}
	return Number{e164: v.e164, region: v.region.id}, nil
}

// scan strips separators and checks every character. It returns the ASCII
// digits in order (in buf, so that they need no allocation) and whether a
// leading "+" was typed, or the reason the input fails the first two
// checks (empty, invalid_characters).
//
// Separators are "-", "(", ")", "." and exactly three kinds of space: ASCII
// space, tab and U+00A0 NO-BREAK SPACE (what copying from a web page or a
// formatted document usually yields). Every other rune, including other
// Unicode spaces, letters and non-ASCII digits (Arabic-Indic, fullwidth…),
// is an invalid character: libphonenumber would quietly fold those digits to
// ASCII, but SPEC §2 refuses them. A "+" is allowed once, before any digit
// (so "(+7) 912…" and "+ 7 912…" pass, since only separators precede it).
func scan(raw string, buf *[maxDigits]byte) (digits []byte, plus bool, reason Reason) {
	n := 0 // digits seen, may exceed len(buf): no longer number is kept
	for _, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			if n < len(buf) {
				buf[n] = byte(r)
			}
			n++
		case r == ' ' || r == '\t' || r == '\u00a0' ||
			r == '-' || r == '(' || r == ')' || r == '.':
		case r == '+' && !plus && n == 0:
			plus = true
		default:
			// A bad rune also makes the input non-empty, so the first
			// failing check is already known.
			return nil, false, ReasonInvalidCharacters
		}
	}
	switch {
	case n == 0 && !plus: // nothing but separators
		return nil, false, ReasonEmpty
	case n == 0 || n > maxDigits:
		return nil, false, ReasonInvalidLength
	}
	return buf[:n], plus, ""
}

func invalid(r Reason) *InvalidError { return &InvalidError{Reason: r} }
