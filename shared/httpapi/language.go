package httpapi

import (
	"strconv"
	"strings"
)

// lang is the language of the texts in a response.
type lang int

// Languages the API speaks; Russian is the default.
const (
	langRU lang = iota
	langEN
)

func (l lang) String() string {
	if l == langEN {
		return "en"
	}
	return "ru"
}

// preferredLang reads an Accept-Language header (RFC 9110 §12.5.4) and
// answers English only when the client ranks English above Russian: the
// highest q wins, a tie goes to whichever was named first, and a wildcard
// or anything unparsable means Russian.
func preferredLang(header string) lang {
	const unset = -1.0
	ru, en, wildcard := unset, unset, unset
	ruPos, enPos := -1, -1
	i := -1
	for part := range strings.SplitSeq(header, ",") {
		i++
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.TrimSpace(tag)
		// An ASCII tag is compared folding case, without a lowercased
		// copy; any other is lowercased first, Unicode's way.
		if !isASCII(tag) {
			tag = strings.ToLower(tag)
		}
		q, ok := quality(params)
		if !ok || tag == "" {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		switch {
		case tag == "*":
			wildcard = max(wildcard, q)
		case strings.EqualFold(primary, "ru"):
			if q > ru {
				ru, ruPos = q, i
			}
		case strings.EqualFold(primary, "en"):
			if q > en {
				en, enPos = q, i
			}
		}
	}
	// A wildcard stands for every language not named.
	if ru == unset {
		ru = wildcard
	}
	if en == unset {
		en = wildcard
	}
	switch {
	case en <= 0:
		return langRU
	case en > ru:
		return langEN
	case en == ru && enPos >= 0 && (ruPos < 0 || enPos < ruPos):
		return langEN
	default:
		return langRU
	}
}

// quality reads the q parameter of one Accept-Language entry; a missing q is
// 1 and a malformed one makes the entry ignored.
func quality(params string) (float64, bool) {
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		name, value, found := strings.Cut(strings.TrimSpace(p), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || v < 0 || v > 1 {
			return 0, false
		}
		q = v
	}
	return q, true
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
