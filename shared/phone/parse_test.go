package phone

import (
	"errors"
	"strings"
	"testing"
)

const want = "+79123456789"

// parseCase is one row of the Parse table. A zero reason means the input is
// accepted and must yield e164 in region.
type parseCase struct {
	name    string
	allowed []string // nil: the default, RU only
	raw     string
	e164    string
	region  string
	reason  Reason
}

var parseCases = []parseCase{
	// Every format SPEC §2 lists, and the separators it names.
	{name: "spec intl spaced", raw: "+7 912 345-67-89", e164: want, region: "RU"},
	{name: "spec trunk 8", raw: "8 (912) 345 67 89", e164: want, region: "RU"},
	{name: "spec E.164", raw: "+79123456789", e164: want, region: "RU"},
	{name: "spec 7 without plus", raw: "79123456789", e164: want, region: "RU"},
	{name: "spec ten digits", raw: "9123456789", e164: want, region: "RU"},
	{name: "dots", raw: "8.912.345.67.89", e164: want, region: "RU"},
	{name: "dashes only", raw: "8-912-345-67-89", e164: want, region: "RU"},
	{name: "brackets around code", raw: "+7 (912) 345-67-89", e164: want, region: "RU"},
	{name: "brackets around plus", raw: "(+7) 912 345-67-89", e164: want, region: "RU"},
	{name: "space after plus", raw: "+ 7 912 3456789", e164: want, region: "RU"},
	{name: "tabs and outer spaces", raw: " \t+7\t912 345 67 89 \t", e164: want, region: "RU"},
	{name: "no-break spaces", raw: "+7\u00a0912\u00a0345-67-89", e164: want, region: "RU"},
	{name: "ten digits spaced", raw: "912 345 67 89", e164: want, region: "RU"},
	{name: "another RU mobile", raw: "8 999 123 45 67", e164: "+79991234567", region: "RU"},

	// empty: nothing left once separators are dropped.
	{name: "empty string", raw: "", reason: ReasonEmpty},
	{name: "only spaces", raw: "   ", reason: ReasonEmpty},
	{name: "only separators", raw: " -( ). \t\u00a0", reason: ReasonEmpty},

	// invalid_characters, checked before length or validity.
	{name: "letters", raw: "+7 912 ABC-67-89", reason: ReasonInvalidCharacters},
	{name: "tel URI", raw: "tel:+79123456789", reason: ReasonInvalidCharacters},
	{name: "extension", raw: "+7 912 345-67-89 ext 12", reason: ReasonInvalidCharacters},
	{name: "arabic-indic digits", raw: "٩١٢٣٤٥٦٧٨٩", reason: ReasonInvalidCharacters},
	{name: "arabic-indic after plus", raw: "+٧٩١٢٣٤٥٦٧٨٩", reason: ReasonInvalidCharacters},
	{name: "fullwidth digits", raw: "+７９１２３４５６７８９", reason: ReasonInvalidCharacters},
	{name: "fullwidth plus", raw: "＋79123456789", reason: ReasonInvalidCharacters},
	{name: "one fullwidth digit", raw: "+7912345678９", reason: ReasonInvalidCharacters},
	{name: "double plus", raw: "++79123456789", reason: ReasonInvalidCharacters},
	{name: "plus in the middle", raw: "+7+9123456789", reason: ReasonInvalidCharacters},
	{name: "plus at the end", raw: "79123456789+", reason: ReasonInvalidCharacters},
	{name: "slash", raw: "+7 912 345/67/89", reason: ReasonInvalidCharacters},
	{name: "underscore", raw: "+7_912_345_67_89", reason: ReasonInvalidCharacters},
	{name: "newline", raw: "+79123456789\n", reason: ReasonInvalidCharacters},
	{name: "thin space", raw: "+7\u2009912\u20093456789", reason: ReasonInvalidCharacters},
	{name: "NUL byte", raw: "+79123456789\x00", reason: ReasonInvalidCharacters},
	{name: "invalid UTF-8", raw: "+7912\xff3456789", reason: ReasonInvalidCharacters},
	{name: "letters without digits", raw: "abc", reason: ReasonInvalidCharacters},
	{name: "too long and a letter", raw: strings.Repeat("9", 40) + "x", reason: ReasonInvalidCharacters},

	// invalid_length.
	{name: "plus alone", raw: "+", reason: ReasonInvalidLength},
	{name: "plus and separators", raw: " + () ", reason: ReasonInvalidLength},
	{name: "too short", raw: "912 345 67 8", reason: ReasonInvalidLength},
	{name: "too short after +7", raw: "+7 912 345 67 8", reason: ReasonInvalidLength},
	{name: "too long after +7", raw: "+7 912 345 67 890", reason: ReasonInvalidLength},
	{name: "too long after 8", raw: "8 912 345 67 890", reason: ReasonInvalidLength},
	{name: "trunk 8 after +7", raw: "+7 8 912 345 67 89", reason: ReasonInvalidLength},
	{name: "eleven digits not 7 or 8", raw: "19123456789", reason: ReasonInvalidLength},
	{name: "foreign without plus", raw: "447400123456", reason: ReasonInvalidLength},
	{name: "intl too short", raw: "+44 1234", reason: ReasonInvalidLength},
	{name: "intl over 15 digits", raw: "+4474001234567890", reason: ReasonInvalidLength},
	{name: "hundred digits", raw: strings.Repeat("9", 100), reason: ReasonInvalidLength},
	{name: "UK too short for plan", raw: "+44 7400 1234", reason: ReasonInvalidLength},

	// invalid_number: the right length, but not a number anyone holds.
	{name: "all zeros", raw: "+7 000 000-00-00", reason: ReasonInvalidNumber},
	{name: "unassigned RU range", raw: "8 (312) 345-67-89", reason: ReasonInvalidNumber},
	{name: "unassigned country code", raw: "+999 1234 5678", reason: ReasonInvalidNumber},
	{name: "UK drama range", raw: "+44 7700 900123", reason: ReasonInvalidNumber},

	// region_not_allowed comes before the type check, so a foreign landline
	// is refused for its region.
	{name: "Kazakhstan mobile", raw: "+7 701 234 5678", reason: ReasonRegionNotAllowed},
	{name: "Kazakhstan via trunk 8", raw: "8 701 234 56 78", reason: ReasonRegionNotAllowed},
	{name: "Kazakhstan landline", raw: "+7 717 212 3456", reason: ReasonRegionNotAllowed},
	{name: "UK mobile", raw: "+44 7400 123456", reason: ReasonRegionNotAllowed},
	// libphonenumber puts 07911 in Guernsey, not GB.
	{name: "Guernsey mobile", raw: "+44 7911 123456", reason: ReasonRegionNotAllowed},
	{name: "US", raw: "+1 202 555 0123", reason: ReasonRegionNotAllowed},
	{name: "non-geographic freephone", raw: "+800 1234 5678", reason: ReasonRegionNotAllowed},
	{name: "RU when only KZ allowed", allowed: []string{"KZ"}, raw: "+7 912 345-67-89", reason: ReasonRegionNotAllowed},

	// not_mobile.
	{name: "Moscow landline", raw: "+7 495 123-45-67", reason: ReasonNotMobile},
	{name: "St Petersburg landline via 8", raw: "8 (812) 123-45-67", reason: ReasonNotMobile},
	{name: "KZ landline when allowed", allowed: []string{"RU", "KZ"}, raw: "+7 717 212 3456", reason: ReasonNotMobile},
	{name: "UK landline when allowed", allowed: []string{"GB"}, raw: "+44 20 7946 0018", reason: ReasonNotMobile},

	// Other allowed regions.
	{name: "Kazakhstan allowed", allowed: []string{"RU", "KZ"}, raw: "+7 701 234 5678", e164: "+77012345678", region: "KZ"},
	{name: "Kazakhstan allowed via 8", allowed: []string{"RU", "KZ"}, raw: "8 701 234 56 78", e164: "+77012345678", region: "KZ"},
	{name: "RU still allowed with KZ", allowed: []string{"RU", "KZ"}, raw: "8 (912) 345 67 89", e164: want, region: "RU"},
	{name: "regions normalised", allowed: []string{" kz ", "", "ru"}, raw: "+7 701 234 5678", e164: "+77012345678", region: "KZ"},
	{name: "UK allowed", allowed: []string{"GB"}, raw: "+44 7400 123456", e164: "+447400123456", region: "GB"},
	{name: "UK with trunk 0", allowed: []string{"GB"}, raw: "+44 (0)7400 123456", e164: "+447400123456", region: "GB"},
	// The +1 plan cannot tell mobiles from landlines; see isMobile.
	{name: "US fixed-line-or-mobile", allowed: []string{"US"}, raw: "+1 (202) 555-0123", e164: "+12025550123", region: "US"},
	{name: "empty list means RU", allowed: []string{}, raw: "9123456789", e164: want, region: "RU"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewParser(tc.allowed).Parse(tc.raw)
			if tc.reason != "" {
				var ie *InvalidError
				if !errors.As(err, &ie) {
					t.Fatalf("Parse(%q) = %v, %v; want *InvalidError{%s}", tc.raw, got, err, tc.reason)
				}
				if ie.Reason != tc.reason {
					t.Errorf("Parse(%q) reason = %s, want %s", tc.raw, ie.Reason, tc.reason)
				}
				if !got.IsZero() {
					t.Errorf("Parse(%q) returned %q with an error", tc.raw, got.E164())
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error %v, want %s", tc.raw, err, tc.e164)
			}
			if got.E164() != tc.e164 || got.Region() != tc.region {
				t.Errorf("Parse(%q) = %s %s, want %s %s", tc.raw, got.E164(), got.Region(), tc.e164, tc.region)
			}
		})
	}
}

// TestParseIdempotent: the stored canonical form must parse back to itself,
// or a user could never match their own binding again.
func TestParseIdempotent(t *testing.T) {
	for _, tc := range parseCases {
		if tc.reason != "" {
			continue
		}
		p := NewParser(tc.allowed)
		n, err := p.Parse(tc.raw)
		if err != nil {
			t.Fatalf("%s: Parse(%q): %v", tc.name, tc.raw, err)
		}
		again, err := p.Parse(n.E164())
		if err != nil || again != n {
			t.Errorf("%s: Parse(%q) = %+v, %v; want %+v", tc.name, n.E164(), again, err, n)
		}
	}
}

func TestInvalidErrorMessage(t *testing.T) {
	_, err := NewParser(nil).Parse("+7 495 123-45-67")
	if got, want := err.Error(), "invalid phone: not_mobile"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+79123456789", "+7 912 ***-**-89"},
		{"+77012345678", "+7 701 ***-**-78"},
		{"+447400123456", "+44 740 *****-56"},
		{"+12025550123", "+1 202 *****-23"},
		{"+4915123456789", "+49 151 ******-89"},
		{"+8613812345678", "+86 138 ******-78"},
		{"+80012345678", "+800 12 ****-78"},
		// Short national numbers never show more than half their digits.
		{"+29051234", "+290 5 ***-4"},
		{"+5001234", "***"}, // seven digits: shorter than any number we accept
		{"", ""},
		// Garbage is never echoed back.
		{"79123456789", "***"},
		{"+7912345678a", "***"},
		{"+7 912 345 67 89", "***"},
		{"+0123456789", "***"},
		{"+9991234567", "***"},
		{"+1234567890123456", "***"},
		{"hello world", "***"},
		{"+", "***"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNumberMasked(t *testing.T) {
	n, err := NewParser(nil).Parse("8 (912) 345 67 89")
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Masked(); got != "+7 912 ***-**-89" {
		t.Errorf("Masked() = %q", got)
	}
	if got := (Number{}).Masked(); got != "" {
		t.Errorf("zero Number Masked() = %q, want empty", got)
	}
}

// nationalDigitsShown counts the digits a masked form shows after the
// country code.
func nationalDigitsShown(masked string) int {
	_, rest, _ := strings.Cut(masked, " ")
	n := 0
	for _, r := range rest {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// BenchmarkParse is the request path's case: a Russian mobile as typed.
func BenchmarkParse(b *testing.B) {
	p := NewParser(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse("+7 (912) 345-67-89"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseMixed cycles through accepted and refused inputs.
func BenchmarkParseMixed(b *testing.B) {
	p := NewParser([]string{"RU", "KZ"})
	inputs := []string{"+7 912 345-67-89", "8 (912) 345 67 89", "9123456789", "+7 495 123-45-67", "+7 912 ABC-67-89"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = p.Parse(inputs[i%len(inputs)])
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.raw)
	}
	// A broad list so the fuzzer reaches every path, not just RU.
	p := NewParser([]string{"RU", "KZ", "GB", "US", "DE", "CN", "SH", "IT"})
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := p.Parse(raw)
		if err != nil {
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse(%q) error %T %v, want *InvalidError", raw, err, err)
			}
			switch ie.Reason {
			case ReasonEmpty, ReasonInvalidCharacters, ReasonInvalidLength,
				ReasonInvalidNumber, ReasonRegionNotAllowed, ReasonNotMobile:
			default:
				t.Fatalf("Parse(%q) unknown reason %q", raw, ie.Reason)
			}
			if !n.IsZero() {
				t.Fatalf("Parse(%q) returned a number with an error", raw)
			}
			return
		}
		again, err := p.Parse(n.E164())
		if err != nil || again != n {
			t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v, %v", raw, n, n.E164(), again, err)
		}
		m := n.Masked()
		if m == "***" || strings.Contains(m, n.E164()[1:]) {
			t.Fatalf("Masked() of %s = %q", n.E164(), m)
		}
		if shown := nationalDigitsShown(m); shown > 5 {
			t.Fatalf("Masked() of %s = %q shows %d national digits", n.E164(), m, shown)
		}
	})
}
