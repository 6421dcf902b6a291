package store

import (
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Every key of the single table is built here. An account's partition holds
// its profile, its one verification and its history; sort keys are chosen
// so that one descending Query returns VERIFICATION, PROFILE and then the
// newest history entries, in that order.
const (
	attrPK = "pk"
	attrSK = "sk"

	skProfile      = "PROFILE"
	skVerification = "VERIFICATION"
	skHistoryFrom  = "HISTORY#"
	skClaim        = "CLAIM"
)

// timeLayout is RFC 3339 in UTC with fixed milliseconds: fixed width, so
// string order is time order, in keys and in condition expressions alike.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func accountPK(accountID string) string { return "ACCOUNT#" + accountID }

func historySK(at time.Time, id string) string { return skHistoryFrom + formatTime(at) + "#" + id }

func claimPK(phoneHMAC string) string { return "PHONE#" + phoneHMAC }

func counterPK(c binding.Counter) string { return "LIMIT#" + c.Name + "#" + c.Subject }

func counterSK(c binding.Counter) string { return formatTime(c.WindowStart) }
