package phone

import (
	"errors"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// The oracle: Parse and countryCodeLen as they were while they asked
// nyaruka/phonenumbers at run time, kept verbatim but for the names
// (oracle…) so that the differential tests can hold the table-driven code
// to the same answers, input for input.

// oracleParse accepts the forms people type (+7 912 345-67-89, 8 (912) 345 67 89,
// +79123456789, 79123456789, 9123456789) and returns the canonical number.
// A refusal is always an *InvalidError whose Reason is the first failing
// check in SPEC §2 order: empty, invalid_characters, invalid_length,
// invalid_number, region_not_allowed, not_mobile.
func oracleParse(p *Parser, raw string) (Number, error) {
	digits, plus, reason := oracleScan(raw)
	if reason != "" {
		return Number{}, invalid(reason)
	}

	// Without a "+" the only reading is Russian: the trunk prefix 8 or the
	// country code 7 before ten digits, or ten bare national digits. Anything
	// else typed without "+" has the wrong number of digits for that plan.
	// With "+7" the whole +7 plan (Russia and Kazakhstan) is ten national
	// digits, so it is held to that length too.
	var national string
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

	// Hand libphonenumber a fully international string so its own
	// default-region guessing never comes into play.
	intl := "+" + digits
	if national != "" {
		intl = "+7" + national
	}
	num, err := phonenumbers.Parse(intl, phonenumbers.UNKNOWN_REGION)
	if err != nil {
		return Number{}, invalid(oracleParseErrorReason(err))
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.INVALID_COUNTRY_CODE:
		return Number{}, invalid(ReasonInvalidNumber)
	default:
		// TOO_SHORT, TOO_LONG, INVALID_LENGTH, and IS_POSSIBLE_LOCAL_ONLY: a
		// number only diallable inside its own area is missing digits as
		// far as E.164 is concerned.
		return Number{}, invalid(ReasonInvalidLength)
	}
	if !phonenumbers.IsValidNumber(num) {
		return Number{}, invalid(ReasonInvalidNumber)
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	if !p.allows(region) {
		return Number{}, invalid(ReasonRegionNotAllowed)
	}
	if !oracleIsMobile(phonenumbers.GetNumberType(num)) {
		return Number{}, invalid(ReasonNotMobile)
	}
	return Number{e164: phonenumbers.Format(num, phonenumbers.E164), region: region}, nil
}

// oracleIsMobile accepts MOBILE, and FIXED_LINE_OR_MOBILE: libphonenumber reports
// the latter where a numbering plan does not separate the two (the +1 plan,
// China's shared ranges), so refusing it would refuse every mobile there.
// Russia and Kazakhstan have separate ranges, so a +7 landline is always
// FIXED_LINE and still refused; whether a number really takes SMS is proven
// by the verification code anyway.
func oracleIsMobile(t phonenumbers.PhoneNumberType) bool {
	return t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
}

// oracleParseErrorReason maps libphonenumber's parse failures; our own scan has
// already ruled out anything that is not digits, so what remains is about
// length or the country code.
func oracleParseErrorReason(err error) Reason {
	switch {
	case errors.Is(err, phonenumbers.ErrTooShortNSN),
		errors.Is(err, phonenumbers.ErrTooShortAfterIDD),
		errors.Is(err, phonenumbers.ErrNumTooLong):
		return ReasonInvalidLength
	default:
		return ReasonInvalidNumber
	}
}

// oracleScan strips separators and checks every character. It returns the ASCII
// digits in order and whether a leading "+" was typed, or the reason the
// input fails the first two checks (empty, invalid_characters).
//
// Separators are "-", "(", ")", "." and exactly three kinds of space: ASCII
// space, tab and U+00A0 NO-BREAK SPACE (what copying from a web page or a
// formatted document usually yields). Every other rune, including other
// Unicode spaces, letters and non-ASCII digits (Arabic-Indic, fullwidth…),
// is an invalid character: libphonenumber would quietly fold those digits to
// ASCII, but SPEC §2 refuses them. A "+" is allowed once, before any digit
// (so "(+7) 912…" and "+ 7 912…" pass, since only separators precede it).
func oracleScan(raw string) (digits string, plus bool, reason Reason) {
	var (
		buf [maxDigits]byte // no longer number is kept, so no allocation
		n   int             // digits seen, may exceed len(buf)
	)
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
			return "", false, ReasonInvalidCharacters
		}
	}
	switch {
	case n == 0 && !plus: // nothing but separators
		return "", false, ReasonEmpty
	case n == 0 || n > maxDigits:
		return "", false, ReasonInvalidLength
	}
	return string(buf[:n]), plus, ""
}

// oracleCountryCodeLen returns the length of the calling code digits start with, or
// 0 if none is known. Calling codes are prefix-free, so the first known
// prefix of one to three digits is the code; none starts with 0.
func oracleCountryCodeLen(digits string) int {
	if digits == "" || digits[0] == '0' {
		return 0
	}
	cc := 0
	for i := 0; i < 3 && i < len(digits); i++ {
		cc = cc*10 + int(digits[i]-'0')
		if phonenumbers.GetRegionCodeForCountryCode(cc) != phonenumbers.UNKNOWN_REGION {
			return i + 1
		}
	}
	return 0
}

// oracleValidate asks nyaruka/phonenumbers what validate computes for intl
// ("+" and 8 to 15 digits): the same calls as oracleParse, stopping short
// of the allowed regions, so that the region of every valid number can be
// compared, mobile or not.
func oracleValidate(intl string) (e164, region string, mobile bool, reason Reason) {
	num, err := phonenumbers.Parse(intl, phonenumbers.UNKNOWN_REGION)
	if err != nil {
		return "", "", false, oracleParseErrorReason(err)
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "", "", false, ReasonInvalidNumber
	default:
		return "", "", false, ReasonInvalidLength
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", "", false, ReasonInvalidNumber
	}
	return phonenumbers.Format(num, phonenumbers.E164), phonenumbers.GetRegionCodeForNumber(num),
		oracleIsMobile(phonenumbers.GetNumberType(num)), ""
}

// BenchmarkOracleParse is BenchmarkParse on the oracle: what a parse cost
// while it asked nyaruka/phonenumbers, for comparison.
func BenchmarkOracleParse(b *testing.B) {
	p := NewParser(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := oracleParse(p, "+7 (912) 345-67-89"); err != nil {
			b.Fatal(err)
		}
	}
}
