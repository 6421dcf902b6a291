package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// stateVoid marks a verification item whose request was taken back (its
// message could not be sent) or voided (a support unbind): it keeps the
// account's counters and nothing else, and reads as no verification.
const stateVoid = "void"

// optionalVerificationAttrs are the verification attributes a request may
// leave out; writing a new request removes the old one's.
var optionalVerificationAttrs = []string{
	attrDestinationHMAC, attrDestinationKeyID, attrDestinationCiphertext, attrDestinationMasked,
	attrCodeHMAC, attrReason, attrPreviousHMAC, attrPreviousKeyID, attrPreviousCiphertext,
	attrPreviousMasked, attrConsentVersion, attrSentToMasked, attrSequence, attrCompletedAt,
}

// staleCounterHours is how far back a new request clears the account's
// hourly code counters; older ones cannot be on an item that TTL keeps only
// a day past its last code.
const staleCounterHours = 48

// verificationWrite is the transaction entry that writes a new request over
// the account's verification item: an Update, not a Put, so the account's
// counters on the item (own, spent and checked here) survive it. It holds
// only while the previous request's resend delay is over and every counter
// is below its ceiling.
func verificationWrite(table string, v binding.Verification, now time.Time, own *limitItem, numbers []string) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(newVerificationItem(v))
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal verification: %w", err)
	}
	attrs := make([]string, 0, len(item))
	for name := range item {
		if name != attrPK && name != attrSK {
			attrs = append(attrs, name)
		}
	}
	sort.Strings(attrs)
	upd := expression.Set(expression.Name(attrs[0]), expression.Value(item[attrs[0]]))
	for _, name := range attrs[1:] {
		upd = upd.Set(expression.Name(name), expression.Value(item[name]))
	}
	for _, name := range optionalVerificationAttrs {
		if _, ok := item[name]; !ok {
			upd = upd.Remove(expression.Name(name))
		}
	}
	// Only when the previous request's resend delay is over (or there is
	// none, or it was taken back) and every counter is below its ceiling.
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrResendAfter).LessThanEqual(expression.Value(formatTime(now)))).
		Or(expression.Name(attrState).Equal(expression.Value(stateVoid)))
	keep := map[string]bool{}
	if own != nil {
		for i, c := range own.members() {
			attr := slotOf(c).attr
			keep[attr] = true
			cond = cond.And(below(attr, c.Max))
			if i < len(own.spend) {
				upd = upd.Add(expression.Name(attr), expression.Value(1))
			}
		}
		for _, c := range own.tally {
			attr := slotOf(c).attr
			keep[attr] = true
			upd = upd.Add(expression.Name(attr), expression.Value(1))
		}
	}
	// Counters of past windows go, so the item does not grow.
	hour := now.UTC().Truncate(time.Hour)
	for h := 1; h <= staleCounterHours; h++ {
		if attr := hourCodesAttr(hour.Add(-time.Duration(h) * time.Hour)); !keep[attr] {
			upd = upd.Remove(expression.Name(attr))
		}
	}
	for d := 1; d <= 2; d++ {
		if attr := dayFailuresAttr(utcDay(now).AddDate(0, 0, -d)); !keep[attr] {
			upd = upd.Remove(expression.Name(attr))
		}
	}
	// The HMACs of the destinations join the day's set of those this
	// account asked codes for: the numbers and addresses whose counters
	// (LIMIT#phone#<HMAC>, kept a day) it touched, which an erasure finds
	// here after the request that named them is overwritten. Sets past the
	// counters' life go.
	if len(numbers) > 0 {
		upd = upd.Add(expression.Name(numbersAttr(now)), expression.Value(&types.AttributeValueMemberSS{Value: numbers}))
	}
	for d := 3; d <= 4; d++ {
		upd = upd.Remove(expression.Name(numbersAttr(utcDay(now).AddDate(0, 0, -d))))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build verification write: %w", err)
	}
	return oldOnFailure(update(table, key(accountPK(v.AccountID), skVerification), expr)), nil
}

// startRefusal says why the verification write of a start was refused:
// the previous request's resend delay, or which of the account's counters
// is at its ceiling, from the item as it was (old; read again when the
// engine did not return it).
func (d *Dynamo) startRefusal(ctx context.Context, accountID string, now time.Time, own *limitItem, old map[string]types.AttributeValue) error {
	if len(old) == 0 {
		out, err := d.db.GetItem(ctx, consistentGet(d.table, key(accountPK(accountID), skVerification)))
		if err == nil {
			old = out.Item
		}
	}
	var it verificationItem
	_ = attributevalue.UnmarshalMap(old, &it)
	if it.State != stateVoid && it.ResendAfter > formatTime(now) {
		return &binding.CooldownError{ResendAfter: parseTime(it.ResendAfter)}
	}
	if own != nil {
		for _, c := range own.members() {
			if n, ok := intAttr(old, slotOf(c).attr); ok && n >= c.Max {
				return &binding.LimitError{Counter: c}
			}
		}
	}
	// The item changed again since it refused: say so as a short cooldown.
	return &binding.CooldownError{ResendAfter: parseTime(it.ResendAfter)}
}

// voidVerification is the update that takes a request back: its code and
// every number it held go, the account's counters stay (reset names those
// a success resets), and it no longer holds back the next request.
func voidUpdate(table, accountID string, now time.Time, onlyID string, reset []string) (*types.Update, error) {
	upd := expression.Set(expression.Name(attrState), expression.Value(stateVoid)).
		Set(expression.Name(attrTTL), expression.IfNotExists(expression.Name(attrTTL), expression.Value(now.Add(verificationRetention).Unix())))
	for _, name := range append([]string{attrCodeHMAC, attrDestinationCiphertext, attrDestinationKeyID, attrPreviousCiphertext, attrPreviousKeyID}, reset...) {
		upd = upd.Remove(expression.Name(name))
	}
	b := expression.NewBuilder().WithUpdate(upd)
	if onlyID != "" {
		b = b.WithCondition(expression.Name(attrVerificationID).Equal(expression.Value(onlyID)))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build void update: %w", err)
	}
	return update(table, key(accountPK(accountID), skVerification), expr).Update, nil
}

// destinations are the HMACs whose per-destination counters
// (LIMIT#phone#<HMAC>) a code request touches: the number it holds and the
// subject of each per-destination counter (an e-mail code counts its
// address), each once, in a fixed order.
func destinations(s binding.Start) []string {
	seen := map[string]bool{}
	if h := s.Verification.Destination.HMAC; h != "" {
		seen[h] = true
	}
	for _, group := range [][]binding.Counter{s.Counters, s.Checks, s.Tallies} {
		for _, c := range group {
			if c.Name == binding.LimitPhoneDay || c.Name == binding.LimitFailuresPhone {
				seen[c.Subject] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
