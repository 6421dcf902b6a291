// The personal-data report and erasure (SPEC §4.9) on the single table.

package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/privacy"
)

var _ privacy.Store = (*Dynamo)(nil)

// What an erasure finds and where (every key an account's data is under):
//
//	ACCOUNT#<account>            every item: profile, settings, verification,
//	                             history, and what later features keep there
//	TICKETS#<account>            the tickets: stripped, moved to
//	                             TICKETS#erased#<random>, their TICKET#<id>
//	                             ref pointed there, in one transaction each
//	IDEMPOTENCY#<account>        the stored answers
//	LIMIT#feedback_day#<account> the daily ticket counter
//	LIMIT#phone#<number HMAC>    each number's counters, for every number
//	                             the partition names (the profile's, the
//	                             verification's destination and previous
//	                             number, and its numbers_<day> sets: every
//	                             number asked a code for while the
//	                             counters live)
//	PHONE#<number HMAC>          each claim this account holds
//
// The account partition goes last and its profile very last, in one
// transaction with the release of its number's claim: until then the
// partition still names every number, so a rerun after a failure anywhere
// finds what is left. The number-range, source-address and global counters
// are keyed by neither the account nor one of its numbers and stay until
// their TTL.

// queryAll reads a whole partition, page by page, in sort-key order.
func (d *Dynamo) queryAll(ctx context.Context, pk string) ([]map[string]types.AttributeValue, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(pk))).Build()
	if err != nil {
		return nil, fmt.Errorf("build partition query: %w", err)
	}
	items, err := allPages(ctx, d.db, consistentQuery(d.table, expr))
	if err != nil {
		return nil, fmt.Errorf("query partition: %w", err)
	}
	return items, nil
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// Held implements privacy.Store: the account's partition in one paged
// Query, and its tickets page by page.
func (d *Dynamo) Held(ctx context.Context, accountID string) (privacy.Held, error) {
	items, err := d.queryAll(ctx, accountPK(accountID))
	if err != nil {
		return privacy.Held{}, err
	}
	a, err := readAccountItems(items)
	if err != nil {
		return privacy.Held{}, err
	}
	held := privacy.Held{Profile: a.profileOf(accountID), Verification: a.liveVerification(), History: []binding.HistoryEntry{}}
	held.Settings, _ = a.settingsPatch()
	// Ascending sort keys: read backwards, newest first.
	for _, it := range slices.Backward(a.history) {
		held.History = append(held.History, it.entry())
	}
	for _, it := range slices.Backward(a.accessLog) {
		held.AccessLog = append(held.AccessLog, it.entry())
	}
	for _, it := range a.requests {
		held.AccessRequests = append(held.AccessRequests, it.request())
	}
	newestFirst(held.AccessRequests)
	held.Tickets, err = allTickets(ctx, d, accountID)
	if err != nil {
		return privacy.Held{}, err
	}
	return held, nil
}

// allTickets lists every ticket of an account, newest first.
func allTickets(ctx context.Context, st feedback.Store, accountID string) ([]feedback.Ticket, error) {
	out := []feedback.Ticket{}
	var after *feedback.Position
	for {
		page, next, err := st.Tickets(ctx, accountID, after, 100)
		if err != nil {
			return nil, fmt.Errorf("list tickets: %w", err)
		}
		out = append(out, page...)
		if next == nil {
			return out, nil
		}
		after = next
	}
}

// numberAttrs are the attributes of an account's items that hold the HMAC
// of one of its numbers.
var numberAttrs = []string{attrPhoneHMAC, attrDestinationHMAC, attrPreviousHMAC}

// erasePasses bounds the passes of an erasure over the account's
// partition: a write racing it (a first bind's confirm, a read's log
// entry) puts items after a pass read the partition, and the next pass
// finds them; one that keeps doing so fails the erasure, to be run again.
const erasePasses = 3

// Erase implements privacy.Store (the layout comment above says what goes
// in which order). It ends only when the account's partition is read
// empty after a pass: items put meanwhile (a profile with its claim
// included) go in the next pass, and an erasure whose partition is still
// not empty after erasePasses fails, saying to run it again.
func (d *Dynamo) Erase(ctx context.Context, accountID string, _ time.Time) (privacy.Erased, error) {
	var e privacy.Erased
	items, err := d.queryAll(ctx, accountPK(accountID))
	if err != nil {
		return e, err
	}
	for pass := 1; ; pass++ {
		if err := d.erasePass(ctx, accountID, items, &e); err != nil {
			return e, err
		}
		if items, err = d.queryAll(ctx, accountPK(accountID)); err != nil {
			return e, err
		}
		if len(items) == 0 {
			return e, nil
		}
		if pass == erasePasses {
			return e, fmt.Errorf("erase: %d items were put in the account's partition during the erasure (a bind or a read racing it); run it again", len(items))
		}
	}
}

// erasePass erases what one read of the account's partition found, and
// what is keyed by the account or by a number its items name, adding
// what it deleted to e.
func (d *Dynamo) erasePass(ctx context.Context, accountID string, items []map[string]types.AttributeValue, e *privacy.Erased) error {
	var profile map[string]types.AttributeValue
	numbers := map[string]bool{}
	for _, item := range items {
		for _, a := range numberAttrs {
			if h := stringAttr(item, a); h != "" {
				numbers[h] = true
			}
		}
		for name, av := range item {
			if set, ok := av.(*types.AttributeValueMemberSS); ok && strings.HasPrefix(name, numbersAttrPrefix) {
				for _, h := range set.Value {
					numbers[h] = true
				}
			}
		}
		if stringAttr(item, attrSK) == skProfile {
			profile = item
		}
	}
	bound := stringAttr(profile, attrPhoneHMAC)

	tickets, err := d.stripTickets(ctx, accountID)
	e.Tickets += tickets
	if err != nil {
		return err
	}
	idempotency, err := d.deleteAll(ctx, idempotencyPK(accountID))
	e.Idempotency += idempotency
	if err != nil {
		return err
	}
	counterPartitions := []string{CounterPrefix(feedback.LimitDaily) + accountID}
	for h := range numbers {
		counterPartitions = append(counterPartitions, phoneCountersPK(h))
	}
	for _, pk := range counterPartitions {
		n, err := d.deleteAll(ctx, pk)
		if err != nil {
			return err
		}
		e.Counters += n
	}
	for h := range numbers {
		if h == bound {
			continue // released with the profile, below
		}
		released, err := d.releaseClaim(ctx, accountID, h)
		if err != nil {
			return err
		}
		if released {
			e.Claims++
		}
	}
	for _, item := range items {
		if stringAttr(item, attrSK) == skProfile {
			continue
		}
		gone, err := d.deleteItem(ctx, item)
		if err != nil {
			return err
		}
		if gone {
			countKind(e, stringAttr(item, attrSK), stringAttr(item, attrType))
		}
	}
	if profile != nil {
		claims, err := d.deleteProfile(ctx, accountID, profile)
		if err != nil {
			return err
		}
		e.Profile++
		e.Claims += claims
	}
	return nil
}

// countKind counts one deleted item of the account's partition.
func countKind(e *privacy.Erased, sk, typ string) {
	switch {
	case sk == skVerification:
		e.Verification++
	case sk == skSettings:
		e.Settings++
	case strings.HasPrefix(sk, skHistoryFrom):
		e.History++
	default:
		if typ == "" {
			typ = "unknown"
		}
		if e.Other == nil {
			e.Other = map[string]int{}
		}
		e.Other[typ]++
	}
}

// deleteItem deletes one item by its keys and reports whether it was there.
func (d *Dynamo) deleteItem(ctx context.Context, item map[string]types.AttributeValue) (bool, error) {
	in := deleteByKey(d.table, map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]})
	in.ReturnValues = types.ReturnValueAllOld
	out, err := d.db.DeleteItem(ctx, in)
	if err != nil {
		return false, fmt.Errorf("delete %s: %w", stringAttr(item, attrSK), err)
	}
	return len(out.Attributes) > 0, nil
}

// deleteAll deletes every item of a partition and says how many were there.
func (d *Dynamo) deleteAll(ctx context.Context, pk string) (int, error) {
	items, err := d.queryAll(ctx, pk)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, item := range items {
		gone, err := d.deleteItem(ctx, item)
		if err != nil {
			return n, err
		}
		if gone {
			n++
		}
	}
	return n, nil
}

// releaseClaim deletes a number's claim only if accountID holds it.
func (d *Dynamo) releaseClaim(ctx context.Context, accountID, phoneHMAC string) (bool, error) {
	ours, err := expression.NewBuilder().WithCondition(expression.Name(attrAccountID).Equal(expression.Value(accountID))).Build()
	if err != nil {
		return false, fmt.Errorf("build release condition: %w", err)
	}
	_, err = d.db.DeleteItem(ctx, conditionalDelete(d.table, key(claimPK(phoneHMAC), skClaim), ours))
	if isConditionFailed(err) {
		return false, nil // free, or another account's
	}
	if err != nil {
		return false, fmt.Errorf("release claim: %w", err)
	}
	return true, nil
}

// deleteProfile deletes the profile as read (at its version) and, in the
// same transaction, its number's claim if this account holds it; when the
// claim is not ours, the profile alone. It says how many claims went.
func (d *Dynamo) deleteProfile(ctx context.Context, accountID string, profile map[string]types.AttributeValue) (int, error) {
	version, _ := intAttr(profile, attrVersion)
	atVersion, err := expression.NewBuilder().WithCondition(expression.Name(attrVersion).Equal(expression.Value(version))).Build()
	if err != nil {
		return 0, fmt.Errorf("build profile condition: %w", err)
	}
	del := types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 &d.table,
		Key:                       key(accountPK(accountID), skProfile),
		ConditionExpression:       atVersion.Condition(),
		ExpressionAttributeNames:  atVersion.Names(),
		ExpressionAttributeValues: atVersion.Values(),
	}}
	var t txn
	t.add(itemProfile, del)
	if h := stringAttr(profile, attrPhoneHMAC); h != "" {
		ours, err := expression.NewBuilder().WithCondition(expression.Name(attrAccountID).Equal(expression.Value(accountID))).Build()
		if err != nil {
			return 0, fmt.Errorf("build release condition: %w", err)
		}
		t.add(itemRelease, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 &d.table,
			Key:                       key(claimPK(h), skClaim),
			ConditionExpression:       ours.Condition(),
			ExpressionAttributeNames:  ours.Names(),
			ExpressionAttributeValues: ours.Values(),
		}})
	}
	reasons, err := d.transact(ctx, t.items)
	switch {
	case err == nil:
		return len(t.items) - 1, nil
	case reasons == nil:
		return 0, fmt.Errorf("delete profile: %w", err)
	case t.refused(reasons, itemProfile):
		return 0, errors.New("delete profile: the profile changed during the erasure; run it again")
	}
	// The claim is not ours (free, or another account's): the profile alone.
	t = txn{}
	t.add(itemProfile, del)
	if reasons, err := d.transact(ctx, t.items); err != nil {
		if reasons != nil {
			return 0, errors.New("delete profile: the profile changed during the erasure; run it again")
		}
		return 0, fmt.Errorf("delete profile: %w", err)
	}
	return 0, nil
}

// stripTickets moves each of the account's tickets, stripped
// (privacy.Stripped), to a partition of its own that names no account, and
// points its ref there, one transaction per ticket: the stripped copy put
// (only if new), the original deleted (only at the status read), the ref
// repointed (only while it names this account). A ticket answered
// meanwhile fails its transaction and is read again.
func (d *Dynamo) stripTickets(ctx context.Context, accountID string) (int, error) {
	n := 0
	for try := 0; ; try++ {
		tickets, err := allTickets(ctx, d, accountID)
		if err != nil || len(tickets) == 0 {
			return n, err
		}
		raced := false
		for _, tk := range tickets {
			moved, err := d.stripTicket(ctx, accountID, tk)
			if err != nil {
				return n, err
			}
			if moved {
				n++
			} else {
				raced = true
			}
		}
		if !raced {
			return n, nil
		}
		if try == 2 {
			return n, errors.New("strip tickets: tickets kept changing during the erasure; run it again")
		}
	}
}

func (d *Dynamo) stripTicket(ctx context.Context, accountID string, tk feedback.Ticket) (bool, error) {
	suffix, err := randomHex(12)
	if err != nil {
		return false, err
	}
	owner := privacy.ErasedOwnerPrefix + suffix
	kept, err := attributevalue.MarshalMap(newTicketItem(privacy.Stripped(tk, owner)))
	if err != nil {
		return false, fmt.Errorf("marshal stripped ticket: %w", err)
	}
	// No account id, and no empty strings (the message, stripped) for
	// engines that refuse them.
	delete(kept, attrAccountID)
	for name := range kept {
		if stringAttr(kept, name) == "" {
			if _, ok := kept[name].(*types.AttributeValueMemberS); ok {
				delete(kept, name)
			}
		}
	}
	atStatus, err := expression.NewBuilder().WithCondition(
		expression.Name(attrTicketStatus).Equal(expression.Value(string(tk.Status))).
			And(expression.Name(attrUpdatedAt).Equal(expression.Value(formatTime(tk.UpdatedAt))))).Build()
	if err != nil {
		return false, fmt.Errorf("build ticket condition: %w", err)
	}
	repoint, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrAccountID), expression.Value(owner))).
		WithCondition(expression.Name(attrAccountID).Equal(expression.Value(accountID))).Build()
	if err != nil {
		return false, fmt.Errorf("build ticket ref update: %w", err)
	}
	var t txn
	t.add(itemTicket, putNew(d.table, kept))
	t.add(itemConsume, types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 &d.table,
		Key:                       key(ticketsPK(accountID), feedbackSK(tk.CreatedAt, tk.ID)),
		ConditionExpression:       atStatus.Condition(),
		ExpressionAttributeNames:  atStatus.Names(),
		ExpressionAttributeValues: atStatus.Values(),
	}})
	t.add(itemTicketRef, update(d.table, key(ticketRefPK(tk.ID), skTicketRef), repoint))
	reasons, err := d.transact(ctx, t.items)
	switch {
	case err == nil:
		return true, nil
	case reasons == nil:
		return false, fmt.Errorf("strip ticket %s: %w", tk.ID, err)
	case t.refused(reasons, itemTicketRef):
		return false, fmt.Errorf("strip ticket %s: its ref does not name the account", tk.ID)
	}
	return false, nil // changed since read: read again
}
