package phone

import "strings"

// Mask hides all but the country code, the first three national digits and
// the last two: +79123456789 becomes +7 912 ***-**-89, +447400123456 becomes
// +44 740 *****-56. It never shows more than five national digits, nor more
// than half of them, so short national numbers show fewer. Anything that is
// not an E.164 number with a known country code becomes "***", never the
// input itself; the empty string (a zero Number) stays empty.
func Mask(e164 string) string {
	const garbage = "***"
	if e164 == "" {
		return ""
	}
	if len(e164) < 1+minDigits || len(e164) > 1+maxDigits || e164[0] != '+' {
		return garbage
	}
	digits := e164[1:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return garbage
		}
	}
	ccLen := countryCodeLen(digits)
	if ccLen == 0 {
		return garbage
	}
	cc, national := digits[:ccLen], digits[ccLen:]

	// Show at most 3 leading and 2 trailing digits, and together never more
	// than half of the national number; give up leading digits first, since
	// the last two are what people recognise their number by.
	head, tail := 3, 2
	for head+tail > len(national)/2 {
		switch {
		case head > 1:
			head--
		case tail > 1:
			tail--
		default:
			head--
		}
	}
	hidden := len(national) - head - tail

	var b strings.Builder
	b.Grow(len(e164) + 4)
	b.WriteByte('+')
	b.WriteString(cc)
	b.WriteByte(' ')
	if head > 0 {
		b.WriteString(national[:head])
		b.WriteByte(' ')
	}
	if cc == "7" && hidden == 5 {
		// The Russian grouping people know: +7 912 345-67-89.
		b.WriteString("***-**")
	} else {
		b.WriteString(strings.Repeat("*", hidden))
	}
	b.WriteByte('-')
	b.WriteString(national[len(national)-tail:])
	return b.String()
}

// countryCodeLen returns the length of the calling code digits start with, or
// 0 if none is known.
func countryCodeLen(digits string) int {
	n, _ := splitCallingCode(digits)
	return n
}

// NationalMask rewrites a Russian number masked by Mask in the national
// form people write at home: +7 912 ***-**-89 becomes 8 (912) ***-**-89.
// Only the country code and its grouping change, never which digits show.
// Anything else (another country, "***", "") is returned as it is: the
// national form of a foreign number is no help to a reader in Russia.
func NationalMask(masked string) string {
	rest, ok := strings.CutPrefix(masked, "+7 ")
	if !ok {
		return masked
	}
	area, tail, ok := strings.Cut(rest, " ")
	if !ok || len(area) != 3 {
		return masked
	}
	return "8 (" + area + ") " + tail
}
