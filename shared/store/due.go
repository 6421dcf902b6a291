// The removals whose hold has run out, for the job that completes and
// tells of them (binding.Service.CompleteDueUnbinds): each hold has a
// HELD item, its outbox, from the schedule until it is told of (or
// cancelled, or ended by an SMS code), and a sparse index lists the items
// by unbind_at.

package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// DueUnbindsIndex is the global secondary index of the holds not yet told
// of: partition hold_due ("HOLD", on every HELD item; on profiles only of
// holds scheduled before HELD items), sort unbind_at. Keys only: the sort
// key names the hold, and the job reads the profile and the item itself.
const (
	DueUnbindsIndex = "HoldsDue"
	attrHoldDue     = "hold_due"
	holdDue         = "HOLD"
)

// heldItem is a held removal's outbox, pk ACCOUNT#<sub>, sk
// HELD#<unbind id>: put by ScheduleUnbind, filled with the notice by
// LapseUnbind (lapsed_at, the number and the address, sealed), taken by a
// teller until telling_until, deleted after the telling. It carries the
// index's hold_due and unbind_at all along.
type heldItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	Type         string `dynamodbav:"type"`
	AccountID    string `dynamodbav:"account_id"`
	UnbindID     string `dynamodbav:"unbind_id"`
	UnbindAt     string `dynamodbav:"unbind_at"`
	HoldDue      string `dynamodbav:"hold_due"`
	LapsedAt     string `dynamodbav:"lapsed_at,omitempty"`
	TellingUntil string `dynamodbav:"telling_until,omitempty"`
	PhoneHMAC    string `dynamodbav:"phone_hmac,omitempty"`
	PhoneKeyID   string `dynamodbav:"phone_key_id,omitempty"`
	PhoneCipher  string `dynamodbav:"phone_ciphertext,omitempty"`
	PhoneMasked  string `dynamodbav:"phone_masked,omitempty"`
	EmailHMAC    string `dynamodbav:"email_hmac,omitempty"`
	EmailKeyID   string `dynamodbav:"email_key_id,omitempty"`
	EmailCipher  string `dynamodbav:"email_ciphertext,omitempty"`
	EmailMasked  string `dynamodbav:"email_masked,omitempty"`
}

func (it heldItem) notice() binding.HoldNotice {
	return binding.HoldNotice{
		AccountID: it.AccountID, UnbindID: it.UnbindID, UnbindAt: parseTime(it.UnbindAt),
		Phone: binding.SealedPhone{HMAC: it.PhoneHMAC, KeyID: it.PhoneKeyID, Ciphertext: it.PhoneCipher, Masked: it.PhoneMasked},
		Email: binding.SealedEmail{HMAC: it.EmailHMAC, KeyID: it.EmailKeyID, Ciphertext: it.EmailCipher, Masked: it.EmailMasked},
	}
}

// Attributes of the HELD item the lapse and the teller write.
const (
	attrLapsedAt     = "lapsed_at"
	attrTellingUntil = "telling_until"
)

// noticeUpdate is the lapse's write of the HELD item of p's hold: what
// to tell, from the profile at the version the lapse is conditional on.
func noticeUpdate(p binding.Profile, now time.Time) (expression.Expression, error) {
	set := map[string]string{
		"type": "held", attrAccountID: p.AccountID, attrUnbindID: p.UnbindID,
		attrUnbindAt: formatTime(p.UnbindAt), attrHoldDue: holdDue, attrLapsedAt: formatTime(now),
		"phone_hmac": p.Phone.HMAC, "phone_key_id": p.Phone.KeyID, "phone_ciphertext": p.Phone.Ciphertext, "phone_masked": p.Phone.Masked,
		"email_hmac": p.Email.HMAC, "email_key_id": p.Email.KeyID, "email_ciphertext": p.Email.Ciphertext, "email_masked": p.Email.Masked,
	}
	var u expression.UpdateBuilder
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if set[name] != "" {
			u = u.Set(expression.Name(name), expression.Value(set[name]))
		}
	}
	e, err := expression.NewBuilder().WithUpdate(u).Build()
	if err != nil {
		return expression.Expression{}, fmt.Errorf("build notice: %w", err)
	}
	return e, nil
}

// deleteHeld is the transaction Delete of a hold's HELD item: the hold
// ends without a lapse, so nothing is to be told.
func deleteHeld(table, accountID, unbindID string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &table, Key: key(accountPK(accountID), heldSK(unbindID))}}
}

// DueUnbinds implements binding.Store with one Query of DueUnbindsIndex
// (more pages up to limit): hold_due = HOLD and unbind_at <= now, oldest
// first. The index is eventually consistent, so a hold told or cancelled
// a moment ago may still be listed; the profile and TakeNotice decide.
func (d *Dynamo) DueUnbinds(ctx context.Context, now time.Time, limit int) ([]binding.DueHold, error) {
	cond := expression.Key(attrHoldDue).Equal(expression.Value(holdDue)).
		And(expression.Key(attrUnbindAt).LessThanEqual(expression.Value(formatTime(now))))
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build due holds query: %w", err)
	}
	in := keyQuery(d.table, expr)
	in.IndexName = aws.String(DueUnbindsIndex)
	var out []binding.DueHold
	for len(out) < limit {
		in.Limit = aws.Int32(int32(limit - len(out)))
		page, err := d.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query due holds: %w", err)
		}
		for _, it := range page.Items {
			if h, ok := dueHoldOf(it); ok {
				out = append(out, h)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

// TakeNotice implements binding.Store with one conditional UpdateItem of
// the HELD item (lapsed, and not taken by another teller past now), then
// one consistent GetItem of the number's claim for Rebound.
func (d *Dynamo) TakeNotice(ctx context.Context, h binding.DueHold, now, until time.Time) (binding.HoldNotice, error) {
	free := expression.Or(expression.AttributeNotExists(expression.Name(attrTellingUntil)),
		expression.Name(attrTellingUntil).LessThan(expression.Value(formatTime(now))))
	e, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrTellingUntil), expression.Value(formatTime(until)))).
		WithCondition(expression.AttributeExists(expression.Name(attrLapsedAt)).And(free)).
		Build()
	if err != nil {
		return binding.HoldNotice{}, fmt.Errorf("build take notice: %w", err)
	}
	it, err := updated[heldItem](ctx, d.db, conditionalUpdate(d.table, key(accountPK(h.AccountID), heldSK(h.UnbindID)), e), "held")
	if isConditionFailed(err) {
		return binding.HoldNotice{}, binding.ErrStale
	}
	if err != nil {
		return binding.HoldNotice{}, fmt.Errorf("take notice: %w", err)
	}
	n := it.notice()
	claim, err := d.db.GetItem(ctx, consistentGet(d.table, key(claimPK(n.Phone.HMAC), skClaim)))
	if err != nil {
		return binding.HoldNotice{}, fmt.Errorf("read claim: %w", err)
	}
	if owner, ok := claim.Item[attrAccountID].(*types.AttributeValueMemberS); ok && owner.Value != h.AccountID {
		n.Rebound = true
	}
	return n, nil
}

// NoticeSent implements binding.Store with one DeleteItem, conditional on
// the telling taken until until.
func (d *Dynamo) NoticeSent(ctx context.Context, h binding.DueHold, until time.Time) error {
	e, err := expression.NewBuilder().WithCondition(
		expression.Name(attrTellingUntil).Equal(expression.Value(formatTime(until)))).Build()
	if err != nil {
		return fmt.Errorf("build notice sent: %w", err)
	}
	_, err = d.db.DeleteItem(ctx, conditionalDelete(d.table, key(accountPK(h.AccountID), heldSK(h.UnbindID)), e))
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("delete held: %w", err)
	}
	return nil
}

// heldNotice is the memory store's HELD item.
type heldNotice struct {
	notice  binding.HoldNotice
	lapsed  bool
	telling time.Time
}

// DueUnbinds implements binding.Store.
func (m *Memory) DueUnbinds(_ context.Context, now time.Time, limit int) ([]binding.DueHold, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []binding.HoldNotice
	for _, holds := range m.held {
		for _, h := range holds {
			if !h.notice.UnbindAt.After(now) {
				due = append(due, h.notice)
			}
		}
	}
	sort.Slice(due, func(i, j int) bool {
		a, b := due[i].UnbindAt, due[j].UnbindAt
		return a.Before(b) || a.Equal(b) && due[i].AccountID < due[j].AccountID
	})
	out := make([]binding.DueHold, 0, min(len(due), limit))
	for _, n := range due[:min(len(due), limit)] {
		out = append(out, binding.DueHold{AccountID: n.AccountID, UnbindID: n.UnbindID})
	}
	return out, nil
}

// TakeNotice implements binding.Store.
func (m *Memory) TakeNotice(_ context.Context, h binding.DueHold, now, until time.Time) (binding.HoldNotice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	held, ok := m.held[h.AccountID][h.UnbindID]
	if !ok || !held.lapsed || !held.telling.IsZero() && !held.telling.Before(now) {
		return binding.HoldNotice{}, binding.ErrStale
	}
	held.telling = until
	n := held.notice
	if cl, claimed := m.claims[n.Phone.HMAC]; claimed && cl.account != h.AccountID {
		n.Rebound = true
	}
	return n, nil
}

// NoticeSent implements binding.Store.
func (m *Memory) NoticeSent(_ context.Context, h binding.DueHold, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.held[h.AccountID][h.UnbindID]; ok && held.telling.Equal(until) {
		delete(m.held[h.AccountID], h.UnbindID)
	}
	return nil
}

// dueHoldOf reads the hold out of an index entry's keys: a HELD item, or
// a profile whose hold predates HELD items (no UnbindID).
func dueHoldOf(item map[string]types.AttributeValue) (binding.DueHold, bool) {
	pk, ok := item[attrPK].(*types.AttributeValueMemberS)
	sk, ok2 := item[attrSK].(*types.AttributeValueMemberS)
	if !ok || !ok2 {
		return binding.DueHold{}, false
	}
	account, ok := strings.CutPrefix(pk.Value, prefixAccount)
	if !ok {
		return binding.DueHold{}, false
	}
	id, _ := strings.CutPrefix(sk.Value, skHeldFrom)
	if sk.Value == skProfile {
		id = ""
	}
	return binding.DueHold{AccountID: account, UnbindID: id}, true
}
