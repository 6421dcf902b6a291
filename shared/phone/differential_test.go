package phone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/shared/internal/race"
	"github.com/nyaruka/phonenumbers"
)

// Differential tests: Parse, validate and countryCodeLen, which read the
// generated table, against the oracle (oracle_test.go), which asks
// nyaruka/phonenumbers as the code did before. Inputs are every example
// number in libphonenumber's metadata written the ways people write
// numbers, systematic mutations of each, sweeps of the +7 plan and of
// every calling code, and random strings.

// allRegionsParser allows every region and the non-geographic "001", so
// that every valid number reaches the type check.
func allRegionsParser() *Parser {
	all := []string{"001"}
	for r := range phonenumbers.GetSupportedRegions() {
		all = append(all, r)
	}
	slices.Sort(all)
	return NewParser(all)
}

// differ compares inputs against the oracle, each once, and stops the test
// after a screenful of differences.
type differ struct {
	t *testing.T
	// stride > 1 compares only every stride-th distinct input: the race
	// detector makes the oracle some thirty times slower and has nothing to
	// find in these single-goroutine comparisons, so under it (make check)
	// the corpora are sampled; plain go test compares all of them.
	stride  int
	inputs  int       // distinct inputs offered
	parsers []*Parser // every input is parsed with each of these
	all     *Parser   // allows every region
	single  map[string]*Parser
	seen    map[string]bool
	fails   int
	checked int
}

func newDiffer(t *testing.T) *differ {
	all := allRegionsParser()
	stride := 1
	if race.Enabled {
		stride = 20
	}
	return &differ{
		t:       t,
		stride:  stride,
		parsers: []*Parser{NewParser(nil), NewParser([]string{"RU", "KZ"}), all},
		all:     all,
		single:  map[string]*Parser{},
		seen:    map[string]bool{},
	}
}

// only returns a parser allowing region alone: with it a valid number
// shows whether it belongs to region even when it is not a mobile.
func (d *differ) only(region string) *Parser {
	p := d.single[region]
	if p == nil {
		p = NewParser([]string{region})
		d.single[region] = p
	}
	return p
}

// skip marks raw as seen and reports whether to leave it out: seen
// before, or sampled out under the race detector.
func (d *differ) skip(raw string) bool {
	if d.seen[raw] {
		return true
	}
	d.seen[raw] = true
	d.inputs++
	return d.inputs%d.stride != 0
}

// raw compares Parse with oracleParse for raw under d.parsers and extra;
// when raw is "+" and 8 to 15 digits it compares validate as well.
func (d *differ) raw(raw string, extra ...*Parser) {
	d.t.Helper()
	if d.skip(raw) {
		return
	}
	for _, p := range slices.Concat(d.parsers, extra) {
		d.parse(p, raw)
	}
	if isIntl(raw) {
		d.validate(raw)
	}
}

// intl is raw for inputs that need fewer comparisons: mutations and random
// numbers are many, so they are parsed with the all-regions parser only
// (validate already pins down their region whatever its type).
func (d *differ) intl(raw string) {
	d.t.Helper()
	if d.skip(raw) {
		return
	}
	d.parse(d.all, raw)
	if isIntl(raw) {
		d.validate(raw)
	}
}

func isIntl(s string) bool {
	if len(s) < 1+minDigits || len(s) > 1+maxDigits || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (d *differ) parse(p *Parser, raw string) {
	d.t.Helper()
	d.checked++
	got, gotErr := p.Parse(raw)
	want, wantErr := oracleParse(p, raw)
	if g, w := outcome(got, gotErr), outcome(want, wantErr); g != w {
		d.fail("Parse(%q) with %v = %s, oracle %s", raw, p.allowed[:min(len(p.allowed), 3)], g, w)
	}
}

func (d *differ) validate(intl string) {
	d.t.Helper()
	d.checked++
	if got, want := validateOutcomes(intl); got != want {
		d.fail("validate(%q) = %s, oracle %s", intl, got, want)
	}
}

// validateOutcomes gives what validate and oracleValidate say of intl:
// region, E.164 form, whether mobile, and the refusal reason.
func validateOutcomes(intl string) (got, want string) {
	v, reason := validate(intl)
	region := ""
	if v.region != nil {
		region = v.region.id
	}
	got = fmt.Sprint(region, " ", v.e164, " ", v.kind == kindMobile, " ", reason)
	e164, wantRegion, mobile, wantReason := oracleValidate(intl)
	return got, fmt.Sprint(wantRegion, " ", e164, " ", mobile, " ", wantReason)
}

func (d *differ) fail(format string, args ...any) {
	d.t.Helper()
	d.t.Errorf(format, args...)
	if d.fails++; d.fails >= 20 {
		d.t.Fatal("too many differences")
	}
}

// outcome is what a caller of Parse can observe.
func outcome(n Number, err error) string {
	if err == nil {
		return "accepted " + n.E164() + " in " + n.Region()
	}
	var ie *InvalidError
	if !errors.As(err, &ie) {
		return fmt.Sprintf("error %T %v", err, err)
	}
	if !n.IsZero() {
		return "refused " + string(ie.Reason) + " with a number"
	}
	return "refused " + string(ie.Reason)
}

// example is an example number from the metadata, and the region (or
// "001") it is an example of.
type example struct{ cc, nsn, region string }

// exampleNumbers gathers every example number libphonenumber has: those
// of every number description of every region and non-geographic code
// (short codes and emergency numbers included, which exercise the length
// checks), and what GetExampleNumberForType and
// GetExampleNumberForNonGeoEntity give.
func exampleNumbers(t *testing.T) []example {
	t.Helper()
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	for _, m := range coll.GetMetadata() {
		cc := strconv.Itoa(int(m.GetCountryCode()))
		for _, desc := range []*phonenumbers.PhoneNumberDesc{
			m.GetGeneralDesc(), m.GetFixedLine(), m.GetMobile(), m.GetTollFree(), m.GetPremiumRate(),
			m.GetSharedCost(), m.GetPersonalNumber(), m.GetVoip(), m.GetPager(), m.GetUan(),
			m.GetEmergency(), m.GetVoicemail(), m.GetShortCode(), m.GetStandardRate(),
			m.GetCarrierSpecific(), m.GetSmsServices(), m.GetNoInternationalDialling(),
		} {
			if ex := desc.GetExampleNumber(); ex != "" {
				out = append(out, example{cc, ex, m.GetId()})
			}
		}
	}
	add := func(n *phonenumbers.PhoneNumber, region string) {
		if n != nil {
			out = append(out, example{strconv.Itoa(int(n.GetCountryCode())), phonenumbers.GetNationalSignificantNumber(n), region})
		}
	}
	regions := make([]string, 0, len(phonenumbers.GetSupportedRegions()))
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		for typ := phonenumbers.FIXED_LINE; typ <= phonenumbers.VOICEMAIL; typ++ {
			add(phonenumbers.GetExampleNumberForType(r, typ), r)
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc), "001")
	}
	// Map iteration above is random; the inputs need not be, so that a
	// failure reproduces in the same order.
	slices.SortFunc(out, func(a, b example) int {
		return strings.Compare(a.region+"+"+a.cc+a.nsn, b.region+"+"+b.cc+b.nsn)
	})
	return slices.Compact(out)
}

// writtenForms are the ways people (and libphonenumber's own formatting)
// write a number: international with every separator Parse allows,
// without the "+", national with and without trunk prefixes, and with a
// trunk prefix after the calling code, as British numbers often are.
func writtenForms(cc, nsn, region string) []string {
	head := nsn[:min(3, len(nsn))]
	tail := nsn[len(head):]
	forms := []string{
		"+" + cc + nsn,
		"+" + cc + " " + nsn,
		"+" + cc + " " + group(nsn, " "),
		"+" + cc + "-" + group(nsn, "-"),
		"+" + cc + " (" + head + ") " + group(tail, "-"),
		"(+" + cc + ") " + group(nsn, "."),
		"+ " + cc + "\u00a0" + group(nsn, "\u00a0"),
		"\t+" + cc + "\t" + nsn + " ",
		cc + nsn,
		nsn,
		group(nsn, " "),
		"8" + nsn,
		"8 (" + head + ") " + group(tail, " "),
		"7" + nsn,
		"00" + cc + nsn,
		"+" + cc + "0" + nsn,
		"+" + cc + " (0) " + nsn,
		"+" + cc + "8" + nsn,
		"+" + cc + nsn + "0",
		"+" + cc + "1" + nsn,
		"+" + cc + "+" + nsn,
		"+" + cc + nsn + " ext. 12",
		"tel:+" + cc + "-" + nsn,
	}
	if np := phonenumbers.GetNddPrefixForRegion(region, true); np != "" {
		forms = append(forms, np+nsn, "+"+cc+np+nsn, "+"+cc+" ("+np+") "+nsn)
	}
	if n, err := phonenumbers.Parse("+"+cc+nsn, phonenumbers.UNKNOWN_REGION); err == nil {
		for _, f := range []phonenumbers.PhoneNumberFormat{phonenumbers.INTERNATIONAL, phonenumbers.NATIONAL, phonenumbers.RFC3966} {
			forms = append(forms, phonenumbers.Format(n, f))
		}
	}
	return forms
}

// group splits digits into blocks of three joined by sep.
func group(digits, sep string) string {
	var b strings.Builder
	for i := 0; i < len(digits); i += 3 {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i:min(i+3, len(digits))])
	}
	return b.String()
}

// mutations are near misses of the digits s: each digit dropped, doubled,
// replaced by every other digit, neighbours swapped, and every digit put
// in front of the national number (where national prefixes go) or at the
// end.
func mutations(s string, ccLen int) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		out = append(out, s[:i]+s[i+1:], s[:i+1]+s[i:])
		for c := byte('0'); c <= '9'; c++ {
			if c != s[i] {
				out = append(out, s[:i]+string(c)+s[i+1:])
			}
		}
		if i+1 < len(s) {
			out = append(out, s[:i]+s[i+1:i+2]+s[i:i+1]+s[i+2:])
		}
	}
	for c := byte('0'); c <= '9'; c++ {
		out = append(out, s[:ccLen]+string(c)+s[ccLen:], s+string(c))
	}
	return out
}

func TestParseMatchesOracleOnExamples(t *testing.T) {
	d := newDiffer(t)
	examples := exampleNumbers(t)
	if len(examples) < 1000 {
		t.Fatalf("only %d example numbers", len(examples))
	}
	for _, ex := range examples {
		for _, form := range writtenForms(ex.cc, ex.nsn, ex.region) {
			d.raw(form, d.only(ex.region))
		}
		for _, m := range mutations(ex.cc+ex.nsn, len(ex.cc)) {
			d.intl("+" + m)
		}
	}
	t.Logf("%d example numbers, %d comparisons", len(examples), d.checked)
}

// TestParseMatchesOracleOnPlus7 sweeps every three-digit code of the +7
// plan (Russia and Kazakhstan, the numbers this service exists for) in
// every form SPEC §2 lists.
func TestParseMatchesOracleOnPlus7(t *testing.T) {
	d := newDiffer(t)
	rng := rand.New(rand.NewPCG(7, 7))
	for code := range 1000 {
		abc := fmt.Sprintf("%03d", code)
		for _, tail := range []string{"0000000", "1234567", "9999999", fmt.Sprintf("%07d", rng.IntN(1e7))} {
			nsn := abc + tail
			for _, form := range []string{"+7" + nsn, "+7 (" + abc + ") " + group(tail, "-"), "8" + nsn, "7" + nsn, nsn} {
				d.raw(form, d.only("RU"), d.only("KZ"))
			}
		}
	}
	t.Logf("%d comparisons", d.checked)
}

// TestParseMatchesOracleOnCallingCodes tries every calling code with
// random national numbers of every length Parse lets through, and, since
// most random numbers are invalid, every example number's first digits
// with a random rest.
func TestParseMatchesOracleOnCallingCodes(t *testing.T) {
	d := newDiffer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	for _, cc := range callingCodes {
		code := strconv.Itoa(int(cc.code))
		for total := minDigits; total <= maxDigits; total++ {
			for range 8 {
				d.intl("+" + code + digits(total-len(code)))
			}
		}
	}
	for _, ex := range exampleNumbers(t) {
		for keep := 1; keep < len(ex.nsn); keep++ {
			d.intl("+" + ex.cc + ex.nsn[:keep] + digits(len(ex.nsn)-keep))
		}
	}
	t.Logf("%d comparisons", d.checked)
}

// TestParseMatchesOracleOnNationalPrefixes aims at the national prefix
// that parsing may strip after the calling code. For every code whose main
// region has one it draws random national numbers, many starting with the
// region's trunk prefix or carrying Argentina's "15" after an area code,
// and keeps up to a quota of each way stripNationalPrefix can go (prefix
// removed or transformed; the number viable before, after, both or
// neither), so that rare branches are compared as well as common ones.
func TestParseMatchesOracleOnNationalPrefixes(t *testing.T) {
	d := newDiffer(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cc := range callingCodes {
		main := &regionTable[cc.first]
		re := main.regexps()
		if re.nationalPrefix == nil {
			continue
		}
		code := strconv.Itoa(int(cc.code))
		np := phonenumbers.GetNddPrefixForRegion(main.id, true)
		// Trunk prefixes such as "0" fill their quotas at once; transform
		// rules (Argentina's above all) need many more draws.
		tries := 3000
		if main.nationalPrefixTransformRule != "" {
			tries = 20000
		}
		kept := map[[3]bool]int{}
		for try := range tries {
			b := []byte(np)
			if try%2 == 0 {
				b = b[:0]
			}
			n := minDigits - len(code) + rng.IntN(maxDigits-minDigits+1)
			for len(b) < n {
				b = append(b, byte('0'+rng.IntN(10)))
			}
			if at := 2 + rng.IntN(3); try%3 == 0 && at+2 <= len(b) {
				b[at], b[at+1] = '1', '5'
			}
			national := string(b)
			loc := re.nationalPrefix.FindStringSubmatchIndex(national)
			if loc == nil {
				continue
			}
			last := re.nationalPrefix.NumSubexp()
			transform := main.nationalPrefixTransformRule != "" && loc[2*last] >= 0
			after := national[loc[1]:]
			if transform {
				after = re.nationalPrefix.ReplaceAllString(national, main.nationalPrefixTransformRule)
			}
			way := [3]bool{transform, matchString(re.general, national), matchString(re.general, after)}
			if after == national || kept[way] >= 50 {
				continue
			}
			kept[way]++
			d.intl("+" + code + national)
		}
	}
	t.Logf("%d comparisons", d.checked)
}

// TestParseMatchesOracleOnRandomInput feeds random digit strings, with and
// without "+", and random strings over the characters Parse treats
// specially.
func TestParseMatchesOracleOnRandomInput(t *testing.T) {
	d := newDiffer(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "0123456789012345678901234567890123456789 +-().\t\u00a0x#٣７"
	runes := []rune(alphabet)
	for range 20000 {
		n := 1 + rng.IntN(17)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		d.intl("+" + string(b))
		if n == 10 || n == 11 {
			d.raw(string(b))
		}
	}
	for range 5000 {
		r := make([]rune, rng.IntN(20))
		for i := range r {
			r[i] = runes[rng.IntN(len(runes))]
		}
		d.raw(string(r))
	}
	t.Logf("%d comparisons", d.checked)
}

// TestCountryCodeLenMatchesOracle is exhaustive: countryCodeLen reads at
// most three digits.
func TestCountryCodeLenMatchesOracle(t *testing.T) {
	for n := 0; n <= 4; n++ {
		for i := range pow10(n) {
			s := fmt.Sprintf("%0*d", n, i)
			if n == 0 {
				s = ""
			}
			if got, want := countryCodeLen(s), oracleCountryCodeLen(s); got != want {
				t.Errorf("countryCodeLen(%q) = %d, oracle %d", s, got, want)
			}
		}
	}
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// FuzzParseDifferential holds Parse to the oracle on any input, under
// several region sets, and validate too when the input is international.
func FuzzParseDifferential(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, tc := range parseCases {
		f.Add(tc.raw)
	}
	for _, s := range []string{"+44 (0)20 7946 0018", "+39 06 1234 5678", "+1 684 733 1234", "+54 9 11 1234 5678",
		"+55 0 11 91234 5678", "+61 8 9162 1234", "+800 1234 5678", "+882 1234 5678", "+378 0549 886377"} {
		f.Add(s)
	}
	parsers := []*Parser{
		NewParser(nil),
		NewParser([]string{"RU", "KZ"}),
		NewParser([]string{"GB", "GG", "IM", "JE", "US", "CA", "AG", "IT", "VA", "AU", "CC", "001"}),
		allRegionsParser(),
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range parsers {
			got, gotErr := p.Parse(raw)
			want, wantErr := oracleParse(p, raw)
			if g, w := outcome(got, gotErr), outcome(want, wantErr); g != w {
				t.Fatalf("Parse(%q) with %v = %s, oracle %s", raw, p.allowed, g, w)
			}
		}
		var buf [maxDigits]byte
		if digits, plus, reason := scan(raw, &buf); reason == "" && plus && len(digits) >= minDigits {
			intl := "+" + string(digits)
			if got, want := validateOutcomes(intl); got != want {
				t.Fatalf("validate(%q) = %s, oracle %s", intl, got, want)
			}
		}
	})
}
