package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/idempotency"
)

type idempotencyItem struct {
	PK              string            `dynamodbav:"pk"`
	SK              string            `dynamodbav:"sk"`
	Type            string            `dynamodbav:"type"`
	Fingerprint     string            `dynamodbav:"fingerprint"`
	Token           string            `dynamodbav:"token"`
	LockedUntil     string            `dynamodbav:"locked_until"`
	State           string            `dynamodbav:"state"`
	ResponseStatus  int               `dynamodbav:"response_status,omitempty"`
	ResponseHeaders map[string]string `dynamodbav:"response_headers,omitempty"`
	ResponseBody    string            `dynamodbav:"response_body,omitempty"`
	TTL             int64             `dynamodbav:"ttl"`
}

const (
	idemInProgress = "in_progress"
	idemDone       = "done"
)

func (it idempotencyItem) record(r idempotency.Record) *idempotency.Record {
	out := r
	out.Fingerprint, out.Token, out.LockedUntil = it.Fingerprint, it.Token, parseTime(it.LockedUntil)
	out.ExpiresAt = time.Unix(it.TTL, 0).UTC()
	if it.State == idemDone {
		out.Response = &idempotency.Response{Status: it.ResponseStatus, Headers: it.ResponseHeaders, Body: it.ResponseBody}
	}
	return &out
}

// DynamoIdempotency is the idempotency.Store on the service's table.
type DynamoIdempotency struct {
	db    DynamoAPI
	table string
}

// NewDynamoIdempotency keeps records in table.
func NewDynamoIdempotency(db DynamoAPI, table string) *DynamoIdempotency {
	return &DynamoIdempotency{db: db, table: table}
}

var _ idempotency.Store = (*DynamoIdempotency)(nil)

// Claim implements idempotency.Store: one conditional UpdateItem that
// creates the record, or takes over a claim that lapsed.
func (d *DynamoIdempotency) Claim(ctx context.Context, r idempotency.Record, now time.Time) (*idempotency.Record, error) {
	pk := expression.Name(attrPK)
	state := expression.Name(attrState)
	// Free: never claimed, a claim that lapsed, or a record past its TTL
	// that DynamoDB has not removed yet.
	free := expression.AttributeNotExists(pk).Or(
		state.Equal(expression.Value(idemInProgress)).And(expression.Name(attrLockedUntil).LessThan(expression.Value(formatTime(now))))).
		Or(expression.Name(attrTTL).LessThan(expression.Value(now.Unix())))
	upd := expression.Set(expression.Name(attrType), expression.Value("idempotency")).
		Set(expression.Name(attrFingerprint), expression.Value(r.Fingerprint)).
		Set(expression.Name(attrToken), expression.Value(r.Token)).
		Set(expression.Name(attrLockedUntil), expression.Value(formatTime(r.LockedUntil))).
		Set(state, expression.Value(idemInProgress)).
		Set(expression.Name(attrTTL), expression.Value(r.ExpiresAt.Unix()))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(free).Build()
	if err != nil {
		return nil, fmt.Errorf("build idempotency claim: %w", err)
	}
	in := conditionalUpdate(d.table, idempotencyKey(r), expr)
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = d.db.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		if err != nil {
			return nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		return nil, nil
	}
	old := ccf.Item
	if old == nil {
		// DynamoDB Local returns no item with the failure: read it.
		got, err := d.db.GetItem(ctx, consistentGet(d.table, idempotencyKey(r)))
		if err != nil {
			return nil, fmt.Errorf("read idempotency key: %w", err)
		}
		old = got.Item
	}
	it, err := decode[idempotencyItem](old, "idempotency record")
	if err != nil {
		return nil, err
	}
	existing := it.record(r)
	if existing.Response == nil {
		return existing, idempotency.ErrInProgress
	}
	return existing, nil
}

// Finish implements idempotency.Store.
func (d *DynamoIdempotency) Finish(ctx context.Context, r idempotency.Record, resp idempotency.Response) error {
	upd := expression.Set(expression.Name(attrState), expression.Value(idemDone)).
		Set(expression.Name(attrResponseStatus), expression.Value(resp.Status)).
		Set(expression.Name(attrResponseBody), expression.Value(resp.Body))
	if len(resp.Headers) > 0 {
		upd = upd.Set(expression.Name(attrResponseHeaders), expression.Value(resp.Headers))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).
		WithCondition(expression.Name(attrToken).Equal(expression.Value(r.Token))).Build()
	if err != nil {
		return fmt.Errorf("build idempotency finish: %w", err)
	}
	_, err = d.db.UpdateItem(ctx, conditionalUpdate(d.table, idempotencyKey(r), expr))
	if err != nil {
		return fmt.Errorf("finish idempotency key: %w", err)
	}
	return nil
}

// Release implements idempotency.Store.
func (d *DynamoIdempotency) Release(ctx context.Context, r idempotency.Record) error {
	expr, err := expression.NewBuilder().WithCondition(expression.Name(attrToken).Equal(expression.Value(r.Token))).Build()
	if err != nil {
		return fmt.Errorf("build idempotency release: %w", err)
	}
	_, err = d.db.DeleteItem(ctx, conditionalDelete(d.table, idempotencyKey(r), expr))
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// MemoryIdempotency is the idempotency.Store of `make run`.
type MemoryIdempotency struct {
	mu      sync.Mutex
	records map[string]idempotency.Record
}

// NewMemoryIdempotency returns an empty store.
func NewMemoryIdempotency() *MemoryIdempotency {
	return &MemoryIdempotency{records: map[string]idempotency.Record{}}
}

var _ idempotency.Store = (*MemoryIdempotency)(nil)

// Claim implements idempotency.Store.
func (m *MemoryIdempotency) Claim(_ context.Context, r idempotency.Record, now time.Time) (*idempotency.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memoryIdempotencyKey(r)
	if old, ok := m.records[k]; ok && now.Before(old.ExpiresAt) {
		if old.Response != nil {
			return &old, nil
		}
		if !old.LockedUntil.Before(now) {
			return &old, idempotency.ErrInProgress
		}
	}
	r.Response = nil
	m.records[k] = r
	return nil, nil
}

// Finish implements idempotency.Store.
func (m *MemoryIdempotency) Finish(_ context.Context, r idempotency.Record, resp idempotency.Response) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memoryIdempotencyKey(r)
	if old, ok := m.records[k]; ok && old.Token == r.Token {
		old.Response = &resp
		m.records[k] = old
	}
	return nil
}

// Release implements idempotency.Store.
func (m *MemoryIdempotency) Release(_ context.Context, r idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memoryIdempotencyKey(r)
	if old, ok := m.records[k]; ok && old.Token == r.Token {
		delete(m.records, k)
	}
	return nil
}

// memoryIdempotencyKey is the record's key in MemoryIdempotency: the table's
// partition and sort key, so an erasure finds an account's records by prefix.
func memoryIdempotencyKey(r idempotency.Record) string {
	return idempotencyPK(r.AccountID) + "\x00" + r.KeyHash
}
