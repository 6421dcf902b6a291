package ops

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// SupportUnbinder removes a number on an operator's word.
type SupportUnbinder interface {
	SupportUnbind(ctx context.Context, accountID, operator, reason, ticketID string) (binding.Status, error)
}

// supportUnbindEvent is {"action":"support_unbind","account_id","operator","reason","ticket_id"}.
type supportUnbindEvent struct {
	Action    string `json:"action"`
	AccountID string `json:"account_id"`
	Operator  string `json:"operator"`
	Reason    string `json:"reason"`
	TicketID  string `json:"ticket_id"`
}

func (e supportUnbindEvent) required() [][2]string {
	return [][2]string{{"account_id", e.AccountID}, {"operator", e.Operator}, {"reason", e.Reason}, {"ticket_id", e.TicketID}}
}

// SupportUnbindResult is what the operator reads back.
type SupportUnbindResult struct {
	AccountID string `json:"account_id"`
	Unbound   bool   `json:"unbound"`
	Message   string `json:"message"`
	Status    string `json:"status"`
}

// SupportUnbind is the unbind function's support_unbind action (SPEC §4.3):
// every field is required; a second call finds nothing bound and says so.
func SupportUnbind(svc SupportUnbinder, logger *slog.Logger) Action {
	logger = orDiscard(logger)
	return actionOf(func(ctx context.Context, ev supportUnbindEvent) (any, error) {
		st, err := svc.SupportUnbind(ctx, ev.AccountID, ev.Operator, ev.Reason, ev.TicketID)
		if errors.Is(err, binding.ErrNoPhoneBound) {
			return SupportUnbindResult{AccountID: ev.AccountID, Message: "nothing is bound to this account; nothing changed", Status: string(binding.StateNone)}, nil
		}
		if err != nil {
			return nil, err
		}
		logger.InfoContext(ctx, "support unbind", "operator_claimed", ev.Operator, "ticket_id", ev.TicketID, "reason", ev.Reason)
		return SupportUnbindResult{AccountID: ev.AccountID, Unbound: true, Message: "the number was unbound and released", Status: string(st.State)}, nil
	})
}

// HoldCanceller takes back a scheduled removal on an operator's word.
type HoldCanceller interface {
	SupportCancelUnbind(ctx context.Context, accountID, operator, reason string) (binding.Status, error)
}

// cancelUnbindEvent is {"action":"cancel_unbind","account_id","operator","reason"}.
type cancelUnbindEvent struct {
	Action    string `json:"action"`
	AccountID string `json:"account_id"`
	Operator  string `json:"operator"`
	Reason    string `json:"reason"`
}

func (e cancelUnbindEvent) required() [][2]string {
	return [][2]string{{"account_id", e.AccountID}, {"operator", e.Operator}, {"reason", e.Reason}}
}

// CancelUnbindResult is what the operator reads back.
type CancelUnbindResult struct {
	AccountID string `json:"account_id"`
	Cancelled bool   `json:"cancelled"`
	Message   string `json:"message"`
	Status    string `json:"status"`
}

// CancelUnbind is the unbind function's cancel_unbind action (SPEC §4.3):
// the user told support the removal by e-mail code was not theirs. Every
// field is required; with no removal scheduled it says so and changes
// nothing.
func CancelUnbind(svc HoldCanceller, logger *slog.Logger) Action {
	logger = orDiscard(logger)
	return actionOf(func(ctx context.Context, ev cancelUnbindEvent) (any, error) {
		st, err := svc.SupportCancelUnbind(ctx, ev.AccountID, ev.Operator, ev.Reason)
		if errors.Is(err, binding.ErrNoUnbindPending) {
			return nil, &Error{Code: "no_unbind_pending", Message: "no removal of the number is scheduled for this account; nothing changed", Field: "account_id"}
		}
		if err != nil {
			return nil, err
		}
		logger.InfoContext(ctx, "support cancelled unbind", "operator_claimed", ev.Operator, "reason", ev.Reason)
		return CancelUnbindResult{AccountID: ev.AccountID, Cancelled: true, Message: "the scheduled removal was cancelled; the number stays", Status: string(st.State)}, nil
	})
}
