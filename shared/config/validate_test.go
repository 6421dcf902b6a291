package config

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The value checks replaced regular expressions compiled at package init
// (a cold-start cost); each must accept exactly what its expression did.
func TestValidatorsMatchTheirExpressions(t *testing.T) {
	letter := regexp.MustCompile(`[A-Za-z]`)
	senderID := regexp.MustCompile(`^[A-Za-z0-9-]{1,11}$`)
	checks := []struct {
		name   string
		regexp func(string) bool
		check  func(string) bool
	}{
		{"region", regexp.MustCompile(`^[A-Z]{2}$`).MatchString, isRegion},
		{"e164", regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`).MatchString, isE164},
		{"digits", regexp.MustCompile(`^[0-9]+$`).MatchString, isDigits},
		{"table name", regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`).MatchString, isTableName},
		{"sender id", func(s string) bool { return senderID.MatchString(s) && letter.MatchString(s) }, isSenderID},
	}
	inputs := []string{
		"", "R", "RU", "RUS", "ru", "Ru", "R1", "ÄB", "RU\n", "\nRU", " RU", "@[", "Z[", "`a", "{}",
		"+", "+7", "+1234567", "+123456", "+123456789012345", "+1234567890123456", "+0123456789", "++1234567",
		"+7912345678٣", "+79123456789\n", "+79 123456789", "1234567", "+١٢٣٤٥٦٧٨",
		"0", "0123", "12a", "٣", "１２３", "9\x00",
		"ab", "abc", "a.b", "a_b", "a-b", "a b", "a/b", "таб", "a\xffb", strings.Repeat("t", 255), strings.Repeat("t", 256),
		"a", "-", "---", "1", "12345678901", "1234567890a", "Gosuslugi", "GosuslugiRUS", "Gos_uslugi", "Госуслуги", "A-1",
	}
	// And random strings over an alphabet that straddles every class's
	// edges ('/' '0' '9' ':', '@' 'A' 'Z' '[', '`' 'a' 'z' '{', …) and a
	// few multi-byte and invalid UTF-8 sequences.
	alphabet := []string{"/", "0", "1", "5", "9", ":", "@", "A", "R", "Z", "[", "`", "a", "u", "z", "{",
		"+", "-", "_", ".", " ", "\n", "\x00", "Ä", "٣", "\xff", "\xc3"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		n := rng.IntN(18)
		if rng.IntN(50) == 0 {
			n = 250 + rng.IntN(10)
		}
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	// Numbers around the E.164 bounds: '+' and 5 to 16 digits, now and
	// then a zero first or a stray character.
	for range 5000 {
		b := []byte{'+'}
		for range 5 + rng.IntN(12) {
			b = append(b, "0123456789"[rng.IntN(10)])
		}
		if rng.IntN(10) == 0 {
			b[1+rng.IntN(len(b)-1)] = "0a+ "[rng.IntN(4)]
		}
		inputs = append(inputs, string(b))
	}
	// Long runs of one valid character around the table-name bounds.
	for n := 250; n <= 258; n++ {
		inputs = append(inputs, strings.Repeat("a", n), "+"+strings.Repeat("1", n))
	}
	for _, c := range checks {
		for _, in := range inputs {
			if want, got := c.regexp(in), c.check(in); want != got {
				t.Errorf("%s(%q) = %v, its expression says %v", c.name, in, got, want)
			}
		}
	}
}
