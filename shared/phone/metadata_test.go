package phone

import (
	"sync"
	"testing"

	"github.com/gosuslugi/phonebind/shared/internal/race"
	"github.com/nyaruka/phonenumbers"
)

// TestRegexpsCompile compiles every region's patterns, which Parse
// otherwise does only for the regions it meets: a pattern Go's regexp
// rejects would panic in a request, not in CI.
func TestRegexpsCompile(t *testing.T) {
	for i := range regionTable {
		regionTable[i].regexps()
	}
}

// TestTableCoversEveryCallingCode checks the table against the library
// it was generated from, both ways, with the main region first.
func TestTableCoversEveryCallingCode(t *testing.T) {
	codes := phonenumbers.GetSupportedCallingCodes()
	if len(callingCodes) != len(codes) {
		t.Errorf("table has %d calling codes, nyaruka %d", len(callingCodes), len(codes))
	}
	for i, cc := range callingCodes {
		if i > 0 && callingCodes[i-1].code >= cc.code {
			t.Fatalf("callingCodes not sorted at %d", cc.code)
		}
		want := phonenumbers.GetRegionCodesForCountryCode(int(cc.code))
		var got []string
		for i := int(cc.first); i < int(cc.first)+int(cc.count); i++ {
			r := &regionTable[i]
			if int(r.code) != int(cc.code) {
				t.Errorf("region %s of +%d has code %d", r.id, cc.code, r.code)
			}
			got = append(got, r.id)
		}
		if len(got) != len(want) {
			t.Errorf("+%d: regions %v, nyaruka %v", cc.code, got, want)
			continue
		}
		for j := range got {
			if got[j] != want[j] {
				t.Errorf("+%d: regions %v, nyaruka %v", cc.code, got, want)
				break
			}
		}
	}
}

// TestParseAllocations pins the point of the table: an accepted number
// costs one allocation (its E.164 string), a refused one one (the error).
func TestParseAllocations(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector makes sync.Pool, which regexp matching uses, drop its buffers")
	}
	p := NewParser(nil)
	for raw, want := range map[string]float64{
		"+7 (912) 345-67-89": 1,
		"8 912 345 67 89":    1,
		"+7 495 123-45-67":   2, // the E.164 string is built before the type check refuses it
		"+7 912 ABC-67-89":   1,
	} {
		if got := testing.AllocsPerRun(100, func() { _, _ = p.Parse(raw) }); got != want {
			t.Errorf("Parse(%q): %v allocations, want %v", raw, got, want)
		}
	}
}

// TestRegexpsConcurrentFirstUse has many requests meet a region for the
// first time at once, as after a cold start, for the race detector to
// watch. The region is a fresh copy: the table's own may be compiled by
// earlier tests already.
func TestRegexpsConcurrentFirstUse(t *testing.T) {
	_, regions := splitCallingCode("7")
	ru := &regions[0]
	fresh := &region{
		id: ru.id, code: ru.code, leadingDigits: ru.leadingDigits,
		nationalPrefixForParsing:    ru.nationalPrefixForParsing,
		nationalPrefixTransformRule: ru.nationalPrefixTransformRule,
		sameMobileAndFixedLine:      ru.sameMobileAndFixedLine,
		general:                     ru.general, localOnly: ru.localOnly, types: ru.types,
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := fresh.kind("9123456789"); got != kindMobile {
				t.Errorf("kind = %v, want mobile", got)
			}
			if got := fresh.stripNationalPrefix("89123456789"); got != "9123456789" {
				t.Errorf("stripNationalPrefix = %q", got)
			}
		})
	}
	wg.Wait()
}
