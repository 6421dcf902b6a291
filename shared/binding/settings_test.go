package binding_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

const profileURL = "https://www.gosuslugi.ru/profile"

func withProfileURL(c *binding.Config) { c.ProfileURL = profileURL }

func (e *env) patch(account string, p binding.SettingsPatch) (binding.Settings, error) {
	return e.svc.ChangeSettings(context.Background(), binding.SettingsUpdate{
		AccountID: account, Patch: p, Session: e.strongSession(), SourceIP: "198.51.100.10",
	})
}

func TestSettingsDefaultsAndMergePatch(t *testing.T) {
	e := newEnv(t)
	got, err := e.svc.Settings(context.Background(), "acc-set")
	if err != nil || got != binding.DefaultSettings() {
		t.Fatalf("never set: %+v, %v; want the defaults", got, err)
	}
	if got.ThirdParty != binding.ThirdPartyDeny || got.DisplayFormat != binding.DisplayInternational || !got.Autofill ||
		!got.Notifications.SMS || !got.Notifications.Email || !got.Notifications.Push {
		t.Fatalf("defaults = %+v", got)
	}
	if _, err := e.patch("acc-set", binding.SettingsPatch{EmailNotices: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	got, err = e.patch("acc-set", binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAsk)})
	if err != nil {
		t.Fatal(err)
	}
	want := binding.DefaultSettings()
	want.Notifications.Email = false
	want.ThirdParty = binding.ThirdPartyAsk
	if got != want {
		t.Fatalf("after two patches: %+v, want %+v (fields not given are kept)", got, want)
	}
	st, _ := e.svc.Status(context.Background(), "acc-set")
	if len(st.History) != 2 || st.History[0].Event != binding.EventSettingsChanged || st.History[0].Fields[0] != "third_party" {
		t.Fatalf("history = %+v", st.History)
	}
	evs := e.events.all()
	if len(evs) != 2 || evs[1].Name != binding.EventNameSettingsChanged || !evs[1].Push {
		t.Fatalf("events = %+v", evs)
	}
}

func TestSettingsChangeNeedsStepUp(t *testing.T) {
	e := newEnv(t)
	weak := []binding.Session{
		{AMR: []string{"pwd"}, AuthTime: e.clock.Now().Add(-time.Minute)},
		{AMR: []string{"pwd", "mfa"}, AuthTime: e.clock.Now().Add(-time.Hour)},
		{},
	}
	for _, sess := range weak {
		_, err := e.svc.ChangeSettings(context.Background(), binding.SettingsUpdate{
			AccountID: "acc-weak", Patch: binding.SettingsPatch{Autofill: ptr(false)}, Session: sess,
		})
		var su *binding.StepUpError
		if !errors.As(err, &su) || !su.SecondFactor {
			t.Fatalf("session %+v: %v, want a step-up with a second factor", sess, err)
		}
	}
	if got, _ := e.svc.Settings(context.Background(), "acc-weak"); !got.Autofill {
		t.Fatal("a refused change was written")
	}
	if len(e.events.all()) != 0 {
		t.Fatal("a refused change was published")
	}
}

func TestEmptyPatchRecordsNothing(t *testing.T) {
	e := newEnv(t)
	got, err := e.patch("acc-empty", binding.SettingsPatch{})
	if err != nil || got != binding.DefaultSettings() {
		t.Fatalf("%+v, %v", got, err)
	}
	if st, _ := e.svc.Status(context.Background(), "acc-empty"); len(st.History) != 0 || len(e.events.all()) != 0 {
		t.Fatal("an empty patch left a history entry or an event")
	}
}

// The national format applies to every number the account is shown:
// the bound phone, the request's destination, the history and a code's
// destination, and a change of format applies to entries already written.
func TestDisplayFormatAppliesToEveryNumberShown(t *testing.T) {
	e := newEnv(t)
	e.bind(t, "acc-fmt", "+79123456789")
	if _, err := e.patch("acc-fmt", binding.SettingsPatch{DisplayFormat: ptr(binding.DisplayNational)}); err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.Status(context.Background(), "acc-fmt")
	if err != nil {
		t.Fatal(err)
	}
	const national = "8 (912) ***-**-89"
	if st.Phone != national || st.Request.Destination != national {
		t.Fatalf("phone %q, destination %q; want %q", st.Phone, st.Request.Destination, national)
	}
	if h := st.History[len(st.History)-1]; h.Event != binding.EventBound || h.Phone != national {
		t.Fatalf("bind entry = %+v", h)
	}
	e.clock.Advance(2 * time.Minute)
	sent, err := e.code(binding.CodeRequest{AccountID: "acc-fmt", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS})
	if err != nil || sent.Destination != national {
		t.Fatalf("unbind code sent to %q (%v), want %q", sent.Destination, err, national)
	}
	if _, err := e.patch("acc-fmt", binding.SettingsPatch{DisplayFormat: ptr(binding.DisplayInternational)}); err != nil {
		t.Fatal(err)
	}
	st, _ = e.svc.Status(context.Background(), "acc-fmt")
	if st.Phone != "+7 912 ***-**-89" {
		t.Fatalf("back to international: %q", st.Phone)
	}
	for _, h := range st.History {
		if strings.Contains(h.Phone, "3456") {
			t.Fatalf("a full number in the history: %+v", h)
		}
	}
}

func (e *env) confirmWithEmail(t *testing.T, account, raw, email string) {
	t.Helper()
	sent, err := e.request(t, account, raw)
	if err != nil {
		t.Fatalf("request %s: %v", raw, err)
	}
	_, err = e.svc.Confirm(context.Background(), binding.Confirmation{Session: e.strongSession(),
		AccountID: account, VerificationID: sent.VerificationID, Code: e.sms.lastCode(t, number(t, raw).E164()), Email: email,
	})
	if err != nil {
		t.Fatalf("confirm %s: %v", raw, err)
	}
}

// A bind is a notice: a letter ("Номер сохранён…", with the profile
// link) only with e-mail notices on. A change is a security alert: its
// letter goes out whatever is set.
func TestLettersFollowEmailNotices(t *testing.T) {
	e := newEnv(t, withProfileURL)
	e.confirmWithEmail(t, "acc-on", "+79123456701", "on@example.ru")
	letters := e.sms.to("on@example.ru")
	if len(letters) != 1 || !strings.Contains(letters[0], "Номер сохранён в профиле Госуслуг: +7 912 ***-**-01") ||
		!strings.Contains(letters[0], "was saved") || !strings.Contains(letters[0], profileURL) {
		t.Fatalf("bind letter = %q", letters)
	}

	if _, err := e.patch("acc-off", binding.SettingsPatch{EmailNotices: ptr(false), PushNotices: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	e.confirmWithEmail(t, "acc-off", "+79123456702", "off@example.ru")
	if got := e.sms.to("off@example.ru"); len(got) != 0 {
		t.Fatalf("e-mail notices off, yet a bind letter: %q", got)
	}
	evs := e.events.all()
	if last := evs[len(evs)-1]; last.Name != binding.EventNamePhoneBound || last.Push {
		t.Fatalf("bind event with push off = %+v", last)
	}
	e.clock.Advance(721 * time.Hour)
	e.confirmWithEmail(t, "acc-off", "+79123456703", "off@example.ru")
	letters = e.sms.to("off@example.ru")
	if len(letters) != 1 || !strings.Contains(letters[0], "изменён") || !strings.Contains(letters[0], "+7 912 ***-**-03") ||
		!strings.Contains(letters[0], profileURL) {
		t.Fatalf("change letter with e-mail notices off = %q; a security alert goes out whatever is set", letters)
	}
	for _, l := range letters {
		if strings.Contains(l, "9123456703") {
			t.Fatal("a full number in a letter")
		}
	}
}
