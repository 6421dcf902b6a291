// The reads of the number (SPEC §4.8) in DynamoDB: the access log and the
// partners' access requests, in the account's partition (keys.go).

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// accessLogItem is one read of the number: ACCOUNT#<id> /
// ACCESSLOG#<at>#<entry id>, gone by TTL after ACCESS_LOG_RETENTION.
type accessLogItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	ID         string `dynamodbav:"entry_id"`
	At         string `dynamodbav:"at"`
	ClientID   string `dynamodbav:"client_id"`
	ClientName string `dynamodbav:"client_name"`
	Purpose    string `dynamodbav:"purpose"`
	Result     string `dynamodbav:"result"`
	TTL        int64  `dynamodbav:"ttl,omitempty"`
}

func newAccessLogItem(accountID string, e binding.AccessLogEntry) accessLogItem {
	it := accessLogItem{
		PK: accountPK(accountID), SK: accessLogSK(e.At, e.ID), Type: "access_log", ID: e.ID,
		At: formatTime(e.At), ClientID: e.ClientID, ClientName: e.ClientName, Purpose: string(e.Purpose), Result: e.Result,
	}
	if !e.ExpiresAt.IsZero() {
		it.TTL = e.ExpiresAt.Unix()
	}
	return it
}

func (it accessLogItem) entry() binding.AccessLogEntry {
	return binding.AccessLogEntry{
		ID: it.ID, At: parseTime(it.At), ClientID: it.ClientID, ClientName: it.ClientName,
		Purpose: binding.ReadPurpose(it.Purpose), Result: it.Result, ExpiresAt: ttlTime(it.TTL),
	}
}

// accessRequestItem is a partner's access request: ACCOUNT#<id> /
// ACCESSREQ#<client id>, one per partner and account. Its ttl is
// expires_at: past it the item holds the partner's place no longer (the
// code checks expires_at itself; TTL only cleans up).
type accessRequestItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Type          string `dynamodbav:"type"`
	AccountID     string `dynamodbav:"account_id"`
	RequestID     string `dynamodbav:"request_id"`
	ClientID      string `dynamodbav:"client_id"`
	ClientName    string `dynamodbav:"client_name"`
	Purpose       string `dynamodbav:"purpose"`
	State         string `dynamodbav:"state"`
	CreatedAt     string `dynamodbav:"created_at"`
	ExpiresAt     string `dynamodbav:"expires_at"`
	ApprovedUntil string `dynamodbav:"approved_until,omitempty"`
	DecidedAt     string `dynamodbav:"decided_at,omitempty"`
	TTL           int64  `dynamodbav:"ttl,omitempty"`
}

func newAccessRequestItem(r binding.AccessRequest) accessRequestItem {
	return accessRequestItem{
		PK: accountPK(r.AccountID), SK: accessReqSK(r.ClientID), Type: "access_request", AccountID: r.AccountID,
		RequestID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Purpose: string(r.Purpose),
		State: string(r.State), CreatedAt: formatTime(r.CreatedAt), ExpiresAt: formatTime(r.ExpiresAt),
		ApprovedUntil: formatTime(r.ApprovedUntil), DecidedAt: formatTime(r.DecidedAt), TTL: r.ExpiresAt.Unix(),
	}
}

func (it accessRequestItem) request() binding.AccessRequest {
	return binding.AccessRequest{
		ID: it.RequestID, AccountID: it.AccountID, ClientID: it.ClientID, ClientName: it.ClientName,
		Purpose: binding.ReadPurpose(it.Purpose), State: binding.AccessState(it.State),
		CreatedAt: parseTime(it.CreatedAt), ExpiresAt: parseTime(it.ExpiresAt),
		ApprovedUntil: parseTime(it.ApprovedUntil), DecidedAt: parseTime(it.DecidedAt),
	}
}

// ReadView implements binding.AccessStore with one BatchGetItem of the
// profile, the settings and the partner's request, ConsistentRead.
//
// BatchGetItem, not TransactGetItems: a transactional read costs twice the
// read units (2 per item up to 4 KB, against 1), and its isolation would buy
// nothing here, because the read's own write (CommitRead) checks every
// item it decided on again, at its commit: a view torn by a concurrent
// change fails that check and is read again. ConsistentRead makes each item
// the latest committed, so a change that committed before the read began is
// always seen.
func (d *Dynamo) ReadView(ctx context.Context, accountID, clientID string) (binding.ReadView, error) {
	pk := accountPK(accountID)
	keys := []map[string]types.AttributeValue{key(pk, skProfile), key(pk, skSettings)}
	if clientID != "" {
		keys = append(keys, key(pk, accessReqSK(clientID)))
	}
	req := map[string]types.KeysAndAttributes{d.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	var items []map[string]types.AttributeValue
	for try := 0; len(req) > 0; try++ {
		if try > 0 {
			// Unprocessed keys (throttling) are asked for again after a
			// pause, as the SDK's retries would.
			if err := backoff(ctx, min(try-1, maxConflictRetries)); err != nil {
				return binding.ReadView{}, err
			}
		}
		out, err := d.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return binding.ReadView{}, fmt.Errorf("batch get account: %w", err)
		}
		items = append(items, out.Responses[d.table]...)
		req = out.UnprocessedKeys
	}
	a, err := readAccountItems(items)
	if err != nil {
		return binding.ReadView{}, err
	}
	v := binding.ReadView{Profile: a.profileOf(accountID)}
	v.Settings, v.SettingsVersion = a.settingsPatch()
	if len(a.requests) > 0 {
		r := a.requests[0].request()
		v.Request = &r
	}
	return v, nil
}

// settingsAt insists the settings are still at version; version 0 is an
// account whose settings were never changed since versions were kept (no
// item, or one written before).
func settingsAt(version int64) expression.ConditionBuilder {
	if version == 0 {
		return expression.AttributeNotExists(expression.Name(attrVersion))
	}
	return expression.Name(attrVersion).Equal(expression.Value(version))
}

// approvedAt insists the request r is still the partner's, approved, and
// in force at now.
func approvedAt(r binding.AccessRequest, now time.Time) expression.ConditionBuilder {
	return expression.Name(attrRequestID).Equal(expression.Value(r.ID)).
		And(expression.Name(attrState).Equal(expression.Value(string(binding.AccessApproved)))).
		And(expression.Name(attrApprovedUntil).GreaterThan(expression.Value(formatTime(now))))
}

// conditionCheck is a transaction item that writes nothing and holds only
// while cond does on the item at k.
func conditionCheck(table string, k map[string]types.AttributeValue, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	e, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build condition: %w", err)
	}
	return checkItem(table, k, e), nil
}

// CommitRead implements binding.AccessStore with one TransactWriteItems:
// the log entry's Put and a ConditionCheck on each item the read decided
// on (the profile's version, the settings' version and, for a partner's
// approval, the request still approved and unexpired at the read's
// instant). Either all hold and the entry is written, or nothing is.
func (d *Dynamo) CommitRead(ctx context.Context, c binding.ReadCommit) error {
	item, err := attributevalue.MarshalMap(newAccessLogItem(c.AccountID, c.Entry))
	if err != nil {
		return fmt.Errorf("marshal access log: %w", err)
	}
	pk := accountPK(c.AccountID)
	var t txn
	t.add(itemAccessLog, putNew(d.table, item))
	profile, err := conditionCheck(d.table, key(pk, skProfile), profileCondition(c.ProfileVersion))
	if err != nil {
		return err
	}
	t.add(itemProfile, profile)
	settings, err := conditionCheck(d.table, key(pk, skSettings), settingsAt(c.SettingsVersion))
	if err != nil {
		return err
	}
	t.add(itemSettings, settings)
	if c.Approval != nil {
		approval, err := conditionCheck(d.table, key(pk, accessReqSK(c.Approval.ClientID)), approvedAt(*c.Approval, c.Entry.At))
		if err != nil {
			return err
		}
		t.add(itemAccessRequest, approval)
	}
	reasons, err := d.transact(ctx, t.items)
	switch {
	case err == nil:
		return nil
	case t.refused(reasons, itemProfile), t.refused(reasons, itemSettings), t.refused(reasons, itemAccessRequest):
		return binding.ErrStale
	}
	return fmt.Errorf("commit read: %w", err)
}

// requestFree is where a new access request may go: no item, or one that
// no longer holds the partner's place (expires_at passed).
func requestFree(now time.Time) expression.ConditionBuilder {
	return expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrExpiresAt).LessThanEqual(expression.Value(formatTime(now))))
}

// LogRefusal implements binding.AccessStore with one TransactWriteItems:
// the log entry's Put, a ConditionCheck that the account's profile item
// exists and, when r.NewRequest is set, the request's Put, which holds
// only where the partner has no open request. When the profile item is
// missing (an erased or unknown account) nothing is written; when only
// the request's condition fails (another read created one meanwhile) the
// entry is written again without it.
func (d *Dynamo) LogRefusal(ctx context.Context, r binding.Refusal) (bool, error) {
	item, err := attributevalue.MarshalMap(newAccessLogItem(r.AccountID, r.Entry))
	if err != nil {
		return false, fmt.Errorf("marshal access log: %w", err)
	}
	held, err := conditionCheck(d.table, key(accountPK(r.AccountID), skProfile), expression.AttributeExists(expression.Name(attrPK)))
	if err != nil {
		return false, err
	}
	var t txn
	t.add(itemAccessLog, putNew(d.table, item))
	t.add(itemProfile, held)
	if r.NewRequest != nil {
		req, err := attributevalue.MarshalMap(newAccessRequestItem(*r.NewRequest))
		if err != nil {
			return false, fmt.Errorf("marshal access request: %w", err)
		}
		cond, err := expression.NewBuilder().WithCondition(requestFree(r.Entry.At)).Build()
		if err != nil {
			return false, fmt.Errorf("build request condition: %w", err)
		}
		t.add(itemAccessRequest, putIf(d.table, req, cond))
	}
	reasons, err := d.transact(ctx, t.items)
	switch {
	case err == nil:
		return r.NewRequest != nil, nil
	case t.refused(reasons, itemProfile):
		return false, nil // nothing held about the account: nothing logged
	case r.NewRequest != nil && t.refused(reasons, itemAccessRequest):
		return d.LogRefusal(ctx, binding.Refusal{AccountID: r.AccountID, Entry: r.Entry})
	}
	return false, fmt.Errorf("log refused read: %w", err)
}

// accessRequestsQuery reads every access request of the account: a handful
// at most, one per partner that ever asked and whose item TTL has not yet
// removed.
func (d *Dynamo) accessRequestsQuery(ctx context.Context, accountID string) ([]binding.AccessRequest, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(accountPK(accountID))).
		And(expression.Key(attrSK).BeginsWith(skAccessReqFrom))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, fmt.Errorf("build access requests query: %w", err)
	}
	items, err := allPages(ctx, d.db, consistentQuery(d.table, expr))
	if err != nil {
		return nil, fmt.Errorf("query access requests: %w", err)
	}
	var out []binding.AccessRequest
	for _, item := range items {
		it, err := decode[accessRequestItem](item, "access request")
		if err != nil {
			return nil, err
		}
		out = append(out, it.request())
	}
	return out, nil
}

// AccessRequests implements binding.AccessStore with one Query.
func (d *Dynamo) AccessRequests(ctx context.Context, accountID string) ([]binding.AccessRequest, error) {
	return d.accessRequestsQuery(ctx, accountID)
}

// DecideAccessRequest implements binding.AccessStore: the request is found
// by its id among the account's (a Query of its partition, so another
// account's id is never found), then one TransactWriteItems writes the
// decision, only while that request is still there and decidable (pending
// and unexpired; for a decline, an approval in force too), and the history
// entry. What the Query saw decides nothing: a request
// decided or replaced meanwhile fails the condition (decidable), and the
// item as it is then tells why.
func (d *Dynamo) DecideAccessRequest(ctx context.Context, w binding.AccessDecisionWrite) (binding.AccessRequest, error) {
	all, err := d.accessRequestsQuery(ctx, w.AccountID)
	if err != nil {
		return binding.AccessRequest{}, err
	}
	var found *binding.AccessRequest
	for i := range all {
		if all[i].ID == w.RequestID {
			found = &all[i]
		}
	}
	if found == nil {
		return binding.AccessRequest{}, binding.ErrAccessRequestNotFound
	}
	upd := expression.Set(expression.Name(attrState), expression.Value(string(w.State))).
		Set(expression.Name(attrDecidedAt), expression.Value(formatTime(w.Now))).
		Set(expression.Name(attrExpiresAt), expression.Value(formatTime(w.ExpiresAt))).
		Set(expression.Name(attrTTL), expression.Value(w.ExpiresAt.Unix()))
	if w.ApprovedUntil.IsZero() {
		upd = upd.Remove(expression.Name(attrApprovedUntil))
	} else {
		upd = upd.Set(expression.Name(attrApprovedUntil), expression.Value(formatTime(w.ApprovedUntil)))
	}
	e, err := expression.NewBuilder().WithUpdate(upd).WithCondition(decidable(w)).Build()
	if err != nil {
		return binding.AccessRequest{}, fmt.Errorf("build decision: %w", err)
	}
	w.History.ClientID = found.ClientID
	history, err := marshalHistory(w.AccountID, w.History)
	if err != nil {
		return binding.AccessRequest{}, err
	}
	u := update(d.table, key(accountPK(w.AccountID), accessReqSK(found.ClientID)), e)
	u.Update.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	var t txn
	t.add(itemAccessRequest, u)
	t.add(itemHistory, putNew(d.table, history))
	reasons, err := d.transact(ctx, t.items)
	if err != nil {
		old, ok := t.failed(reasons, itemAccessRequest)
		if !ok {
			return binding.AccessRequest{}, fmt.Errorf("decide access request: %w", err)
		}
		var it accessRequestItem
		if old == nil || attributevalue.UnmarshalMap(old, &it) != nil {
			// The engine did not say; read the request again.
			now, gerr := d.accessRequestsQuery(ctx, w.AccountID)
			if gerr != nil {
				return binding.AccessRequest{}, gerr
			}
			return binding.AccessRequest{}, whyUndecidable(now, w)
		}
		return binding.AccessRequest{}, whyUndecidable([]binding.AccessRequest{it.request()}, w)
	}
	r := *found
	r.State, r.DecidedAt, r.ExpiresAt, r.ApprovedUntil = w.State, w.Now, w.ExpiresAt, w.ApprovedUntil
	return r, nil
}

// decidable is where the decision w may be written: the same request,
// pending and unexpired at w.Now, or, for a decline, approved and in force
// (the citizen withdraws the approval); binding.AccessRequest.Decidable
// says the same.
func decidable(w binding.AccessDecisionWrite) expression.ConditionBuilder {
	now := expression.Value(formatTime(w.Now))
	open := expression.Name(attrState).Equal(expression.Value(string(binding.AccessPending))).
		And(expression.Name(attrExpiresAt).GreaterThan(now))
	if w.State == binding.AccessDeclined {
		open = open.Or(expression.Name(attrState).Equal(expression.Value(string(binding.AccessApproved))).
			And(expression.Name(attrApprovedUntil).GreaterThan(now)))
	}
	return expression.Name(attrRequestID).Equal(expression.Value(w.RequestID)).And(open)
}

// whyUndecidable names why the request w decides cannot be decided, from
// the requests as they are: gone or replaced, decided, or lapsed.
func whyUndecidable(requests []binding.AccessRequest, w binding.AccessDecisionWrite) error {
	for _, r := range requests {
		if r.ID != w.RequestID {
			continue
		}
		if err := r.Undecidable(w.State, w.Now); err != nil {
			return err
		}
		return errors.New("decide access request: the request did not change, yet its condition failed")
	}
	return binding.ErrAccessRequestNotFound
}

// AccessLog implements binding.AccessStore with one Query, newest first,
// from the entry after the position given down to since. One more entry
// than asked is read to know whether another page follows.
func (d *Dynamo) AccessLog(ctx context.Context, accountID string, since time.Time, after *binding.AccessLogPosition, size int) (binding.AccessLogPage, error) {
	pk := accountPK(accountID)
	// "$" follows "#": the upper bound is past every entry.
	upper := skAccessLogFrom[:len(skAccessLogFrom)-1] + "$"
	kc := expression.Key(attrPK).Equal(expression.Value(pk)).
		And(expression.Key(attrSK).Between(expression.Value(skAccessLogFrom+formatTime(since)), expression.Value(upper)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return binding.AccessLogPage{}, fmt.Errorf("build access log query: %w", err)
	}
	var start map[string]types.AttributeValue
	if after != nil {
		start = key(pk, accessLogSK(after.At, after.ID))
	}
	out, err := d.db.Query(ctx, pageNewestFirst(keyQuery(d.table, expr), size, start))
	if err != nil {
		return binding.AccessLogPage{}, fmt.Errorf("query access log: %w", err)
	}
	page := binding.AccessLogPage{Entries: make([]binding.AccessLogEntry, 0, size)}
	for _, item := range out.Items {
		it, err := decode[accessLogItem](item, "access log")
		if err != nil {
			return binding.AccessLogPage{}, err
		}
		page.Entries = append(page.Entries, it.entry())
	}
	if len(page.Entries) > size {
		page.Entries = page.Entries[:size]
		last := page.Entries[size-1]
		page.Next = &binding.AccessLogPosition{At: last.At, ID: last.ID}
	}
	return page, nil
}
