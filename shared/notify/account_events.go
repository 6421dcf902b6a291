package notify

import (
	"context"

	"github.com/gosuslugi/phonebind/shared/privacy"
)

var _ privacy.Events = AccountEvents{}

// AccountEvents publishes the privacy service's account.erased in its JSON
// form, the contract subscribers read.
type AccountEvents struct{ Publisher Publisher }

// accountErasedJSON is the body of account.erased: the account id and
// when, no number (SPEC §4.6, §4.9). A subscriber deletes what it keeps
// about the account; a rerun of an erasure publishes it again.
type accountErasedJSON struct {
	EventID   string `json:"event_id"`
	Event     string `json:"event"`
	AccountID string `json:"account_id"`
	At        string `json:"at"`
}

// AccountErased implements privacy.Events.
func (a AccountEvents) AccountErased(ctx context.Context, e privacy.ErasedEvent) error {
	return a.Publisher.Publish(ctx, privacy.EventNameAccountErased, accountErasedJSON{
		EventID:   e.ID,
		Event:     privacy.EventNameAccountErased,
		AccountID: e.AccountID,
		At:        e.At.UTC().Format(eventTimeLayout),
	})
}
