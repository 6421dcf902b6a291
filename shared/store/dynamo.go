package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

var _ binding.Store = (*Dynamo)(nil)

// DynamoAPI is the part of the DynamoDB client the adapter uses: only
// operations that DynamoDB-compatible services (SPEC §8) offer too.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Dynamo is the single-table DynamoDB adapter. Every rule that must hold
// under concurrency is a condition expression or a transaction here; it
// never reads in order to decide a write.
type Dynamo struct {
	db    DynamoAPI
	table string
	// lease is this adapter's reservation of the global daily cap.
	lease lease
}

// NewDynamo returns an adapter over table.
func NewDynamo(db DynamoAPI, table string) *Dynamo {
	return &Dynamo{db: db, table: table}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// Snapshot implements binding.Store with one Query: sort keys are laid out
// so that, read backwards, the verification, the profile and the newest
// history entries come first.
func (d *Dynamo) Snapshot(ctx context.Context, accountID string, historyLimit int) (binding.Snapshot, error) {
	lower, limit := skProfile, int32(3)
	if historyLimit > 0 {
		lower, limit = skHistoryFrom, int32(historyLimit)+3
	}
	kc := expression.Key(attrPK).Equal(expression.Value(accountPK(accountID))).
		And(expression.Key(attrSK).Between(expression.Value(lower), expression.Value(skVerification)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return binding.Snapshot{}, fmt.Errorf("build snapshot query: %w", err)
	}
	in := consistentQuery(d.table, expr)
	in.ScanIndexForward, in.Limit = aws.Bool(false), aws.Int32(limit)
	out, err := d.db.Query(ctx, in)
	if err != nil {
		return binding.Snapshot{}, fmt.Errorf("query account: %w", err)
	}
	a, err := readAccountItems(out.Items)
	if err != nil {
		return binding.Snapshot{}, err
	}
	snap := binding.Snapshot{Profile: a.profileOf(accountID), Verification: a.liveVerification(), History: []binding.HistoryEntry{}}
	snap.Settings, _ = a.settingsPatch()
	// Newest first, as queried; the page may hold one entry too many.
	for _, it := range a.history {
		if len(snap.History) >= historyLimit {
			break
		}
		snap.History = append(snap.History, it.entry())
	}
	return snap, nil
}

// profileCondition insists the profile is still at version (0: no item).
func profileCondition(version int64) expression.ConditionBuilder {
	if version == 0 {
		return expression.AttributeNotExists(expression.Name(attrPK))
	}
	return expression.Name(attrVersion).Equal(expression.Value(version))
}

// StartVerification implements binding.Store with one TransactWriteItems:
// the verification, written over the previous one only if its cooldown is
// over, with the account's own counters on the same item
// (verificationWrite), and one entry per other counter item (limits.go):
// one more code on each counter it holds, only below its ceiling, and its
// checks held. The global cap is taken from
// this adapter's reservation before the transaction and given back when the
// transaction does not go through.
//
// The profile is checked only when the request holds the bound number
// (binding.Verification.HoldsBoundNumber: an unbind, a change), so that no
// item keeps the ciphertext of a number unbound meanwhile or removed by a
// hold that is due at s.Now. A first bind
// raced by a change of the profile is refused when it is confirmed (the
// commit insists on ProfileVersion); checking it here would cost two write
// units on every such request.
func (d *Dynamo) StartVerification(ctx context.Context, s binding.Start) error {
	v := s.Verification
	var spend, taken []binding.Counter
	for _, c := range s.Counters {
		if !d.leased(c) {
			spend = append(spend, c)
			continue
		}
		if err := d.lease.take(ctx, d, c); err != nil {
			d.giveAll(taken)
			return err
		}
		taken = append(taken, c)
	}
	var own *limitItem
	var limits []*limitItem
	for _, l := range groupLimits(spend, s.Checks, s.Tallies) {
		if l.pk == accountPK(v.AccountID) && l.sk == skVerification {
			own = l
		} else {
			limits = append(limits, l)
		}
	}
	write, err := verificationWrite(d.table, v, s.Now, own, destinations(s))
	if err != nil {
		d.giveAll(taken)
		return err
	}
	var t txn
	t.add(itemVerification, write)
	for i, l := range limits {
		it, err := l.transactItem(d.table)
		if err != nil {
			d.giveAll(taken)
			return err
		}
		t.add(limitItemName(i), it)
	}
	if v.HoldsBoundNumber() {
		// Nor to a number whose hold is due: an owner's read from before
		// unbind_at must not store a code to a number removed since.
		b := expression.NewBuilder().WithCondition(profileCondition(v.ProfileVersion).And(
			expression.Or(expression.AttributeNotExists(expression.Name(attrUnbindAt)),
				expression.Name(attrUnbindAt).GreaterThan(expression.Value(formatTime(s.Now))))))
		if s.Email != nil {
			// A new verified address rides on the check, which bills as a
			// write anyway; the version stays (nothing a commit insists on
			// moved).
			b = b.WithUpdate(setEmail(expression.UpdateBuilder{}, s.Email))
		}
		check, err := b.Build()
		if err != nil {
			d.giveAll(taken)
			return fmt.Errorf("build profile condition: %w", err)
		}
		if s.Email != nil {
			t.add(itemProfile, update(d.table, key(accountPK(v.AccountID), skProfile), check))
		} else {
			t.add(itemProfile, checkItem(d.table, key(accountPK(v.AccountID), skProfile), check))
		}
	}
	reasons, err := d.transact(ctx, t.items)
	if err != nil && reasons != nil {
		// Refused: nothing of this transaction was written. (After an
		// unknown outcome the leased code stays spent, as the caller leaves
		// the other counters: that errs on the safe side.)
		d.giveAll(taken)
	}
	if reasons == nil {
		return err
	}
	if old, ok := t.failed(reasons, itemVerification); ok {
		return d.startRefusal(ctx, v.AccountID, s.Now, own, old)
	}
	if _, ok := t.failed(reasons, itemProfile); ok {
		return binding.ErrStale
	}
	for i, l := range limits {
		if old, ok := t.failed(reasons, limitItemName(i)); ok {
			return &binding.LimitError{Counter: d.tripped(ctx, l, old)}
		}
	}
	return err
}

// giveAll returns leased codes taken for a request that did not go through.
func (d *Dynamo) giveAll(taken []binding.Counter) {
	for _, c := range taken {
		d.lease.giveBack(c)
	}
}

// belowMax holds while a counter (missing: zero) is under its ceiling.
func belowMax(c binding.Counter) expression.ConditionBuilder {
	count := expression.Name(attrCount)
	return expression.AttributeNotExists(count).Or(count.LessThan(expression.Value(c.Max)))
}

// CountFailures implements binding.Store: one unconditional UpdateItem per
// counter (no ceiling: the count is what later checks read).
func (d *Dynamo) CountFailures(ctx context.Context, counters []binding.Counter) error {
	var errs []error
	for _, c := range counters {
		if err := d.countOne(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// counterUpdate adds delta codes to a fixed-window counter; adding is
// refused at the ceiling, taking back is refused below zero.
// counterAdd adds delta to a counter item, creating it with its window.
func counterAdd(c binding.Counter, delta int) expression.Builder {
	upd := expression.Add(expression.Name(attrCount), expression.Value(delta)).
		Set(expression.Name(attrType), expression.Value(typeCounter)).
		Set(expression.Name(attrLimit), expression.Value(c.Name)).
		Set(expression.Name(attrWindowStart), expression.Value(formatTime(c.WindowStart))).
		Set(expression.Name(attrWindowEnd), expression.Value(formatTime(c.WindowEnd()))).
		Set(expression.Name(attrTTL), expression.Value(c.WindowEnd().Add(time.Hour).Unix()))
	return expression.NewBuilder().WithUpdate(upd)
}

func counterUpdate(c binding.Counter, delta int) (expression.Expression, error) {
	count := expression.Name(attrCount)
	cond := belowMax(c)
	if delta < 0 {
		cond = count.GreaterThanEqual(expression.Value(-delta))
	}
	expr, err := counterAdd(c, delta).WithCondition(cond).Build()
	if err != nil {
		return expr, fmt.Errorf("build counter update: %w", err)
	}
	return expr, nil
}

// CancelVerification implements binding.Store. It runs only after a failed
// send, so it is best effort item by item: a verification that was already
// replaced is left alone, and counters never go below zero.
func (d *Dynamo) CancelVerification(ctx context.Context, s binding.Start) error {
	v := s.Verification
	var errs []error
	u, err := voidUpdate(d.table, v.AccountID, s.Now, v.ID, nil)
	if err != nil {
		return err
	}
	_, err = d.db.UpdateItem(ctx, updateItem(u))
	if err != nil && !isConditionFailed(err) {
		errs = append(errs, fmt.Errorf("void verification: %w", err))
	}
	for _, c := range append(s.Counters, s.Tallies...) {
		if err := d.giveBack(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CountAttempt implements binding.Store with one conditional UpdateItem:
// the attempt is spent only on the right, pending, unexpired verification
// with attempts left, and the item comes back to judge the code against.
func (d *Dynamo) CountAttempt(ctx context.Context, accountID, verificationID string, purpose binding.Purpose, now time.Time) (binding.Verification, error) {
	attempts := expression.Name(attrAttempts)
	cond := expression.Name(attrVerificationID).Equal(expression.Value(verificationID)).
		And(expression.Name(attrPurpose).Equal(expression.Value(string(purpose)))).
		And(expression.Name(attrState).Equal(expression.Value(string(binding.RequestPending)))).
		And(expression.Name(attrExpiresAt).GreaterThan(expression.Value(formatTime(now)))).
		And(attempts.LessThan(expression.Name(attrMaxAttempts)))
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Add(attempts, expression.Value(1))).
		WithCondition(cond).Build()
	if err != nil {
		return binding.Verification{}, fmt.Errorf("build attempt update: %w", err)
	}
	in := conditionalUpdate(d.table, key(accountPK(accountID), skVerification), expr)
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	counted, err := updated[verificationItem](ctx, d.db, in, "verification")
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		old := ccf.Item
		if len(old) == 0 {
			// Some DynamoDB-compatible engines (DynamoDB Local among them)
			// return no item with a failed condition; read it to say why.
			got, gerr := d.db.GetItem(ctx, consistentGet(d.table, key(accountPK(accountID), skVerification)))
			if gerr != nil {
				return binding.Verification{}, fmt.Errorf("read refused verification: %w", gerr)
			}
			old = got.Item
		}
		var it verificationItem
		found := len(old) > 0
		if found {
			if uerr := attributevalue.UnmarshalMap(old, &it); uerr != nil {
				return binding.Verification{}, fmt.Errorf("read verification: %w", uerr)
			}
			found = it.State != stateVoid
		}
		if jerr := judgeAttempt(it.verification(), found, verificationID, purpose, now); jerr != nil {
			return binding.Verification{}, jerr
		}
		// The item changed between the condition and the read-back; the
		// attempt was not counted, so it is refused as a spent one.
		return binding.Verification{}, binding.ErrAttemptsExceeded
	}
	if err != nil {
		return binding.Verification{}, fmt.Errorf("count attempt: %w", err)
	}
	return counted.verification(), nil
}

// CompleteBind implements binding.Store with one TransactWriteItems: consume
// the verification, write the profile (only at the version the request saw),
// claim the new number (only if free or already ours), release the old one
// (only if ours) and add a history entry.
func (d *Dynamo) CompleteBind(ctx context.Context, c binding.Completion) error {
	v := c.Verification
	account := v.AccountID
	ownAttrs, rest := ownResets(c.Reset)
	consume, err := consumeUpdate(d.table, v, c.Now, false, ownAttrs)
	if err != nil {
		return err
	}
	profile, err := attributevalue.MarshalMap(newProfileItem(c.Profile, c.Now))
	if err != nil {
		return fmt.Errorf("marshal profile: %w", err)
	}
	atVersion, err := expression.NewBuilder().WithCondition(profileCondition(v.ProfileVersion)).Build()
	if err != nil {
		return fmt.Errorf("build profile condition: %w", err)
	}
	claim, err := attributevalue.MarshalMap(claimItem{
		PK: claimPK(c.Profile.Phone.HMAC), SK: skClaim, Type: typeClaim,
		AccountID: account, ClaimedAt: formatTime(c.Now),
	})
	if err != nil {
		return fmt.Errorf("marshal claim: %w", err)
	}
	ours := expression.Name(attrAccountID).Equal(expression.Value(account))
	// A claim whose holder's removal is due is free: its unbind_at is not
	// after now (whole milliseconds on both sides, so string order is time
	// order and the instant agrees with binding.Profile.Lapsed).
	due := expression.Name(attrUnbindAt).LessThanEqual(expression.Value(formatTime(c.Now)))
	freeOrOurs, err := expression.NewBuilder().WithCondition(
		expression.Or(expression.AttributeNotExists(expression.Name(attrPK)), ours, due)).Build()
	if err != nil {
		return fmt.Errorf("build claim condition: %w", err)
	}
	history, err := marshalHistory(account, c.History)
	if err != nil {
		return err
	}
	var t txn
	t.add(itemConsume, consume)
	t.add(itemProfile, putIf(d.table, profile, atVersion))
	t.add(itemClaim, putIf(d.table, claim, freeOrOurs))
	t.add(itemHistory, putNew(d.table, history))
	if r := c.Release; !r.IsZero() && r.HMAC != c.Profile.Phone.HMAC {
		release, err := expression.NewBuilder().WithCondition(ours).Build()
		if err != nil {
			return fmt.Errorf("build release condition: %w", err)
		}
		t.add(itemRelease, deleteIf(d.table, key(claimPK(r.HMAC), skClaim), release))
	}
	return d.commit(ctx, &t, rest, binding.ErrPhoneTaken)
}

// CompleteUnbind implements binding.Store with one TransactWriteItems:
// consume the verification (when there is one), write the profile without
// a number (only at the version read), release the claim (only if ours),
// delete the HELD item of a hold it ends and add a history entry.
func (d *Dynamo) CompleteUnbind(ctx context.Context, u binding.Unbinding) error {
	p := u.Profile
	ownAttrs, rest := ownResets(u.Reset)
	profile, err := attributevalue.MarshalMap(newProfileItem(binding.Profile{AccountID: p.AccountID, Version: p.Version + 1}, u.Now))
	if err != nil {
		return fmt.Errorf("marshal profile: %w", err)
	}
	// A hold that is due is LapseUnbind's to complete, dated UnbindAt.
	atVersion, err := expression.NewBuilder().WithCondition(profileCondition(p.Version).And(
		expression.Or(expression.AttributeNotExists(expression.Name(attrUnbindAt)),
			expression.Name(attrUnbindAt).GreaterThan(expression.Value(formatTime(u.Now)))))).Build()
	if err != nil {
		return fmt.Errorf("build profile condition: %w", err)
	}
	ours, err := expression.NewBuilder().WithCondition(
		expression.Name(attrAccountID).Equal(expression.Value(p.AccountID))).Build()
	if err != nil {
		return fmt.Errorf("build release condition: %w", err)
	}
	history, err := marshalHistory(p.AccountID, u.History)
	if err != nil {
		return err
	}
	var t txn
	t.add(itemProfile, putIf(d.table, profile, atVersion))
	t.add(itemRelease, deleteIf(d.table, key(claimPK(p.Phone.HMAC), skClaim), ours))
	t.add(itemHistory, putNew(d.table, history))
	if p.UnbindID != "" {
		// An SMS code or an operator ends a hold not yet due: it is never
		// told of as a lapse.
		t.add(itemHeld, deleteHeld(d.table, p.AccountID, p.UnbindID))
	}
	if v := u.Verification; v != nil {
		consume, err := consumeUpdate(d.table, *v, u.Now, true, ownAttrs)
		if err != nil {
			return err
		}
		t.add(itemConsume, consume)
	} else {
		// A support unbind voids any request in flight (it was made against
		// the profile this commit replaces) and, with it, any ciphertext of
		// the number it may hold.
		void, err := voidUpdate(d.table, p.AccountID, u.Now, "", ownAttrs)
		if err != nil {
			return err
		}
		t.add(itemVoid, types.TransactWriteItem{Update: void})
	}
	return d.commit(ctx, &t, rest, nil)
}

// commit runs a bind's or an unbind's transaction t, with the account's
// counters kept on other items (rest) reset, and says why it was refused:
// the code already spent, the profile (or the released claim) moved since
// it was read, or claimRefused when its claim item (itemClaim) failed its
// condition (nil: t has no such item).
func (d *Dynamo) commit(ctx context.Context, t *txn, rest []binding.Counter, claimRefused error) error {
	t.add(itemReset, d.resetItems(ctx, rest)...)
	reasons, err := d.transact(ctx, t.items)
	switch {
	case reasons == nil:
		return err
	case t.refused(reasons, itemConsume):
		return binding.ErrVerificationUsed
	case t.refused(reasons, itemProfile), t.refused(reasons, itemRelease):
		return binding.ErrStale
	case claimRefused != nil && t.refused(reasons, itemClaim):
		return claimRefused
	}
	return err
}

// consumeUpdate marks a pending verification completed and drops its code.
//
// A finished verification keeps no ciphertext it no longer needs: never the
// previous number's (released by a change), and not its destination's when
// that number is being unbound (scrub), so that after an unbind no item can
// be decrypted back to the number.
//
// reset names the account's counters on the item that the success resets.
func consumeUpdate(table string, v binding.Verification, now time.Time, scrub bool, reset []string) (types.TransactWriteItem, error) {
	upd := expression.Set(expression.Name(attrState), expression.Value(string(binding.RequestCompleted))).
		Set(expression.Name(attrCompletedAt), expression.Value(formatTime(now))).
		Remove(expression.Name(attrCodeHMAC)).
		Remove(expression.Name(attrPreviousCiphertext)).
		Remove(expression.Name(attrPreviousKeyID))
	if scrub {
		upd = upd.Remove(expression.Name(attrDestinationCiphertext)).Remove(expression.Name(attrDestinationKeyID))
	}
	for _, attr := range reset {
		upd = upd.Remove(expression.Name(attr))
	}
	consume, err := expression.NewBuilder().
		WithUpdate(upd).
		WithCondition(expression.Name(attrVerificationID).Equal(expression.Value(v.ID)).
			And(expression.Name(attrState).Equal(expression.Value(string(binding.RequestPending))))).
		Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build consume: %w", err)
	}
	return update(table, key(accountPK(v.AccountID), skVerification), consume), nil
}

// RejectVerification implements binding.Store; a verification that is no
// longer pending is left as it is.
func (d *Dynamo) RejectVerification(ctx context.Context, accountID, verificationID, reason string, now time.Time) error {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrState), expression.Value(string(binding.RequestRejected))).
			Set(expression.Name(attrReason), expression.Value(reason)).
			Set(expression.Name(attrCompletedAt), expression.Value(formatTime(now))).
			Remove(expression.Name(attrCodeHMAC)).
			// A refused request keeps no number that can be decrypted.
			Remove(expression.Name(attrDestinationCiphertext)).Remove(expression.Name(attrDestinationKeyID)).
			Remove(expression.Name(attrPreviousCiphertext)).Remove(expression.Name(attrPreviousKeyID))).
		WithCondition(expression.Name(attrVerificationID).Equal(expression.Value(verificationID)).
			And(expression.Name(attrState).Equal(expression.Value(string(binding.RequestPending))))).
		Build()
	if err != nil {
		return fmt.Errorf("build reject: %w", err)
	}
	_, err = d.db.UpdateItem(ctx, conditionalUpdate(d.table, key(accountPK(accountID), skVerification), expr))
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("reject verification: %w", err)
	}
	return nil
}

// maxConflictRetries bounds how often a transaction that lost a race with
// another transaction on the same item is tried again.
const maxConflictRetries = 4

// transact runs a transaction. When conditions fail it returns their
// cancellation reasons (and an error); transaction conflicts with other
// writers are retried after a short random pause.
func (d *Dynamo) transact(ctx context.Context, items []types.TransactWriteItem) ([]types.CancellationReason, error) {
	for try := 0; ; try++ {
		_, err := d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		conflict := errors.As(err, &tce) && hasReason(tce.CancellationReasons, "TransactionConflict")
		var tconf *types.TransactionConflictException
		conflict = conflict || errors.As(err, &tconf)
		if conflict && try < maxConflictRetries {
			if werr := backoff(ctx, try); werr != nil {
				return nil, werr
			}
			continue
		}
		if tce != nil && hasReason(tce.CancellationReasons, "ConditionalCheckFailed") {
			return tce.CancellationReasons, fmt.Errorf("transaction cancelled: %w", err)
		}
		return nil, fmt.Errorf("transact write: %w", err)
	}
}

func backoff(ctx context.Context, try int) error {
	var b [1]byte
	_, _ = rand.Read(b[:])
	pause := time.Duration(5<<try)*time.Millisecond + time.Duration(b[0])*50*time.Microsecond
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func hasReason(reasons []types.CancellationReason, code string) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// txn is a transaction whose items carry names, so that a cancellation is
// read by the name of the item whose condition failed, never by position.
type txn struct {
	items []types.TransactWriteItem
	names []string
}

// Names of transaction items.
const (
	itemVerification = "verification"
	itemConsume      = "consume"
	itemVoid         = "void"
	itemProfile      = "profile"
	itemClaim        = "claim"
	itemRelease      = "release"
	itemHistory      = "history"
	itemReset        = "reset"
	itemTicket       = "ticket"
	itemTicketRef    = "ticket-ref"
	itemCounter      = "counter"
	itemSettings     = "settings"
	itemHeld         = "held"
	// The reads of the number (access.go).
	itemAccessLog     = "access-log"
	itemAccessRequest = "access-request"
)

// limitItemName names the i-th counter item of a code request.
func limitItemName(i int) string { return "limit#" + strconv.Itoa(i) }

// add appends items under one name.
func (t *txn) add(name string, items ...types.TransactWriteItem) {
	for _, it := range items {
		t.items = append(t.items, it)
		t.names = append(t.names, name)
	}
}

// failed reports whether an item called name failed its condition, with
// the item as it was (when the engine returned it).
func (t *txn) failed(reasons []types.CancellationReason, name string) (map[string]types.AttributeValue, bool) {
	for i, n := range t.names {
		if n == name && failed(reasons, i) {
			return reasons[i].Item, true
		}
	}
	return nil, false
}

// refused is failed without the item.
func (t *txn) refused(reasons []types.CancellationReason, name string) bool {
	_, ok := t.failed(reasons, name)
	return ok
}

func failed(reasons []types.CancellationReason, i int) bool {
	return i >= 0 && i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed"
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// marshalHistory is h as an item; an entry without an id gets a random one,
// so two entries of the same millisecond never share a key.
func marshalHistory(account string, h binding.HistoryEntry) (map[string]types.AttributeValue, error) {
	if h.ID == "" {
		id, err := randomHex(6)
		if err != nil {
			return nil, err
		}
		h.ID = id
	}
	item, err := attributevalue.MarshalMap(newHistoryItem(account, h))
	if err != nil {
		return nil, fmt.Errorf("marshal history: %w", err)
	}
	return item, nil
}
