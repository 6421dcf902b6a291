package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of the citizen's settings (SPEC §4.7), run by Run.
var settingsCases = []contractCase[subject]{
	{"SettingsDefaultsAndMerge", settingsDefaultsAndMerge},
	{"SettingsSurviveBindAndHistory", settingsSurviveBindAndHistory},
	{"SettingsConcurrentFieldsBothLand", settingsConcurrentFieldsBothLand},
}

func ptr[T any](v T) *T { return &v }

func settingsChange(accountID, id string, at time.Time, p binding.SettingsPatch) binding.SettingsChange {
	return binding.SettingsChange{AccountID: accountID, Patch: p, History: binding.HistoryEntry{
		ID: id, At: at, Event: binding.EventSettingsChanged, Actor: "user", Fields: p.Fields(),
		ExpiresAt: at.Add(time.Hour),
	}}
}

// A fresh account has no settings stored (the defaults apply); a change
// stores the fields given and keeps the others.
func settingsDefaultsAndMerge(t *testing.T, s subject) {
	a := account("settings")
	if got := snapshot(t, s, a, 0).Settings; !reflect.DeepEqual(got, binding.SettingsPatch{}) {
		t.Fatalf("fresh account's settings = %+v, want none stored", got)
	}
	if got := snapshot(t, s, a, 0).Settings.Applied(); got != binding.DefaultSettings() {
		t.Fatalf("applied = %+v, want defaults", got)
	}
	first := binding.SettingsPatch{EmailNotices: ptr(false), DisplayFormat: ptr(binding.DisplayNational)}
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base, first)); err != nil {
		t.Fatalf("change: %v", err)
	}
	second := binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAsk), DisplayFormat: ptr(binding.DisplayInternational)}
	if err := s.ChangeSettings(ctx, settingsChange(a, "s2", base.Add(time.Second), second)); err != nil {
		t.Fatalf("change: %v", err)
	}
	want := binding.DefaultSettings()
	want.Notifications.Email = false
	want.ThirdParty = binding.ThirdPartyAsk
	if got := snapshot(t, s, a, 0).Settings.Applied(); got != want {
		t.Fatalf("applied = %+v, want %+v", got, want)
	}
	hist := snapshot(t, s, a, 5).History
	if len(hist) != 2 || hist[0].ID != "s2" || hist[0].Event != binding.EventSettingsChanged ||
		!reflect.DeepEqual(hist[0].Fields, []string{"third_party", "display_format"}) ||
		!reflect.DeepEqual(hist[1].Fields, []string{"notifications.email", "display_format"}) {
		t.Fatalf("history = %+v", hist)
	}
}

// The settings are their own item: a bind (which writes the profile
// whole) keeps them, and the snapshot still reads the profile, the
// verification and as many history entries as asked.
func settingsSurviveBindAndHistory(t *testing.T, s subject) {
	a := account("settings-bind")
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base.Add(-time.Minute), binding.SettingsPatch{Autofill: ptr(false)})); err != nil {
		t.Fatalf("change: %v", err)
	}
	n := sealed(a + "-42")
	v := verification(a, "b1", n, 0, binding.SealedPhone{})
	start(t, s, v, base)
	if err := s.CompleteBind(ctx, completion(v, base)); err != nil {
		t.Fatalf("bind: %v", err)
	}
	snap := snapshot(t, s, a, 1)
	if !snap.Profile.Bound() || snap.Verification == nil || len(snap.History) != 1 || snap.History[0].Event == binding.EventSettingsChanged {
		t.Fatalf("snapshot after bind = %+v", snap)
	}
	if snap.Settings.Applied().Autofill {
		t.Fatal("a bind reset autofill to its default")
	}
	if got := len(snapshot(t, s, a, 2).History); got != 2 {
		t.Fatalf("history of 2 asked: %d entries", got)
	}
}

// Two changes of different fields at once both land: each writes only
// its own fields and reads nothing first.
func settingsConcurrentFieldsBothLand(t *testing.T, s subject) {
	a := account("settings-race")
	patches := []binding.SettingsPatch{
		{SMSNotices: ptr(false)},
		{PushNotices: ptr(false)},
		{ThirdParty: ptr(binding.ThirdPartyAllow)},
		{DisplayFormat: ptr(binding.DisplayNational)},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(patches))
	for i, p := range patches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.ChangeSettings(ctx, settingsChange(a, "r"+string(rune('a'+i)), base.Add(time.Duration(i)*time.Millisecond), p))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	got := snapshot(t, s, a, 10)
	want := binding.Settings{
		Notifications: binding.Notifications{SMS: false, Email: true, Push: false},
		Autofill:      true, ThirdParty: binding.ThirdPartyAllow, DisplayFormat: binding.DisplayNational,
	}
	if got.Settings.Applied() != want {
		t.Fatalf("after concurrent changes: %+v, want %+v", got.Settings.Applied(), want)
	}
	if len(got.History) != len(patches) {
		t.Fatalf("history entries: %d, want %d", len(got.History), len(patches))
	}
}
