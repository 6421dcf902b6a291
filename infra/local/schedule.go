package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gosuslugi/phonebind/shared/app/core"
)

// dueEvent is what template.yaml's CompleteDueUnbinds schedule invokes the
// unbind function with (TestScheduleMatchesTemplate holds the two alike).
const dueEvent = `{"action":"complete_due_unbinds","operator":"schedule"}`

// dueEvery is the schedule's rate(1 minute).
const dueEvery = time.Minute

// completeDue runs the schedule's event every dueEvery until ctx ends, as
// EventBridge does for the deployed stack: a held removal's event, SMS and
// letter go out within a minute of effective_at even when nobody writes.
func (s *server) completeDue(ctx context.Context, logger *slog.Logger) {
	t := time.NewTicker(dueEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.runDue(ctx, logger)
		}
	}
}

// runDue invokes the unbind function with the schedule's event once.
func (s *server) runDue(ctx context.Context, logger *slog.Logger) {
	h, err := s.app.Lambda(core.UnbindFunction)
	if err == nil {
		_, err = h(ctx, json.RawMessage(dueEvent))
	}
	if err != nil {
		logger.ErrorContext(ctx, "complete_due_unbinds", "error", err.Error())
	}
}
