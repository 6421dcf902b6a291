// The hold on a removal by e-mail code in DynamoDB: the profile and the
// number's claim carry unbind_at; every condition reads it against the
// writer's now, so the removal takes effect at that instant without a
// sweeper (SPEC §4.3).

package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// ScheduleUnbind implements binding.Store with one TransactWriteItems:
// consume the verification, mark the profile (only at the version the
// request saw, still holding the number) and the claim (only if ours) with
// unbind_at, put the hold's HELD item (new) and add a history entry.
func (d *Dynamo) ScheduleUnbind(ctx context.Context, h binding.Hold) error {
	v := h.Verification
	account := v.AccountID
	ownAttrs, rest := ownResets(h.Reset)
	consume, err := consumeUpdate(d.table, v, h.Now, true, ownAttrs)
	if err != nil {
		return err
	}
	at := formatTime(h.UnbindAt)
	profile, err := expression.NewBuilder().
		WithUpdate(setEmail(expression.Set(expression.Name(attrUnbindAt), expression.Value(at)).
			Set(expression.Name(attrUnbindID), expression.Value(h.UnbindID)).
			Set(expression.Name(attrVersion), expression.Value(v.ProfileVersion+1)).
			Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(h.Now))), h.Email)).
		WithCondition(profileCondition(v.ProfileVersion).
			And(expression.Name(attrPhoneHMAC).Equal(expression.Value(v.Destination.HMAC)))).
		Build()
	if err != nil {
		return fmt.Errorf("build hold: %w", err)
	}
	claim, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrUnbindAt), expression.Value(at))).
		WithCondition(expression.Name(attrAccountID).Equal(expression.Value(account))).
		Build()
	if err != nil {
		return fmt.Errorf("build claim hold: %w", err)
	}
	history, err := marshalHistory(account, h.History)
	if err != nil {
		return err
	}
	held, err := attributevalue.MarshalMap(heldItem{
		PK: accountPK(account), SK: heldSK(h.UnbindID), Type: "held", AccountID: account,
		UnbindID: h.UnbindID, UnbindAt: at, HoldDue: holdDue,
	})
	if err != nil {
		return fmt.Errorf("marshal held: %w", err)
	}
	var t txn
	t.add(itemConsume, consume)
	t.add(itemProfile, update(d.table, key(accountPK(account), skProfile), profile))
	t.add(itemHeld, putNew(d.table, held))
	t.add(itemClaim, update(d.table, key(claimPK(v.Destination.HMAC), skClaim), claim))
	t.add(itemHistory, putNew(d.table, history))
	// The claim moved (another account's now): stale, as the profile.
	return d.commit(ctx, &t, rest, binding.ErrStale)
}

// CancelUnbind implements binding.Store with one TransactWriteItems: the
// profile loses unbind_at only at the version read and while the hold is
// not yet due, the claim loses it only if ours, the HELD item goes (the
// hold is never told of) and a history entry is added. The profile's
// hold_due is removed too: holds scheduled before HELD items carried it.
func (d *Dynamo) CancelUnbind(ctx context.Context, c binding.HoldCancel) error {
	p := c.Profile
	profile, err := expression.NewBuilder().
		WithUpdate(expression.Remove(expression.Name(attrUnbindAt)).
			Remove(expression.Name(attrUnbindID)).
			Remove(expression.Name(attrHoldDue)).
			Set(expression.Name(attrVersion), expression.Value(p.Version+1)).
			Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(c.Now)))).
		WithCondition(profileCondition(p.Version).
			And(expression.Name(attrUnbindAt).GreaterThan(expression.Value(formatTime(c.Now))))).
		Build()
	if err != nil {
		return fmt.Errorf("build cancel: %w", err)
	}
	claim, err := expression.NewBuilder().
		WithUpdate(expression.Remove(expression.Name(attrUnbindAt))).
		WithCondition(expression.Name(attrAccountID).Equal(expression.Value(p.AccountID))).
		Build()
	if err != nil {
		return fmt.Errorf("build claim cancel: %w", err)
	}
	history, err := marshalHistory(p.AccountID, c.History)
	if err != nil {
		return err
	}
	var t txn
	t.add(itemProfile, update(d.table, key(accountPK(p.AccountID), skProfile), profile))
	t.add(itemClaim, update(d.table, key(claimPK(p.Phone.HMAC), skClaim), claim))
	t.add(itemHistory, putNew(d.table, history))
	if p.UnbindID != "" {
		t.add(itemHeld, deleteHeld(d.table, p.AccountID, p.UnbindID))
	}
	reasons, err := d.transact(ctx, t.items)
	if reasons != nil && (t.refused(reasons, itemProfile) || t.refused(reasons, itemClaim)) {
		return binding.ErrStale
	}
	return err
}

// LapseUnbind implements binding.Store: one TransactWriteItems writes the
// profile without a number (only at the version read and only once its
// unbind_at is not after now), voids any request in flight, adds the
// history entry and gives the hold's HELD item the notice (an Update
// without condition: a hold scheduled before HELD items gets one here, so
// the job tells it too); then one conditional DeleteItem releases the claim if it
// is still ours with the same unbind_at. Another account may have claimed
// the number meanwhile (a due claim is free), which the condition leaves
// alone; a release that never happens leaves only a claim every claimant
// treats as free.
func (d *Dynamo) LapseUnbind(ctx context.Context, u binding.Unbinding) error {
	p := u.Profile
	profile, err := attributevalue.MarshalMap(newProfileItem(binding.Profile{AccountID: p.AccountID, Version: p.Version + 1}, u.Now))
	if err != nil {
		return fmt.Errorf("marshal profile: %w", err)
	}
	atVersion, err := expression.NewBuilder().WithCondition(profileCondition(p.Version).And(
		expression.Name(attrUnbindAt).LessThanEqual(expression.Value(formatTime(u.Now))))).Build()
	if err != nil {
		return fmt.Errorf("build profile condition: %w", err)
	}
	history, err := marshalHistory(p.AccountID, u.History)
	if err != nil {
		return err
	}
	void, err := voidUpdate(d.table, p.AccountID, u.Now, "", nil)
	if err != nil {
		return err
	}
	notice, err := noticeUpdate(p, u.Now)
	if err != nil {
		return err
	}
	var t txn
	t.add(itemProfile, putIf(d.table, profile, atVersion))
	t.add(itemHistory, putNew(d.table, history))
	t.add(itemVoid, types.TransactWriteItem{Update: void})
	t.add(itemHeld, update(d.table, key(accountPK(p.AccountID), heldSK(p.UnbindID)), notice))
	reasons, err := d.transact(ctx, t.items)
	switch {
	case reasons == nil && err != nil:
		return err
	case reasons != nil && (t.refused(reasons, itemProfile) || t.refused(reasons, itemHistory)):
		return binding.ErrStale
	case err != nil:
		return err
	}
	release, err := expression.NewBuilder().WithCondition(
		expression.Name(attrAccountID).Equal(expression.Value(p.AccountID)).
			And(expression.Name(attrUnbindAt).Equal(expression.Value(formatTime(p.UnbindAt))))).Build()
	if err != nil {
		return fmt.Errorf("build release condition: %w", err)
	}
	_, err = d.db.DeleteItem(ctx, conditionalDelete(d.table, key(claimPK(p.Phone.HMAC), skClaim), release))
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("%w: release claim: %w", binding.ErrClaimKept, err)
	}
	if err != nil {
		// Not this account's claim any more: whose, then? An item still
		// there names another account (a bind after effective_at).
		out, gerr := d.db.GetItem(ctx, consistentGet(d.table, key(claimPK(p.Phone.HMAC), skClaim)))
		if gerr == nil {
			if owner, ok := out.Item[attrAccountID].(*types.AttributeValueMemberS); ok && owner.Value != p.AccountID {
				return binding.ErrNumberRebound
			}
		}
	}
	return nil
}
