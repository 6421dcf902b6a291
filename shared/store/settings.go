// The citizen's settings (SPEC §4.7) in both adapters: one item per
// account, ACCOUNT#<id> / SETTINGS, holding only the settings ever set.

package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// settingsItem is the settings item. A pointer left nil was never set and
// is not written, so the setting's default applies (binding.DefaultSettings).
// It lives beside the profile, not on it: the profile is written whole by
// a bind, which would otherwise have to carry the settings through.
type settingsItem struct {
	PK            string  `dynamodbav:"pk"`
	SK            string  `dynamodbav:"sk"`
	Type          string  `dynamodbav:"type"`
	AccountID     string  `dynamodbav:"account_id"`
	NotifySMS     *bool   `dynamodbav:"notify_sms,omitempty"`
	NotifyEmail   *bool   `dynamodbav:"notify_email,omitempty"`
	NotifyPush    *bool   `dynamodbav:"notify_push,omitempty"`
	Autofill      *bool   `dynamodbav:"autofill,omitempty"`
	ThirdParty    *string `dynamodbav:"third_party,omitempty"`
	DisplayFormat *string `dynamodbav:"display_format,omitempty"`
	UpdatedAt     string  `dynamodbav:"updated_at,omitempty"`
	// Version counts the changes (ADD 1 each): a read of the number
	// insists on the version it decided on (access.go), so a change
	// committed before the read's log entry always wins.
	Version int64 `dynamodbav:"version,omitempty"`
}

func (it settingsItem) patch() binding.SettingsPatch {
	p := binding.SettingsPatch{
		SMSNotices: it.NotifySMS, EmailNotices: it.NotifyEmail, PushNotices: it.NotifyPush, Autofill: it.Autofill,
	}
	if it.ThirdParty != nil {
		v := binding.ThirdParty(*it.ThirdParty)
		p.ThirdParty = &v
	}
	if it.DisplayFormat != nil {
		v := binding.DisplayFormat(*it.DisplayFormat)
		p.DisplayFormat = &v
	}
	return p
}

// ChangeSettings implements binding.Store with one TransactWriteItems: an
// UpdateItem that sets only the attributes of the fields given (creating
// the item if need be) and the history entry. Nothing is read first, so
// two changes of different fields both land.
func (d *Dynamo) ChangeSettings(ctx context.Context, c binding.SettingsChange) error {
	upd := expression.Set(expression.Name(attrType), expression.Value(typeSettings)).
		Set(expression.Name(attrAccountID), expression.Value(c.AccountID)).
		Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(c.History.At))).
		Add(expression.Name(attrVersion), expression.Value(1))
	setBool := func(attr string, v *bool) {
		if v != nil {
			upd = upd.Set(expression.Name(attr), expression.Value(*v))
		}
	}
	p := c.Patch
	setBool(attrNotifySMS, p.SMSNotices)
	setBool(attrNotifyEmail, p.EmailNotices)
	setBool(attrNotifyPush, p.PushNotices)
	setBool(attrAutofill, p.Autofill)
	if p.ThirdParty != nil {
		upd = upd.Set(expression.Name(attrThirdParty), expression.Value(string(*p.ThirdParty)))
	}
	if p.DisplayFormat != nil {
		upd = upd.Set(expression.Name(attrDisplayFormat), expression.Value(string(*p.DisplayFormat)))
	}
	e, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return fmt.Errorf("build settings update: %w", err)
	}
	history, err := marshalHistory(c.AccountID, c.History)
	if err != nil {
		return err
	}
	var t txn
	t.add(itemSettings, update(d.table, key(accountPK(c.AccountID), skSettings), e))
	t.add(itemHistory, putNew(d.table, history))
	_, err = d.transact(ctx, t.items)
	return err
}

// ChangeSettings implements binding.Store.
func (m *Memory) ChangeSettings(_ context.Context, c binding.SettingsChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settings[c.AccountID] = m.settings[c.AccountID].Merge(c.Patch)
	m.settingsVersion[c.AccountID]++
	h := append(m.history[c.AccountID], c.History)
	sort.SliceStable(h, func(i, j int) bool { return h[i].At.Before(h[j].At) })
	m.history[c.AccountID] = h
	return nil
}
