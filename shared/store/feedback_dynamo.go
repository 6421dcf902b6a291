package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/feedback"
)

var _ feedback.Store = (*Dynamo)(nil)

// CreateTicket implements feedback.Store with one TransactWriteItems: the
// ticket in its author's partition and the ref item that reserves its id
// (each only if absent), and one more ticket on the author's daily counter
// (only below its ceiling).
func (d *Dynamo) CreateTicket(ctx context.Context, c feedback.Creation) error {
	t := c.Ticket
	ticket, err := attributevalue.MarshalMap(newTicketItem(t))
	if err != nil {
		return fmt.Errorf("marshal ticket: %w", err)
	}
	ref, err := attributevalue.MarshalMap(newTicketRefItem(t))
	if err != nil {
		return fmt.Errorf("marshal ticket ref: %w", err)
	}
	upd, err := counterUpdate(feedbackCounter(t.AccountID, c.Limit), 1)
	if err != nil {
		return err
	}
	counter := feedbackCounter(t.AccountID, c.Limit)
	var tx txn
	tx.add(itemTicket, putNew(d.table, ticket))
	tx.add(itemTicketRef, putNew(d.table, ref))
	tx.add(itemCounter, update(d.table, key(counterPK(counter), counterSK(counter)), upd))
	reasons, err := d.transact(ctx, tx.items)
	switch {
	case reasons == nil:
		return err
	case tx.refused(reasons, itemTicket), tx.refused(reasons, itemTicketRef):
		return feedback.ErrDuplicateID
	case tx.refused(reasons, itemCounter):
		return feedback.ErrDailyLimit
	}
	return err
}

// ticketRef reads the item that says whose ticket an id is.
func (d *Dynamo) ticketRef(ctx context.Context, ticketID string) (ticketRefItem, error) {
	out, err := d.db.GetItem(ctx, consistentGet(d.table, key(ticketRefPK(ticketID), skTicketRef)))
	if err != nil {
		return ticketRefItem{}, fmt.Errorf("get ticket ref: %w", err)
	}
	if len(out.Item) == 0 {
		return ticketRefItem{}, feedback.ErrTicketNotFound
	}
	ref, err := decode[ticketRefItem](out.Item, "ticket ref")
	if err != nil {
		return ticketRefItem{}, err
	}
	return *ref, nil
}

// ticketAt reads a ticket under accountID's partition key.
func (d *Dynamo) ticketAt(ctx context.Context, accountID, sk string) (feedback.Ticket, error) {
	out, err := d.db.GetItem(ctx, consistentGet(d.table, key(ticketsPK(accountID), sk)))
	if err != nil {
		return feedback.Ticket{}, fmt.Errorf("get ticket: %w", err)
	}
	if len(out.Item) == 0 {
		return feedback.Ticket{}, feedback.ErrTicketNotFound
	}
	it, err := decode[ticketItem](out.Item, "ticket")
	if err != nil {
		return feedback.Ticket{}, err
	}
	return it.ticket(), nil
}

// Ticket implements feedback.Store with two consistent GetItems: the ref
// item finds the ticket's sort key, and the ticket is then read under the
// caller's own partition key, so another account's ticket cannot come back
// even if the ref said otherwise.
func (d *Dynamo) Ticket(ctx context.Context, accountID, ticketID string) (feedback.Ticket, error) {
	ref, err := d.ticketRef(ctx, ticketID)
	if err != nil {
		return feedback.Ticket{}, err
	}
	if ref.AccountID != accountID {
		return feedback.Ticket{}, feedback.ErrTicketNotFound
	}
	return d.ticketAt(ctx, accountID, ref.TicketSK)
}

// TicketByID implements feedback.Store: the ref item, then the ticket.
func (d *Dynamo) TicketByID(ctx context.Context, ticketID string) (feedback.Ticket, error) {
	ref, err := d.ticketRef(ctx, ticketID)
	if err != nil {
		return feedback.Ticket{}, err
	}
	return d.ticketAt(ctx, ref.AccountID, ref.TicketSK)
}

// Tickets implements feedback.Store with one Query on the author's
// partition, newest first. It asks for one ticket more than the page holds,
// so a Position comes back only when another page really follows.
func (d *Dynamo) Tickets(ctx context.Context, accountID string, after *feedback.Position, limit int) ([]feedback.Ticket, *feedback.Position, error) {
	if limit <= 0 {
		return nil, nil, fmt.Errorf("list tickets: limit %d", limit)
	}
	kc := expression.Key(attrPK).Equal(expression.Value(ticketsPK(accountID))).
		And(expression.Key(attrSK).BeginsWith(skFeedbackFrom))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, nil, fmt.Errorf("build tickets query: %w", err)
	}
	var start map[string]types.AttributeValue
	if after != nil {
		start = key(ticketsPK(accountID), feedbackSK(after.CreatedAt, after.ID))
	}
	out, err := d.db.Query(ctx, pageNewestFirst(consistentQuery(d.table, expr), limit, start))
	if err != nil {
		return nil, nil, fmt.Errorf("query tickets: %w", err)
	}
	tickets := make([]feedback.Ticket, 0, min(len(out.Items), limit))
	for _, item := range out.Items {
		if len(tickets) == limit {
			break
		}
		var it ticketItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, nil, fmt.Errorf("read ticket: %w", err)
		}
		tickets = append(tickets, it.ticket())
	}
	// More follows when the extra ticket came back, or when DynamoDB
	// stopped early (its 1 MB page) with tickets left to read.
	if len(tickets) > 0 && (len(out.Items) > limit || len(out.LastEvaluatedKey) > 0) {
		next := feedback.PositionOf(tickets[len(tickets)-1])
		return tickets, &next, nil
	}
	return tickets, nil, nil
}

// UpdateTicket implements feedback.Store with one conditional UpdateItem:
// the change holds only while the ticket is still at the status it was
// judged on, and the ticket comes back as written.
func (d *Dynamo) UpdateTicket(ctx context.Context, c feedback.StatusChange) (feedback.Ticket, error) {
	t := c.Ticket
	status := expression.Name(attrTicketStatus)
	upd := expression.Set(status, expression.Value(string(c.To))).
		Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(c.Now))).
		Set(expression.Name(attrUpdatedBy), expression.Value(c.Operator))
	if c.To == feedback.StatusAnswered {
		upd = upd.Set(expression.Name(attrAnswer), expression.Value(c.Answer)).
			Set(expression.Name(attrAnsweredBy), expression.Value(c.Operator)).
			Set(expression.Name(attrAnsweredAt), expression.Value(formatTime(c.Now)))
	}
	cond := expression.AttributeExists(expression.Name(attrPK)).
		And(status.Equal(expression.Value(string(t.Status))))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return feedback.Ticket{}, fmt.Errorf("build ticket update: %w", err)
	}
	it, err := updated[ticketItem](ctx, d.db, conditionalUpdate(d.table, key(ticketsPK(t.AccountID), feedbackSK(t.CreatedAt, t.ID)), expr), "ticket")
	if isConditionFailed(err) {
		return feedback.Ticket{}, feedback.ErrStale
	}
	if err != nil {
		return feedback.Ticket{}, fmt.Errorf("update ticket: %w", err)
	}
	return it.ticket(), nil
}
