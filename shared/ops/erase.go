package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/gosuslugi/phonebind/shared/privacy"
)

// Eraser erases everything held about an account.
type Eraser interface {
	Erase(ctx context.Context, accountID string) (privacy.Erased, error)
}

// eraseAccountEvent is {"action":"erase_account","account_id","operator","reason"}.
type eraseAccountEvent struct {
	Action    string `json:"action"`
	AccountID string `json:"account_id"`
	Operator  string `json:"operator"`
	Reason    string `json:"reason"`
}

// EraseAccountResult is what the operator reads back: what was erased, per
// kind. All zero means nothing was left.
type EraseAccountResult struct {
	AccountID string       `json:"account_id"`
	Erased    ErasedCounts `json:"erased"`
	Message   string       `json:"message"`
}

// ErasedCounts are privacy.Erased as the operator reads them.
type ErasedCounts struct {
	Profile      int `json:"profile"`
	Verification int `json:"verification"`
	Settings     int `json:"settings"`
	History      int `json:"history"`
	// Other are the other items of the account's partition by type
	// (access log entries, access requests, …).
	Other       map[string]int `json:"other"`
	Claims      int            `json:"claims"`
	Counters    int            `json:"counters"`
	Idempotency int            `json:"idempotency"`
	// Tickets were kept, stripped of message, contact and answer, under
	// no account.
	Tickets int `json:"tickets_stripped"`
}

func countsOf(e privacy.Erased) ErasedCounts {
	other := e.Other
	if other == nil {
		other = map[string]int{}
	}
	return ErasedCounts{
		Profile: e.Profile, Verification: e.Verification, Settings: e.Settings, History: e.History, Other: other,
		Claims: e.Claims, Counters: e.Counters, Idempotency: e.Idempotency, Tickets: e.Tickets,
	}
}

// EraseAccount is the unbind function's erase_account action (SPEC §4.9):
// the portal deleted the account, or its owner withdrew consent in full.
// Every field is required. It can be run again at any time: after a
// failure it finishes the job, and with nothing left it answers zero
// counts. The operator and the reason are logged, never a number.
func EraseAccount(svc Eraser, logger *slog.Logger) Action {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var ev eraseAccountEvent
		if err := Decode(raw, &ev); err != nil {
			return nil, err
		}
		if err := Required([2]string{"account_id", ev.AccountID}, [2]string{"operator", ev.Operator}, [2]string{"reason", ev.Reason}); err != nil {
			return nil, err
		}
		logger.InfoContext(ctx, "erase account", "operator_claimed", ev.Operator, "reason", ev.Reason, "account_id", ev.AccountID)
		erased, err := svc.Erase(ctx, ev.AccountID)
		if err != nil {
			return nil, err
		}
		msg := "everything held about the account was erased"
		switch {
		case erased.Total() == 0:
			msg = "nothing left: the account holds no data here"
		case erased.Tickets > 0:
			msg += fmt.Sprintf("; its %d ticket(s) are kept, stripped of message, contact and answer, under no account", erased.Tickets)
		}
		logger.InfoContext(ctx, "account erased", "operator_claimed", ev.Operator, "account_id", ev.AccountID, "items", erased.Total())
		return EraseAccountResult{AccountID: ev.AccountID, Erased: countsOf(erased), Message: msg}, nil
	}
}
