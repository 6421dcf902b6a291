package store

import (
	"strings"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
)

// Support tickets in the single table. Their key builders live here rather
// than in keys.go so that this feature's storage reads in one place; the
// layout fits around the binding items:
//
//	ticket      TICKETS#<sub>              FEEDBACK#<created_at>#<ticket id>
//	ticket ref  TICKET#<ticket id>         TICKET
//	counter     LIMIT#feedback_day#<sub>   <window start>
//
// The tickets live in a partition of their author's own, so the author's
// list is one Query newest first, and reading a ticket for an account goes
// through that account's key: another account's ticket cannot come back by
// construction. That partition is not the account's ACCOUNT# one: the
// feedback function's IAM grant (dynamodb:LeadingKeys in template.yaml)
// covers TICKETS#, TICKET#, its counter and its idempotency records only,
// so it cannot write a profile, a verification, a history entry or a claim
// (and the binding Snapshot's Query never meets a ticket). The ref item
// reserves the id for good (attribute_not_exists) and says whose ticket it
// is, for the author's GET by id and for operators, who know only the id.
//
// The ticket item carries ticket_status and created_at, the keys of the
// TicketsByStatus index (template.yaml): a sparse index holding tickets
// only, which the console queries by status, oldest first.

// feedbackCounter is the daily limit as the counter items every limit uses.
func feedbackCounter(accountID string, l feedback.Limit) binding.Counter {
	return binding.Counter{Name: feedback.LimitDaily, Subject: accountID, WindowStart: l.WindowStart, Period: l.Period, Max: l.Max}
}

type ticketItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Type          string `dynamodbav:"type"`
	TicketID      string `dynamodbav:"ticket_id"`
	AccountID     string `dynamodbav:"account_id"`
	Category      string `dynamodbav:"category"`
	Message       string `dynamodbav:"message"`
	ContactKind   string `dynamodbav:"contact_kind,omitempty"`
	ContactHMAC   string `dynamodbav:"contact_hmac,omitempty"`
	ContactKeyID  string `dynamodbav:"contact_key_id,omitempty"`
	ContactCipher string `dynamodbav:"contact_ciphertext,omitempty"`
	ContactMasked string `dynamodbav:"contact_masked,omitempty"`
	Status        string `dynamodbav:"ticket_status"`
	Answer        string `dynamodbav:"answer,omitempty"`
	CreatedAt     string `dynamodbav:"created_at"`
	UpdatedAt     string `dynamodbav:"updated_at"`
	UpdatedBy     string `dynamodbav:"updated_by,omitempty"`
	AnsweredBy    string `dynamodbav:"answered_by,omitempty"`
	AnsweredAt    string `dynamodbav:"answered_at,omitempty"`
}

func newTicketItem(t feedback.Ticket) ticketItem {
	return ticketItem{
		PK:            ticketsPK(t.AccountID),
		SK:            feedbackSK(t.CreatedAt, t.ID),
		Type:          typeTicket,
		TicketID:      t.ID,
		AccountID:     t.AccountID,
		Category:      string(t.Category),
		Message:       t.Message,
		ContactKind:   string(t.Contact.Kind),
		ContactHMAC:   t.Contact.HMAC,
		ContactKeyID:  t.Contact.KeyID,
		ContactCipher: t.Contact.Ciphertext,
		ContactMasked: t.Contact.Masked,
		Status:        string(t.Status),
		Answer:        t.Answer,
		CreatedAt:     formatTime(t.CreatedAt),
		UpdatedAt:     formatTime(t.UpdatedAt),
		UpdatedBy:     t.UpdatedBy,
		AnsweredBy:    t.AnsweredBy,
		AnsweredAt:    formatTime(t.AnsweredAt),
	}
}

func (it ticketItem) ticket() feedback.Ticket {
	return feedback.Ticket{
		ID:        it.TicketID,
		AccountID: it.owner(),
		Category:  feedback.Category(it.Category),
		Message:   it.Message,
		Contact: feedback.Contact{
			Kind: feedback.ContactKind(it.ContactKind), HMAC: it.ContactHMAC,
			KeyID: it.ContactKeyID, Ciphertext: it.ContactCipher, Masked: it.ContactMasked,
		},
		Status:     feedback.Status(it.Status),
		Answer:     it.Answer,
		CreatedAt:  parseTime(it.CreatedAt),
		UpdatedAt:  parseTime(it.UpdatedAt),
		UpdatedBy:  it.UpdatedBy,
		AnsweredBy: it.AnsweredBy,
		AnsweredAt: parseTime(it.AnsweredAt),
	}
}

// owner is whose ticket it is: its account_id, or, for a ticket an
// erasure stripped (it has none), the owner its partition names
// (privacy.ErasedOwnerPrefix…), under which operators still read and
// update it.
func (it ticketItem) owner() string {
	if it.AccountID != "" {
		return it.AccountID
	}
	return strings.TrimPrefix(it.PK, prefixTickets)
}

// ticketRefItem reserves a ticket id and points at the ticket.
type ticketRefItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	TicketID  string `dynamodbav:"ticket_id"`
	AccountID string `dynamodbav:"account_id"`
	TicketSK  string `dynamodbav:"ticket_sk"`
}

func newTicketRefItem(t feedback.Ticket) ticketRefItem {
	return ticketRefItem{
		PK:        ticketRefPK(t.ID),
		SK:        skTicketRef,
		Type:      typeTicketRef,
		TicketID:  t.ID,
		AccountID: t.AccountID,
		TicketSK:  feedbackSK(t.CreatedAt, t.ID),
	}
}

// applyChange is c applied to the ticket as read, as both adapters write it.
func applyChange(c feedback.StatusChange) feedback.Ticket {
	t := c.Ticket
	t.Status = c.To
	t.UpdatedAt = c.Now
	t.UpdatedBy = c.Operator
	if c.To == feedback.StatusAnswered {
		t.Answer = c.Answer
		t.AnsweredBy = c.Operator
		t.AnsweredAt = c.Now
	}
	return t
}
