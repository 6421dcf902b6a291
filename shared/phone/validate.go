package phone

import "regexp"

// This file does, for a number typed with its country calling code, what
// Parse used to ask of libphonenumber (nyaruka/phonenumbers):
// Parse("+digits", "ZZ"), IsPossibleNumberWithReason, IsValidNumber,
// GetRegionCodeForNumber, GetNumberType and Format(E164), step for step
// and with the same anchored patterns, so that every input gets the answer
// it got before. The differential tests hold it to that.

// Bounds on a national significant number in libphonenumber's Parse.
const (
	minNSNDigits = 2
	maxNSNDigits = 17
)

// lengthCheck is libphonenumber's ValidationResult, less the calling-code
// case that cannot arise once splitCallingCode has found a code.
type lengthCheck uint8

const (
	isPossible lengthCheck = iota
	isPossibleLocalOnly
	tooShort
	tooLong
	invalidLength
)

// numberKind is all Parse needs of a number's type.
type numberKind uint8

const (
	// kindUnknown: no type matches, so libphonenumber calls it invalid.
	kindUnknown numberKind = iota
	// kindOther: a valid number that is not a mobile (fixed line, toll
	// free, premium rate, VoIP, …).
	kindOther
	// kindMobile: MOBILE, or FIXED_LINE_OR_MOBILE where the plan cannot
	// tell the two apart (see Parse).
	kindMobile
)

// validated is a number that passed every check that does not depend on
// the allowed regions.
type validated struct {
	e164   string
	region *region
	kind   numberKind
}

// validate checks intl, a "+" and then 8 to 15 ASCII digits (the bounds
// Parse has already enforced, under which libphonenumber's own checks for
// shorter input cannot fail). It returns intl itself as the E.164 form
// unless a national prefix had to be dropped, so the usual path allocates
// nothing.
func validate(intl string) (validated, Reason) {
	digits := intl[1:]
	ccLen, regions := splitCallingCode(digits)
	if regions == nil {
		return validated{}, ReasonInvalidNumber // ErrInvalidCountryCode
	}
	// libphonenumber parses and checks lengths with the main region's
	// metadata, and only then picks the region among those sharing the code.
	main := &regions[0]
	national := main.parseNational(digits[ccLen:])
	if len(national) < minNSNDigits || len(national) > maxNSNDigits {
		// ErrTooShortNSN, ErrNumTooLong: out of reach of 8 to 15 digits with
		// today's prefix rules, kept so that new rules are judged alike.
		return validated{}, ReasonInvalidLength
	}
	if main.checkLength(len(national)) != isPossible {
		// Including IS_POSSIBLE_LOCAL_ONLY: a number only diallable inside
		// its own area is missing digits as far as E.164 is concerned.
		return validated{}, ReasonInvalidLength
	}
	r, kind := regionOf(regions, national)
	if kind == kindUnknown {
		return validated{}, ReasonInvalidNumber
	}
	e164 := intl
	if national != digits[ccLen:] {
		e164 = "+" + digits[:ccLen] + national
	}
	return validated{e164: e164, region: r, kind: kind}, ""
}

// parseNational is the end of libphonenumber's parseHelper: it drops a
// national prefix typed after the calling code ("+44 (0)20…"), but only if
// what remains still has a possible length; otherwise the digits may have
// been a short number that merely starts like the prefix.
//
// libphonenumber then stores the result as an integer plus a count of
// leading zeros and rebuilds the very same digits from them; the
// transform rules are digits and group references (the generator checks),
// so the result here is always digits and the round trip is left out.
func (r *region) parseNational(national string) string {
	stripped := r.stripNationalPrefix(national)
	switch r.checkLength(len(stripped)) {
	case tooShort, isPossibleLocalOnly, invalidLength:
		return national
	}
	return stripped
}

// stripNationalPrefix is maybeStripNationalPrefixAndCarrierCode without the
// carrier code, which Parse never reads.
func (r *region) stripNationalPrefix(number string) string {
	re := r.regexps()
	if number == "" || re.nationalPrefix == nil || !re.nationalPrefix.MatchString(number) {
		return number
	}
	// Only a number with a national prefix gets this far, so the
	// allocation below is off the usual path.
	groups := re.nationalPrefix.FindStringSubmatchIndex(number)
	viable := matchString(re.general, number)
	last := re.nationalPrefix.NumSubexp()
	if r.nationalPrefixTransformRule == "" || groups[2*last] < 0 {
		// No transformation: the prefix is simply removed, unless that
		// turns a number that fits the plan into one that does not.
		rest := number[groups[1]:]
		if viable && !matchString(re.general, rest) {
			return number
		}
		return rest
	}
	transformed := re.nationalPrefix.ReplaceAllString(number, r.nationalPrefixTransformRule)
	if viable && !matchString(re.general, transformed) {
		return number
	}
	return transformed
}

// checkLength is testNumberLength for the general description (type
// UNKNOWN), which is what both parsing and IsPossibleNumberWithReason use.
func (r *region) checkLength(n int) lengthCheck {
	possible := r.general.lengths
	switch {
	case possible&lengthsNone != 0:
		return invalidLength
	case r.localOnly.has(n):
		return isPossibleLocalOnly
	case n == possible.min():
		return isPossible
	case n < possible.min():
		return tooShort
	case n > possible.max():
		return tooLong
	case possible.has(n):
		return isPossible
	}
	return invalidLength
}

// regionOf is GetRegionCodeForNumber followed by the type of the number in
// that region (which both IsValidNumber and GetNumberType compute). A
// region chosen by its leading digits is final even if the number turns
// out invalid there; nil means no region claims the number.
func regionOf(regions []region, nsn string) (*region, numberKind) {
	if len(regions) == 1 {
		return &regions[0], regions[0].kind(nsn)
	}
	for i := range regions {
		r := &regions[i]
		if r.leadingDigits != "" {
			if r.regexps().leadingDigits.MatchString(nsn) {
				return r, r.kind(nsn)
			}
			continue
		}
		if k := r.kind(nsn); k != kindUnknown {
			return r, k
		}
	}
	return nil, kindUnknown
}

// kind is getNumberTypeHelper, reduced to the answer Parse needs.
func (r *region) kind(nsn string) numberKind {
	re := r.regexps()
	matches := func(t int) bool { return r.types[t].matches(re.types[t], nsn) }
	if !r.general.matches(re.general, nsn) {
		return kindUnknown
	}
	for t := typePremiumRate; t < typeFixedLine; t++ {
		if matches(t) {
			return kindOther
		}
	}
	if matches(typeFixedLine) {
		if r.sameMobileAndFixedLine || matches(typeMobile) {
			return kindMobile // FIXED_LINE_OR_MOBILE
		}
		return kindOther // FIXED_LINE
	}
	if !r.sameMobileAndFixedLine && matches(typeMobile) {
		return kindMobile
	}
	return kindUnknown
}

// matches is isNumberMatchingDesc: the possible lengths, when listed, are
// checked first, then the whole pattern; re is d's compiled pattern.
func (d numberDesc) matches(re *regexp.Regexp, nsn string) bool {
	if d.lengths != 0 && !d.lengths.has(len(nsn)) {
		return false
	}
	return matchString(re, nsn)
}
