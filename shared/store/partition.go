package store

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// accountItems are the items of an account's partition that its reads
// return (Snapshot, ReadView, Held), each read into its type by its sort
// key; the lists keep the order the items came in.
type accountItems struct {
	profile      *profileItem
	settings     *settingsItem
	verification *verificationItem
	history      []historyItem
	accessLog    []accessLogItem
	requests     []accessRequestItem
}

// readAccountItems reads items of an account's partition; the kinds no
// read returns (the held removals) are passed over.
func readAccountItems(items []map[string]types.AttributeValue) (accountItems, error) {
	var a accountItems
	for _, item := range items {
		var err error
		switch sk := stringAttr(item, attrSK); {
		case sk == skProfile:
			a.profile, err = decode[profileItem](item, "profile")
		case sk == skSettings:
			a.settings, err = decode[settingsItem](item, "settings")
		case sk == skVerification:
			a.verification, err = decode[verificationItem](item, "verification")
		case strings.HasPrefix(sk, skHistoryFrom):
			a.history, err = decodeInto(a.history, item, "history")
		case strings.HasPrefix(sk, skAccessLogFrom):
			a.accessLog, err = decodeInto(a.accessLog, item, "access log")
		case strings.HasPrefix(sk, skAccessReqFrom):
			a.requests, err = decodeInto(a.requests, item, "access request")
		}
		if err != nil {
			return accountItems{}, err
		}
	}
	return a, nil
}

// decode reads item into a T; what names it in the error.
func decode[T any](item map[string]types.AttributeValue, what string) (*T, error) {
	it := new(T)
	if err := attributevalue.UnmarshalMap(item, it); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return it, nil
}

// decodeInto appends item, read into a T, to list.
func decodeInto[T any](list []T, item map[string]types.AttributeValue, what string) ([]T, error) {
	it, err := decode[T](item, what)
	if err != nil {
		return nil, err
	}
	return append(list, *it), nil
}

// profileOf is the account's profile; without an item, nothing is bound.
func (a accountItems) profileOf(accountID string) binding.Profile {
	if a.profile == nil {
		return binding.Profile{AccountID: accountID}
	}
	return a.profile.profile()
}

// settingsPatch is the settings ever set, and the settings item's version
// (0: no item).
func (a accountItems) settingsPatch() (binding.SettingsPatch, int64) {
	if a.settings == nil {
		return binding.SettingsPatch{}, 0
	}
	return a.settings.patch(), a.settings.Version
}

// liveVerification is the account's latest request, nil when there is
// none or it was taken back (only the account's counters are left on it).
func (a accountItems) liveVerification() *binding.Verification {
	if a.verification == nil || a.verification.State == stateVoid {
		return nil
	}
	v := a.verification.verification()
	return &v
}
