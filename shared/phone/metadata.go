package phone

import (
	"math/bits"
	"regexp"
	"sync"
)

// The numbering-plan metadata comes from libphonenumber, as packaged by
// github.com/nyaruka/phonenumbers, but only as the strings and numbers that
// Parse needs (metadata_gen.go). Importing that package instead would cost
// every cold start 15 ms of decompressing and parsing every region in its
// init, and its protobuf dependency makes the linker keep every exported
// method of every type in the binary.
//
//go:generate go run ./internal/gen -o metadata_gen.go

// callingCode lists the regions that share a country calling code, as the
// slice regionTable[first : first+count], main region first: the region
// libphonenumber parses with and the first GetRegionCodeForNumber tries.
type callingCode struct {
	code  uint16
	first uint16
	count uint8
}

// lengthSet holds the lengths of a possible-length list, bit n for length
// n. The lists are sorted (the generator checks), so their first and last
// entries are the lowest and highest bits. libphonenumber writes [-1] for
// "no numbers of this kind", which is lengthsNone here; an empty set means,
// as in the metadata, "the lengths of the general description".
type lengthSet uint32

const lengthsNone lengthSet = 1

func (s lengthSet) has(n int) bool { return n > 0 && n < 32 && s&(1<<n) != 0 }

func (s lengthSet) min() int { return bits.TrailingZeros32(uint32(s)) }

func (s lengthSet) max() int { return 31 - bits.LeadingZeros32(uint32(s)) }

// Number types, in the order libphonenumber's getNumberTypeHelper tries
// them: the first match wins, and fixed line and mobile come last.
const (
	typePremiumRate = iota
	typeTollFree
	typeSharedCost
	typeVoIP
	typePersonalNumber
	typePager
	typeUAN
	typeVoicemail
	typeFixedLine
	typeMobile
	numTypes
)

// numberDesc is a PhoneNumberDesc: which national numbers belong to a type.
type numberDesc struct {
	// pattern must match the whole national number. It is empty where the
	// metadata has "NA", which no string of digits matches.
	pattern string
	// lengths are checked before the pattern when not empty.
	lengths lengthSet
}

// region is one region's (or one non-geographic calling code's) metadata,
// reduced to the fields Parse reads.
type region struct {
	id   string // ISO 3166 code, or "001" for a non-geographic calling code
	code uint16 // country calling code
	// leadingDigits, where set, picks this region among those sharing its
	// calling code by a prefix of the national number.
	leadingDigits string
	// nationalPrefixForParsing and nationalPrefixTransformRule say how a
	// national (trunk) prefix typed after the calling code is removed.
	nationalPrefixForParsing    string
	nationalPrefixTransformRule string
	// sameMobileAndFixedLine marks plans that cannot tell the two apart.
	sameMobileAndFixedLine bool
	general                numberDesc
	// localOnly are the general lengths of numbers diallable only within
	// their area.
	localOnly lengthSet
	types     [numTypes]numberDesc

	// re holds the patterns compiled, on first use: compiling every region
	// at init would bring back the cold-start cost this table removes.
	re regionRegexps
}

// regionRegexps are a region's patterns, anchored exactly as
// libphonenumber anchors them. A nil pattern matches nothing.
type regionRegexps struct {
	once           sync.Once
	general        *regexp.Regexp
	types          [numTypes]*regexp.Regexp
	leadingDigits  *regexp.Regexp
	nationalPrefix *regexp.Regexp
}

// regexps compiles r's patterns the first time they are needed. The
// generator's test compiles every pattern, so MustCompile cannot panic
// here.
func (r *region) regexps() *regionRegexps {
	r.re.once.Do(func() {
		r.re.general = compileWhole(r.general.pattern)
		for t := range r.types {
			r.re.types[t] = compileWhole(r.types[t].pattern)
		}
		r.re.leadingDigits = compilePrefix(r.leadingDigits)
		r.re.nationalPrefix = compilePrefix(r.nationalPrefixForParsing)
	})
	return &r.re
}

// compileWhole anchors pattern at both ends, as isNumberMatchingDesc does.
func compileWhole(pattern string) *regexp.Regexp {
	if pattern == "" {
		return nil
	}
	return regexp.MustCompile("^(?:" + pattern + ")$")
}

// compilePrefix anchors pattern at the start only, as libphonenumber does
// for leading digits and national prefixes.
func compilePrefix(pattern string) *regexp.Regexp {
	if pattern == "" {
		return nil
	}
	return regexp.MustCompile("^(?:" + pattern + ")")
}

func matchString(re *regexp.Regexp, s string) bool { return re != nil && re.MatchString(s) }

// splitCallingCode finds the country calling code digits start with, as
// libphonenumber's extractCountryCode does: the first known code of one to
// three digits (calling codes are prefix-free, and none starts with 0). It
// returns the code's length and its regions, or 0 and nil.
func splitCallingCode(digits string) (int, []region) {
	if digits == "" || digits[0] == '0' {
		return 0, nil
	}
	code := 0
	for i := 0; i < 3 && i < len(digits); i++ {
		code = code*10 + int(digits[i]-'0')
		if cc, ok := findCallingCode(code); ok {
			return i + 1, regionTable[cc.first : int(cc.first)+int(cc.count)]
		}
	}
	return 0, nil
}

// findCallingCode binary-searches callingCodes, which the generator sorts.
func findCallingCode(code int) (callingCode, bool) {
	lo, hi := 0, len(callingCodes)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(callingCodes[mid].code) < code {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(callingCodes) && int(callingCodes[lo].code) == code {
		return callingCodes[lo], true
	}
	return callingCode{}, false
}
