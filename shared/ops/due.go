package ops

import (
	"context"
	"log/slog"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// DueCompleter completes the removals whose hold has run out.
type DueCompleter interface {
	CompleteDueUnbinds(ctx context.Context) (binding.DueReport, error)
}

// completeDueEvent is {"action":"complete_due_unbinds","operator"}: the
// schedule names itself as operator, a person running it by hand names
// themselves.
type completeDueEvent struct {
	Action   string `json:"action"`
	Operator string `json:"operator"`
}

func (e completeDueEvent) required() [][2]string { return [][2]string{{"operator", e.Operator}} }

// CompleteDueResult is what the operator (or the schedule's log) reads back.
type CompleteDueResult struct {
	Listed    int    `json:"listed"`
	Completed int    `json:"completed"`
	Gone      int    `json:"gone"`
	Message   string `json:"message"`
}

// CompleteDueUnbinds is the unbind function's complete_due_unbinds action,
// run each minute by the template's schedule (and by `make run`'s ticker):
// every held removal past its effective_at is written, published, and told
// to the number and the kept address. The number was unbound for every
// reader at effective_at already; the job only makes those side effects
// timely when the account never writes again. Safe to run at any time,
// twice at once, or by hand: each hold completes once.
func CompleteDueUnbinds(svc DueCompleter, logger *slog.Logger) Action {
	logger = orDiscard(logger)
	return actionOf(func(ctx context.Context, _ completeDueEvent) (any, error) {
		r, err := svc.CompleteDueUnbinds(ctx)
		if r.Listed > 0 {
			logger.InfoContext(ctx, "due unbinds", "listed", r.Listed, "completed", r.Completed, "gone", r.Gone)
		}
		if err != nil {
			return nil, err
		}
		return CompleteDueResult{Listed: r.Listed, Completed: r.Completed, Gone: r.Gone, Message: "every due removal is completed"}, nil
	})
}
