package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// EventLog stands in for the events topic (snsnotify.EventTopic) locally:
// it logs each event (events carry masked numbers only) so a developer sees
// what would be published.
type EventLog struct{ logger *slog.Logger }

// NewEventLog returns a publisher that logs to logger.
func NewEventLog(logger *slog.Logger) *EventLog { return &EventLog{logger: logger} }

// Publish logs the event.
func (l *EventLog) Publish(ctx context.Context, name string, event any) error {
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", name, err)
	}
	l.logger.InfoContext(ctx, "event", "event", name, "body", string(body))
	return nil
}
