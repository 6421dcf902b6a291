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
	Failed    int    `json:"failed"`
	Left      int    `json:"left"`
	Message   string `json:"message"`
}

// CompleteDueUnbinds is the unbind function's complete_due_unbinds action,
// run each minute by the template's schedule (and by `make run`'s ticker):
// every held removal past its effective_at is written, published, and told
// to the number and the kept address. The number was unbound for every
// reader at effective_at already; the job only makes those side effects
// timely when the account never writes again. Safe to run at any time,
// twice at once, or by hand: each hold completes once and is told at
// least once (its event id is the same each time). One failing account
// fails no run: it is logged, counted and tried again by the next.
func CompleteDueUnbinds(svc DueCompleter, logger *slog.Logger) Action {
	logger = orDiscard(logger)
	return actionOf(func(ctx context.Context, _ completeDueEvent) (any, error) {
		r, err := svc.CompleteDueUnbinds(ctx)
		if r.Listed > 0 {
			logger.InfoContext(ctx, "due unbinds", "listed", r.Listed, "completed", r.Completed, "gone", r.Gone, "failed", r.Failed, "left", r.Left)
		}
		if err != nil && r.Listed == 0 {
			// Nothing was listed: the run itself failed.
			return nil, err
		}
		out := CompleteDueResult{Listed: r.Listed, Completed: r.Completed, Gone: r.Gone, Failed: r.Failed, Left: r.Left,
			Message: "every due removal is completed"}
		if err != nil || r.Left > 0 {
			// The failed accounts are logged and counted (DueUnbindFailures)
			// by the service; they and the ones left wait for the next run.
			out.Message = "some due removals are left to the next run"
		}
		return out, nil
	})
}
