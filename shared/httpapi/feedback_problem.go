package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gosuslugi/phonebind/shared/feedback"
)

// feedbackFault is classify's part for the feedback service's outcomes:
// what each means to a client. ok is false for an error it does not know.
func feedbackFault(err error) (fault, bool) {
	var (
		field   *feedback.FieldError
		contact *feedback.ContactError
		limited *feedback.RateLimitError
	)
	switch {
	case errors.Is(err, feedback.ErrTicketNotFound):
		return fault{code: codeTicketNotFound}, true
	case errors.Is(err, feedback.ErrInvalidCursor):
		f := fault{code: codeInvalidRequest, detail: detailInvalidCursor}
		f.body.Field = "cursor"
		return f, true
	case errors.As(err, &field):
		f := fault{code: codeInvalidRequest, status: http.StatusUnprocessableEntity}
		f.body.Field, f.body.Reason = field.Field, field.Reason
		switch field.Reason {
		case feedback.ReasonUnsupported:
			f.detail, f.args = detailOneOf, []any{field.Field, strings.Join(field.Allowed, ", ")}
		case feedback.ReasonTooLong:
			f.detail, f.args = detailTooLong, []any{field.Field, field.Max}
		case feedback.ReasonNotAllowed:
			f.detail, f.args = detailNotAllowed, []any{field.Field}
		default:
			f.detail, f.args = detailRequired, []any{field.Field}
		}
		return f, true
	case errors.As(err, &contact):
		// Reasons of a number read as the phone texts say them; an
		// address and letters get the contact's own.
		detail := "invalid_contact." + contact.Reason
		if _, own := details[detail]; !own {
			detail = codeInvalidPhone + "." + contact.Reason
		}
		f := fault{code: codeInvalidContact, detail: detail}
		f.body.Field, f.body.Reason = "contact", contact.Reason
		return f, true
	case errors.As(err, &limited):
		secs := wholeSeconds(limited.RetryAfter)
		f := fault{code: codeRateLimited, detail: detailFeedbackDay, args: []any{limited.Max, limited.Until}, retryAfter: secs}
		f.body.RetryAfter, f.body.Limit = secs, feedback.LimitDaily
		return f, true
	}
	return fault{}, false
}
