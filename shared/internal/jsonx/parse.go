package jsonx

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting Skip follows; deeper documents are left to
// encoding/json (which allows 10000).
const MaxDepth = 512

// Parser reads a JSON document the way encoding/json reads it, for the
// common shapes only: every method returns false (and the Parser is then
// spent) when the input is anything it does not handle exactly as
// encoding/json would, syntax errors included, so that its caller hands the
// document to encoding/json instead. Strings without escapes are pieces of
// the input, never copies.
type Parser struct {
	s string
	i int
}

// NewParser reads s from offset i.
func NewParser(s string, i int) Parser { return Parser{s: s, i: i} }

// Pos is the offset of the next byte to read.
func (p *Parser) Pos() int { return p.i }

// End reports whether nothing but white space is left.
func (p *Parser) End() bool {
	p.WS()
	return p.i == len(p.s)
}

// IsSpace reports whether c is JSON white space.
func IsSpace(c byte) bool { return isSpace(c) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// WS passes over white space.
func (p *Parser) WS() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// Peek is the next byte after white space, 0 at the end.
func (p *Parser) Peek() byte {
	p.WS()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// Null consumes a null literal, if that is what comes next.
func (p *Parser) Null() bool {
	if p.Peek() == 'n' && strings.HasPrefix(p.s[p.i:], "null") {
		p.i += 4
		return true
	}
	return false
}

// Open consumes the '{' of an object.
func (p *Parser) Open() bool {
	if p.Peek() != '{' {
		return false
	}
	p.i++
	return true
}

// Member reads the next member's name and its ':' (more is true), or the
// object's closing '}' (more is false). first is true for the first call
// after Open; the caller reads the value before calling Member again.
func (p *Parser) Member(first bool) (name string, more, ok bool) {
	return p.nextMember(first, true)
}

// nextMember is Member; when want is false the name is checked but not
// returned (never allocated).
func (p *Parser) nextMember(first, want bool) (name string, more, ok bool) {
	c := p.Peek()
	if c == '}' {
		p.i++
		return "", false, true
	}
	if !first {
		if c != ',' {
			return "", false, false
		}
		p.i++
		p.WS()
	}
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false, false
	}
	if want {
		name, ok = p.Str()
	} else {
		ok = p.skipStr()
	}
	if !ok || p.Peek() != ':' {
		return "", false, false
	}
	p.i++
	return name, true, true
}

// Field finds name among a struct's JSON field names: its index, or -1 for
// a member encoding/json ignores. ok is false for a name encoding/json
// could match to a field without being equal to it (it folds case), which
// the caller must leave to encoding/json.
func Field(names []string, name string) (int, bool) {
	for i, n := range names {
		if n == name {
			return i, true
		}
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return -1, false
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return -1, false
		}
	}
	return -1, true
}

// Seen marks field i (< 32) of a struct as read; false means it was read
// already, and a field given twice (which encoding/json merges) is left to
// encoding/json.
func Seen(mask *uint32, i int) bool {
	if *mask&(1<<i) != 0 {
		return false
	}
	*mask |= 1 << i
	return true
}

// Str reads the string that comes next (its opening quote at the current
// offset: call Peek first). A string without escapes that is valid UTF-8 is
// a piece of the input; any other is unescaped as encoding/json unescapes
// it.
func (p *Parser) Str() (string, bool) {
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '"':
			v := p.s[start:j]
			if !ascii && !utf8.ValidString(v) {
				return p.unescape(start)
			}
			p.i = j + 1
			return v, true
		case c == '\\':
			return p.unescape(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// skipStr checks and passes over the string that comes next.
func (p *Parser) skipStr() bool {
	end, ok := p.strEnd(p.i + 1)
	if ok {
		p.i = end + 1
	}
	return ok
}

// strEnd finds the closing quote of the string whose contents start at
// start, checking its escapes and characters as encoding/json's scanner does.
func (p *Parser) strEnd(start int) (int, bool) {
	for j := start; j < len(p.s); j++ {
		c := p.s[j]
		if c == '"' {
			return j, true
		}
		if c < 0x20 {
			return 0, false
		}
		if c == '\\' {
			j++
			if j >= len(p.s) {
				return 0, false
			}
			switch p.s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if getu4(p.s[j-1:]) < 0 {
					return 0, false
				}
				j += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

// unescape reads the string starting at start (after its quote) as
// encoding/json's unquote does: escapes replaced, a surrogate pair joined,
// a lone surrogate and every byte of invalid UTF-8 made U+FFFD.
func (p *Parser) unescape(start int) (string, bool) {
	end, ok := p.strEnd(start)
	if !ok {
		return "", false
	}
	s := p.s[start:end]
	var b strings.Builder
	b.Grow(len(s) + 2*utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != utf8.RuneError {
						r += 6
						b.WriteRune(dec)
						continue
					}
					rr = utf8.RuneError
				}
				b.WriteRune(rr)
				continue
			default: // '"', '\\', '/'
				b.WriteByte(s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			r++
		default:
			rr, size := utf8.DecodeRuneInString(s[r:])
			b.WriteRune(rr) // RuneError for invalid UTF-8
			r += size
		}
	}
	p.i = end + 1
	return b.String(), true
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s string) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[2:6]) {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// StringValue reads a string member into dst; null leaves it as it is.
func (p *Parser) StringValue(dst *string) bool {
	switch p.Peek() {
	case '"':
		v, ok := p.Str()
		*dst = v
		return ok
	case 'n':
		return p.Null()
	}
	return false
}

func (p *Parser) BoolValue(dst *bool) bool {
	switch p.Peek() {
	case 't':
		if strings.HasPrefix(p.s[p.i:], "true") {
			p.i += 4
			*dst = true
			return true
		}
	case 'f':
		if strings.HasPrefix(p.s[p.i:], "false") {
			p.i += 5
			*dst = false
			return true
		}
	case 'n':
		return p.Null()
	}
	return false
}

// Int64Value reads an integer; a fraction, an exponent or an overflow
// (which encoding/json refuses for an int64) is left to encoding/json.
func (p *Parser) Int64Value(dst *int64) bool {
	c := p.Peek()
	if c == 'n' {
		return p.Null()
	}
	start := p.i
	j := p.i
	if c == '-' {
		j++
	}
	if j >= len(p.s) {
		return false
	}
	if p.s[j] == '0' {
		j++
	} else {
		digits := j
		for j < len(p.s) && '0' <= p.s[j] && p.s[j] <= '9' {
			j++
		}
		if j == digits {
			return false
		}
	}
	if j < len(p.s) && (p.s[j] == '.' || p.s[j] == 'e' || p.s[j] == 'E') {
		return false
	}
	n, err := strconv.ParseInt(p.s[start:j], 10, 64)
	if err != nil {
		return false
	}
	*dst = n
	p.i = j
	return true
}

// pair is one member of a map being read.
type pair struct{ k, v string }

// StringMap reads an object of strings; null is a nil map, {} an empty one,
// a null value an empty string (all as encoding/json has them).
func (p *Parser) StringMap(dst *map[string]string) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	if !p.Open() {
		return false
	}
	var arr [24]pair
	pairs := arr[:0]
	for first := true; ; first = false {
		k, more, ok := p.Member(first)
		if !ok {
			return false
		}
		if !more {
			break
		}
		var v string
		if !p.StringValue(&v) {
			return false
		}
		pairs = append(pairs, pair{k, v})
	}
	m := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		m[kv.k] = kv.v
	}
	*dst = m
	return true
}

// StringSlice reads an array of strings; null is a nil slice, [] an empty
// one, a null element an empty string.
func (p *Parser) StringSlice(dst *[]string) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	if p.Peek() != '[' {
		return false
	}
	p.i++
	var arr [16]string
	vals := arr[:0]
	if p.Peek() == ']' {
		p.i++
	} else {
		for {
			var v string
			if !p.StringValue(&v) {
				return false
			}
			vals = append(vals, v)
			c := p.Peek()
			p.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return false
			}
		}
	}
	*dst = append(make([]string, 0, len(vals)), vals...)
	return true
}

// Skip checks and passes over one value (any JSON value: the member of an
// object that encoding/json ignores), depth levels deep already.
func (p *Parser) Skip(depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch c := p.Peek(); {
	case c == '{':
		p.i++
		for first := true; ; first = false {
			_, more, ok := p.nextMember(first, false)
			if !ok {
				return false
			}
			if !more {
				return true
			}
			if !p.Skip(depth + 1) {
				return false
			}
		}
	case c == '[':
		p.i++
		if p.Peek() == ']' {
			p.i++
			return true
		}
		for {
			if !p.Skip(depth + 1) {
				return false
			}
			c := p.Peek()
			p.i++
			if c == ']' {
				return true
			}
			if c != ',' {
				return false
			}
		}
	case c == '"':
		return p.skipStr()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return false
}

func (p *Parser) literal(lit string) bool {
	if !strings.HasPrefix(p.s[p.i:], lit) {
		return false
	}
	p.i += len(lit)
	return true
}

// number passes over a number as JSON's grammar has it.
func (p *Parser) number() bool {
	s, j := p.s, p.i
	digits := func() bool {
		start := j
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j > start
	}
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case !digits():
		return false
	}
	if j < len(s) && s[j] == '.' {
		j++
		if !digits() {
			return false
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if !digits() {
			return false
		}
	}
	p.i = j
	return true
}

// Object reads an object into a struct whose JSON field names are names,
// as encoding/json would: one is called with the index of each field met
// (and must read its value), a member that is no field is skipped (and
// *other set, when other is not nil), a field met twice or a name that
// matches a field only when case is folded gives up. null leaves the struct
// as it is, as encoding/json leaves it.
func (p *Parser) Object(names []string, other *bool, one func(i int) bool) bool {
	if p.Null() {
		return true
	}
	if !p.Open() {
		return false
	}
	var mask uint32
	for first := true; ; first = false {
		name, more, ok := p.Member(first)
		if !ok {
			return false
		}
		if !more {
			return true
		}
		i, ok := Field(names, name)
		switch {
		case !ok:
			return false
		case i < 0:
			if other != nil {
				*other = true
			}
			if !p.Skip(1) {
				return false
			}
		case !Seen(&mask, i) || !one(i):
			return false
		}
	}
}
