// The citizen's settings (SPEC §4.7): which notices they want, whether
// services may prefill and partners may read the number, and how the
// masked number is shown.

package binding

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gosuslugi/phonebind/shared/phone"
)

// ThirdParty is the number's visibility to partner services.
type ThirdParty string

// Visibilities to partners; ThirdPartyDeny is the default.
const (
	ThirdPartyDeny  ThirdParty = "deny"
	ThirdPartyAsk   ThirdParty = "ask"
	ThirdPartyAllow ThirdParty = "allow"
)

// ThirdParties lists the visibilities a citizen may choose.
var ThirdParties = []ThirdParty{ThirdPartyDeny, ThirdPartyAsk, ThirdPartyAllow}

// DisplayFormat is how a masked number is shown to its account.
type DisplayFormat string

// Display formats; DisplayInternational is the default.
const (
	// DisplayInternational: +7 912 ***-**-89 (phone.Mask).
	DisplayInternational DisplayFormat = "international"
	// DisplayNational: 8 (912) ***-**-89 for a Russian number
	// (phone.NationalMask); other countries stay international.
	DisplayNational DisplayFormat = "national"
)

// DisplayFormats lists the formats a citizen may choose.
var DisplayFormats = []DisplayFormat{DisplayInternational, DisplayNational}

// Notifications are the service notices wanted per channel. Security
// alerts (a change, a removal, a hold) go out whatever is set here.
type Notifications struct {
	SMS   bool
	Email bool
	Push  bool
}

// Settings are an account's settings as they apply: what was set, and the
// defaults for the rest.
type Settings struct {
	Notifications Notifications
	// Autofill lets portal services prefill the number in applications.
	Autofill      bool
	ThirdParty    ThirdParty
	DisplayFormat DisplayFormat
}

// DefaultSettings are what an account that never changed a setting has:
// every notice on, autofill on, partners refused, the international form.
func DefaultSettings() Settings {
	return Settings{
		Notifications: Notifications{SMS: true, Email: true, Push: true},
		Autofill:      true,
		ThirdParty:    ThirdPartyDeny,
		DisplayFormat: DisplayInternational,
	}
}

// SettingsPatch is a JSON merge patch of the settings, field by field: a
// nil field is kept as it is. The store keeps the fields ever set in the
// same shape, so a default still applies to a field never set.
type SettingsPatch struct {
	SMSNotices    *bool
	EmailNotices  *bool
	PushNotices   *bool
	Autofill      *bool
	ThirdParty    *ThirdParty
	DisplayFormat *DisplayFormat
}

// Merge returns the fields of p, overlaid by those q sets.
func (p SettingsPatch) Merge(q SettingsPatch) SettingsPatch {
	pick := func(a, b *bool) *bool {
		if b != nil {
			return b
		}
		return a
	}
	out := SettingsPatch{
		SMSNotices:    pick(p.SMSNotices, q.SMSNotices),
		EmailNotices:  pick(p.EmailNotices, q.EmailNotices),
		PushNotices:   pick(p.PushNotices, q.PushNotices),
		Autofill:      pick(p.Autofill, q.Autofill),
		ThirdParty:    p.ThirdParty,
		DisplayFormat: p.DisplayFormat,
	}
	if q.ThirdParty != nil {
		out.ThirdParty = q.ThirdParty
	}
	if q.DisplayFormat != nil {
		out.DisplayFormat = q.DisplayFormat
	}
	return out
}

// Fields names the settings p sets, as the API spells them, in a fixed
// order; a history entry lists them.
func (p SettingsPatch) Fields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"notifications.sms", p.SMSNotices != nil},
		{"notifications.email", p.EmailNotices != nil},
		{"notifications.push", p.PushNotices != nil},
		{"autofill", p.Autofill != nil},
		{"third_party", p.ThirdParty != nil},
		{"display_format", p.DisplayFormat != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// Applied is the settings that apply when p is what was ever set.
func (p SettingsPatch) Applied() Settings {
	s := DefaultSettings()
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.Notifications.SMS, p.SMSNotices)
	set(&s.Notifications.Email, p.EmailNotices)
	set(&s.Notifications.Push, p.PushNotices)
	set(&s.Autofill, p.Autofill)
	if p.ThirdParty != nil {
		s.ThirdParty = *p.ThirdParty
	}
	if p.DisplayFormat != nil {
		s.DisplayFormat = *p.DisplayFormat
	}
	return s
}

// Show words a masked number in the account's display format. Numbers
// are formatted when shown, from the masked form stored, so a change of
// format applies to every number already in the history too.
func (s Settings) Show(masked string) string {
	if s.DisplayFormat == DisplayNational {
		return phone.NationalMask(masked)
	}
	return masked
}

// SettingsUpdate is a PATCH of the settings by the account's owner.
type SettingsUpdate struct {
	AccountID string
	Patch     SettingsPatch
	// Session must show step-up: a second factor, signed in recently.
	Session  Session
	SourceIP string
}

// SettingsChange writes the fields of Patch and the history entry in one
// atomic step. Only the fields given are written, so two changes of
// different fields at once both land, and neither reads first.
type SettingsChange struct {
	AccountID string
	Patch     SettingsPatch
	History   HistoryEntry
}

// ErrInvalidSetting is a value outside a setting's choices; the HTTP layer
// refuses those before the service sees them.
var ErrInvalidSetting = errors.New("invalid setting value")

// Settings are the account's settings as they apply now.
func (s *Service) Settings(ctx context.Context, accountID string) (Settings, error) {
	snap, err := s.store.Snapshot(ctx, accountID, 0)
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return snap.Settings.Applied(), nil
}

// ChangeSettings sets the fields the patch gives and keeps the others
// (JSON merge patch); it needs step-up with a second factor, as the
// settings decide who may read the number. Each change is a
// settings_changed history entry and a settings.changed event; a
// patch that sets nothing changes nothing and records nothing.
func (s *Service) ChangeSettings(ctx context.Context, u SettingsUpdate) (Settings, error) {
	now := s.now().UTC()
	if err := s.demand(u.Session, true, now); err != nil {
		return Settings{}, err
	}
	if !validSettings(u.Patch) {
		return Settings{}, ErrInvalidSetting
	}
	fields := u.Patch.Fields()
	if len(fields) == 0 {
		return s.Settings(ctx, u.AccountID)
	}
	historyID, err := newID()
	if err != nil {
		return Settings{}, err
	}
	history := HistoryEntry{
		ID: historyID, At: now, Event: EventSettingsChanged, Actor: "user", SourceIP: u.SourceIP,
		Fields: fields, ExpiresAt: now.Add(s.cfg.HistoryRetention),
	}
	if err := s.store.ChangeSettings(ctx, SettingsChange{AccountID: u.AccountID, Patch: u.Patch, History: history}); err != nil {
		return Settings{}, fmt.Errorf("change settings: %w", err)
	}
	set, err := s.Settings(ctx, u.AccountID)
	if err != nil {
		// Committed: the event still goes, under the defaults.
		s.publish(ctx, u.AccountID, history, "", DefaultSettings())
		return Settings{}, err
	}
	s.publish(ctx, u.AccountID, history, "", set)
	return set, nil
}

func validSettings(p SettingsPatch) bool {
	if p.ThirdParty != nil && !slices.Contains(ThirdParties, *p.ThirdParty) {
		return false
	}
	return p.DisplayFormat == nil || slices.Contains(DisplayFormats, *p.DisplayFormat)
}
