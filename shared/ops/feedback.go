package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/shared/feedback"
)

// TicketUpdater moves a support ticket on an operator's word.
type TicketUpdater interface {
	UpdateTicket(ctx context.Context, u feedback.Update) (feedback.Change, error)
}

// updateTicketEvent is {"action":"update_ticket","ticket_id","status","answer","operator"}.
type updateTicketEvent struct {
	Action   string `json:"action"`
	TicketID string `json:"ticket_id"`
	Status   string `json:"status"`
	Answer   string `json:"answer"`
	Operator string `json:"operator"`
}

func (e updateTicketEvent) required() [][2]string {
	return [][2]string{{"ticket_id", e.TicketID}, {"status", e.Status}, {"operator", e.Operator}}
}

// UpdateTicketResult is what the operator reads back. It names no message
// or contact: the invocation result may end up in a log.
type UpdateTicketResult struct {
	TicketID       string `json:"ticket_id"`
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status"`
	Changed        bool   `json:"changed"`
	UpdatedAt      string `json:"updated_at"`
	UpdatedBy      string `json:"updated_by,omitempty"`
	Message        string `json:"message"`
}

// UpdateTicket is the feedback function's update_ticket action (SPEC §4.5):
// ticket_id, status and operator are required, answer is required for (and
// only allowed with) answered, and a ticket only moves forward
// (new → in_progress → answered → closed, steps may be skipped). The same
// event twice changes nothing the second time and says so.
func UpdateTicket(svc TicketUpdater, logger *slog.Logger) Action {
	logger = orDiscard(logger)
	return actionOf(func(ctx context.Context, ev updateTicketEvent) (any, error) {
		ch, err := svc.UpdateTicket(ctx, feedback.Update{
			TicketID: ev.TicketID,
			Status:   feedback.Status(strings.TrimSpace(ev.Status)),
			Answer:   ev.Answer,
			Operator: ev.Operator,
		})
		if err != nil {
			return nil, ticketError(err)
		}
		t := ch.Ticket
		res := UpdateTicketResult{
			TicketID:       t.ID,
			Status:         string(t.Status),
			PreviousStatus: string(ch.Previous),
			Changed:        !ch.Unchanged,
			UpdatedAt:      t.UpdatedAt.UTC().Format(time.RFC3339),
			UpdatedBy:      t.UpdatedBy,
		}
		if ch.Unchanged {
			res.Message = "the ticket is already " + string(t.Status) + "; nothing changed"
			return res, nil
		}
		res.Message = fmt.Sprintf("the ticket moved from %s to %s", ch.Previous, t.Status)
		logger.InfoContext(ctx, "ticket updated", "ticket_id", t.ID, "from", string(ch.Previous), "to", string(t.Status), "operator_claimed", t.UpdatedBy)
		return res, nil
	})
}

// ticketError turns the service's refusals into what the operator reads;
// anything else stays an internal failure.
func ticketError(err error) error {
	var (
		field      *feedback.FieldError
		transition *feedback.TransitionError
	)
	switch {
	case errors.Is(err, feedback.ErrTicketNotFound):
		return &Error{Code: "ticket_not_found", Message: "no ticket has this id", Field: "ticket_id"}
	case errors.Is(err, feedback.ErrStale):
		return &Error{Code: "conflict", Message: "the ticket is being changed by someone else; read it and try again", Field: "status"}
	case errors.As(err, &transition):
		allowed := "none: a closed ticket never moves"
		if next := feedback.Next(transition.From); len(next) > 0 {
			names := make([]string, len(next))
			for i, s := range next {
				names[i] = string(s)
			}
			allowed = strings.Join(names, ", ")
		}
		msg := fmt.Sprintf("a ticket cannot move from %s to %s; from %s it may go to: %s", transition.From, transition.To, transition.From, allowed)
		if transition.From == transition.To {
			msg = fmt.Sprintf("the ticket is already %s with another answer; an answer is not edited. From %s it may go to: %s", transition.From, transition.From, allowed)
		}
		return &Error{Code: "transition_not_allowed", Message: msg, Field: "status"}
	case errors.As(err, &field):
		var msg string
		switch field.Reason {
		case feedback.ReasonUnsupported:
			msg = field.Field + " must be one of: " + strings.Join(field.Allowed, ", ")
		case feedback.ReasonTooLong:
			msg = fmt.Sprintf("%s is longer than %d characters", field.Field, field.Max)
		case feedback.ReasonNotAllowed:
			msg = field.Field + " is given only with status answered"
		default:
			msg = field.Field + " is required"
			if field.Field == "answer" {
				msg = "answer is required for status answered"
			}
		}
		return &Error{Code: "invalid_event", Message: msg, Field: field.Field}
	}
	return err
}
