package phone

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for what people type. `go test` runs only the seeds (f.Add
// below and testdata/fuzz/<FuzzName>/); `make fuzz` explores further.

// fuzzSeeds are inputs worth mutating: every form SPEC §2 lists, each
// refusal reason, other regions and near misses on the lengths.
var fuzzSeeds = []string{
	"+7 912 345-67-89", "8 (912) 345 67 89", "+79123456789", "79123456789", "9123456789",
	"(+7) 912 345-67-89", "+ 7 912 3456789", "+7\u00a0912\u00a0345-67-89", " \t8.912.345.67.89\t",
	"", "   ", "+", "+7 912 ABC-67-89", "+７９１２３４５６７８９", "٩١٢٣٤٥٦٧٨٩", "+7912\xff3456789",
	"+7 912 345", "+7 912 345 67 890", "+7 8 912 345 67 89", "447400123456", strings.Repeat("9", 16),
	"+7 000 000-00-00", "+7 495 123-45-67", "+7 701 234 56 78", "+44 7400 123456", "+1 202 555 0143",
	"+86 138 0013 8000", "+290 51234", "+7 999 123 45 67",
}

// fuzzParsers are the region sets a parse is tried with: the default (RU),
// RU with Kazakhstan (which shares +7), and several plans at once.
var fuzzParsers = []*Parser{
	NewParser(nil),
	NewParser([]string{"RU", "KZ"}),
	NewParser([]string{"ru", " GB ", "US", "CN", "KZ", "SH"}),
}

// e164RE is the shape of every number Parse accepts.
var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// knownReasons are the only reasons a refusal may give.
var knownReasons = map[Reason]bool{
	ReasonEmpty: true, ReasonInvalidCharacters: true, ReasonInvalidLength: true,
	ReasonInvalidNumber: true, ReasonRegionNotAllowed: true, ReasonNotMobile: true,
}

// FuzzParseRoundTrip checks, for any input: no panic; a refusal is an
// *InvalidError with a known reason; an accepted number is canonical E.164
// in an allowed region, parses back to itself (same E.164, region and
// mask), and every other way of writing it that SPEC §2 lists parses to it
// too; its mask is never a number; and a wider set of regions never refuses
// what a narrower one accepted.
//
// FuzzParse (parse_test.go) fuzzes one wide parser; this target adds the
// round trips and compares region sets.
func FuzzParseRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, tc := range parseCases {
		f.Add(tc.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var accepted []Number // by each parser, zero when refused
		for i, p := range fuzzParsers {
			n, err := p.Parse(raw)
			if err != nil {
				var inv *InvalidError
				if !errors.As(err, &inv) || !knownReasons[inv.Reason] {
					t.Fatalf("parser %d: Parse(%q) = %#v, want *InvalidError with a known reason", i, raw, err)
				}
				if !n.IsZero() {
					t.Fatalf("parser %d: Parse(%q) refused (%v) but returned %q", i, raw, err, n.E164())
				}
				accepted = append(accepted, Number{})
				continue
			}
			checkAccepted(t, p, raw, n)
			accepted = append(accepted, n)
		}
		// RU ⊂ RU+KZ ⊂ the wide set: widening only adds numbers, and
		// never changes the canonical form of one already accepted.
		for i := 1; i < len(accepted); i++ {
			if narrow := accepted[i-1]; !narrow.IsZero() && accepted[i] != narrow {
				t.Fatalf("Parse(%q): parser %d gave %q (%s), parser %d gave %q (%s)",
					raw, i-1, narrow.E164(), narrow.Region(), i, accepted[i].E164(), accepted[i].Region())
			}
		}
	})
}

func checkAccepted(t *testing.T, p *Parser, raw string, n Number) {
	t.Helper()
	e164 := n.E164()
	if !e164RE.MatchString(e164) || n.IsZero() {
		t.Fatalf("Parse(%q) = %q, not canonical E.164", raw, e164)
	}
	if !p.allows(n.Region()) {
		t.Fatalf("Parse(%q) = %q in region %q, which the parser does not allow (%v)", raw, e164, n.Region(), p.allowed)
	}
	// Normalisation is idempotent: the canonical form is a fixed point.
	again, err := p.Parse(e164)
	if err != nil || again != n || again.Masked() != n.Masked() {
		t.Fatalf("Parse(%q) = %q, but Parse(%q) = %q, %v", raw, e164, e164, again.E164(), err)
	}
	checkMask(t, e164, n.Masked())
	// The mask is for eyes, never for parsing back into a number.
	if m, err := p.Parse(n.Masked()); err == nil {
		t.Fatalf("the mask %q of %q parses as %q", n.Masked(), e164, m.E164())
	}
	// Every way SPEC §2 lets people write a +7 number reaches the same one.
	if strings.HasPrefix(e164, "+7") {
		nat := e164[2:]
		for _, form := range []string{
			"+7 " + nat[:3] + " " + nat[3:6] + "-" + nat[6:8] + "-" + nat[8:],
			"8 (" + nat[:3] + ") " + nat[3:6] + " " + nat[6:8] + " " + nat[8:],
			"7" + nat, "8" + nat, nat,
		} {
			if got, err := p.Parse(form); err != nil || got != n {
				t.Fatalf("Parse(%q) = %q, but its form %q gives %q, %v", raw, e164, form, got.E164(), err)
			}
		}
	}
}

// checkMask holds Mask to its promise for a real number: the country code,
// then at most five national digits and never more than half of them, the
// rest starred out, and never the number itself.
func checkMask(t *testing.T, e164, masked string) {
	t.Helper()
	cc := e164[1 : 1+countryCodeLen(e164[1:])]
	national := len(e164) - 1 - len(cc)
	if !strings.HasPrefix(masked, "+"+cc+" ") || !strings.Contains(masked, "*") {
		t.Fatalf("Mask(%q) = %q: no country code or nothing hidden", e164, masked)
	}
	shown := 0
	for _, r := range masked[len(cc)+1:] {
		if r >= '0' && r <= '9' {
			shown++
		}
	}
	if shown > 5 || shown > national/2 {
		t.Fatalf("Mask(%q) = %q shows %d of %d national digits", e164, masked, shown, national)
	}
	if strings.Contains(masked, e164[1:]) {
		t.Fatalf("Mask(%q) = %q contains the number", e164, masked)
	}
}

// FuzzMask feeds Mask anything at all, since stored or logged strings of
// any shape may reach it: no panic; the empty string stays empty;
// anything else comes out as "***" or as a proper mask of an E.164 number;
// and the output is valid UTF-8 with no more digits than a mask shows.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"", "+79123456789", "+447400123456", "+29051234", "+1234", "79123456789",
		"+7912345678a", "+0123456789", "+999123456789", "***", "+7 912 ***-**-89", "+٧٩١٢٣٤٥٦٧٨٩"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Mask(s)
		switch {
		case s == "":
			if m != "" {
				t.Fatalf("Mask(\"\") = %q", m)
			}
			return
		case m == "***":
			return
		case !utf8.ValidString(m):
			t.Fatalf("Mask(%q) = %q, not UTF-8", s, m)
		case !strings.HasPrefix(s, "+"):
			t.Fatalf("Mask(%q) = %q: only E.164 may be masked, anything else is ***", s, m)
		}
		for _, r := range s[1:] {
			if r < '0' || r > '9' {
				t.Fatalf("Mask(%q) = %q: only E.164 may be masked, anything else is ***", s, m)
			}
		}
		checkMask(t, s, m)
	})
}
