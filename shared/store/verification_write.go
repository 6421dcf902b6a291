package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	"destination_hmac", "destination_key_id", "destination_ciphertext", "destination_masked",
	"code_hmac", "reason", "previous_hmac", "previous_key_id", "previous_ciphertext",
	"previous_masked", "consent_version", "sent_to_masked", "sequence", "completed_at",
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
func verificationWrite(table string, v binding.Verification, now time.Time, own *limitItem) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(newVerificationItem(v))
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal verification: %w", err)
	}
	names := map[string]string{"#pk": attrPK, "#ra": "resend_after", "#st": "state"}
	values := map[string]types.AttributeValue{
		":now":  &types.AttributeValueMemberS{Value: formatTime(now)},
		":void": &types.AttributeValueMemberS{Value: stateVoid},
	}
	attrs := make([]string, 0, len(item))
	for name := range item {
		if name != attrPK && name != attrSK {
			attrs = append(attrs, name)
		}
	}
	sort.Strings(attrs)
	var set, remove, add []string
	for i, name := range attrs {
		n, val := "#s"+strconv.Itoa(i), ":s"+strconv.Itoa(i)
		names[n], values[val] = name, item[name]
		set = append(set, n+" = "+val)
	}
	for i, name := range optionalVerificationAttrs {
		if _, ok := item[name]; !ok {
			n := "#o" + strconv.Itoa(i)
			names[n] = name
			remove = append(remove, n)
		}
	}
	keep := map[string]bool{}
	cond := []string{"(attribute_not_exists(#pk) OR #ra <= :now OR #st = :void)"}
	if own != nil {
		for i, c := range own.members() {
			attr := slotOf(c).attr
			keep[attr] = true
			n, m := "#c"+strconv.Itoa(i), ":m"+strconv.Itoa(i)
			names[n], values[m] = attr, &types.AttributeValueMemberN{Value: strconv.Itoa(c.Max)}
			cond = append(cond, "(attribute_not_exists("+n+") OR "+n+" < "+m+")")
			if i < len(own.spend) {
				values[":one"] = &types.AttributeValueMemberN{Value: "1"}
				add = append(add, n+" :one")
			}
		}
	}
	// Counters of past windows go, so the item does not grow.
	hour := now.UTC().Truncate(time.Hour)
	for h := 1; h <= staleCounterHours; h++ {
		if attr := "codes_" + hour.Add(-time.Duration(h)*time.Hour).Format("2006010215"); !keep[attr] {
			n := "#h" + strconv.Itoa(h)
			names[n] = attr
			remove = append(remove, n)
		}
	}
	for d := 1; d <= 2; d++ {
		if attr := "failures_" + utcDay(now).AddDate(0, 0, -d).Format("20060102"); !keep[attr] {
			n := "#d" + strconv.Itoa(d)
			names[n] = attr
			remove = append(remove, n)
		}
	}
	update := "SET " + strings.Join(set, ", ")
	if len(add) > 0 {
		update += " ADD " + strings.Join(add, ", ")
	}
	if len(remove) > 0 {
		update += " REMOVE " + strings.Join(remove, ", ")
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                           &table,
		Key:                                 key(accountPK(v.AccountID), skVerification),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String(strings.Join(cond, " AND ")),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// startRefusal says why the verification write of a start was refused:
// the previous request's resend delay, or which of the account's counters
// is at its ceiling, from the item as it was (old; read again when the
// engine did not return it).
func (d *Dynamo) startRefusal(ctx context.Context, accountID string, now time.Time, own *limitItem, old map[string]types.AttributeValue) error {
	if len(old) == 0 {
		out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(accountPK(accountID), skVerification), ConsistentRead: aws.Bool(true)})
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
	upd := expression.Set(expression.Name("state"), expression.Value(stateVoid)).
		Set(expression.Name("ttl"), expression.IfNotExists(expression.Name("ttl"), expression.Value(now.Add(verificationRetention).Unix())))
	for _, name := range append([]string{"code_hmac", "destination_ciphertext", "destination_key_id", "previous_ciphertext", "previous_key_id"}, reset...) {
		upd = upd.Remove(expression.Name(name))
	}
	b := expression.NewBuilder().WithUpdate(upd)
	if onlyID != "" {
		b = b.WithCondition(expression.Name("verification_id").Equal(expression.Value(onlyID)))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build void update: %w", err)
	}
	return &types.Update{
		TableName:                 &table,
		Key:                       key(accountPK(accountID), skVerification),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}, nil
}
