// Package faults wraps the service's adapters with injectors that fail a
// chosen call the ways AWS does: an error before the call, a throttle, a
// timeout after the call went through (the caller cannot tell whether it
// happened), or a cancelled transaction. Tests drive every flow through
// every fault point with them.
package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/store"
)

// Kind is how an injected fault fails.
type Kind int

// Kinds of fault.
const (
	// Fail returns an error without making the call.
	Fail Kind = iota
	// Throttle returns the service's throttling error without the call.
	Throttle
	// TimeoutAfter makes the call, then reports a timeout: the write may
	// have happened, the caller cannot know.
	TimeoutAfter
	// Cancel answers a transaction with TransactionCanceledException
	// (reason ThrottlingError) without making it; other calls fail.
	Cancel
)

func (k Kind) String() string {
	return [...]string{"fail", "throttle", "timeout-after", "cancel"}[k]
}

// Plan says which call fails and how: the At-th call (1-based) counted from
// when the plan was armed. At 0 fails nothing.
type Plan struct {
	mu    sync.Mutex
	at    int
	kind  Kind
	calls int
	hit   bool
}

// Arm makes the at-th call from now fail with kind (0: none) and resets the
// count.
func (p *Plan) Arm(at int, kind Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at, p.kind, p.calls, p.hit = at, kind, 0, false
}

// Calls is how many calls were made since Arm.
func (p *Plan) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// Hit reports whether the fault fired.
func (p *Plan) Hit() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hit
}

// next counts a call and says whether it is the one to fail.
func (p *Plan) next() (bool, Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.at != 0 && p.calls == p.at {
		p.hit = true
		return true, p.kind
	}
	return false, 0
}

// ErrInjected is the plain injected failure.
var ErrInjected = errors.New("injected fault")

// DB wraps a DynamoDB client.
type DB struct {
	store.DynamoAPI
	Plan *Plan
}

func dbFault[T any](ctx context.Context, p *Plan, op string, call func() (T, error)) (T, error) {
	fail, kind := p.next()
	var zero T
	if !fail {
		return call()
	}
	switch kind {
	case Throttle:
		return zero, &types.ProvisionedThroughputExceededException{Message: aws.String("injected throttle on " + op)}
	case TimeoutAfter:
		_, _ = call()
		return zero, fmt.Errorf("%s: injected timeout after the call: %w", op, context.DeadlineExceeded)
	case Cancel:
		if op == "TransactWriteItems" {
			return zero, &types.TransactionCanceledException{
				Message:             aws.String("injected cancellation"),
				CancellationReasons: []types.CancellationReason{{Code: aws.String("ThrottlingError")}},
			}
		}
	}
	return zero, fmt.Errorf("%s: %w", op, ErrInjected)
}

// GetItem implements store.DynamoAPI.
func (d *DB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return dbFault(ctx, d.Plan, "GetItem", func() (*dynamodb.GetItemOutput, error) { return d.DynamoAPI.GetItem(ctx, in, o...) })
}

// Query implements store.DynamoAPI.
func (d *DB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return dbFault(ctx, d.Plan, "Query", func() (*dynamodb.QueryOutput, error) { return d.DynamoAPI.Query(ctx, in, o...) })
}

// UpdateItem implements store.DynamoAPI.
func (d *DB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return dbFault(ctx, d.Plan, "UpdateItem", func() (*dynamodb.UpdateItemOutput, error) { return d.DynamoAPI.UpdateItem(ctx, in, o...) })
}

// DeleteItem implements store.DynamoAPI.
func (d *DB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return dbFault(ctx, d.Plan, "DeleteItem", func() (*dynamodb.DeleteItemOutput, error) { return d.DynamoAPI.DeleteItem(ctx, in, o...) })
}

// TransactWriteItems implements store.DynamoAPI.
func (d *DB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return dbFault(ctx, d.Plan, "TransactWriteItems", func() (*dynamodb.TransactWriteItemsOutput, error) {
		return d.DynamoAPI.TransactWriteItems(ctx, in, o...)
	})
}

// Sender wraps what sends SMS and e-mail; it records what went out.
type Sender struct {
	Plan *Plan
	mu   sync.Mutex
	sent []Message
}

// Message is one message that went out.
type Message struct{ To, Body string }

func (s *Sender) send(to, body string) error {
	fail, kind := s.Plan.next()
	if fail && kind != TimeoutAfter {
		return fmt.Errorf("send: %w", ErrInjected)
	}
	s.mu.Lock()
	s.sent = append(s.sent, Message{To: to, Body: body})
	s.mu.Unlock()
	if fail {
		return fmt.Errorf("send: injected timeout after delivery: %w", context.DeadlineExceeded)
	}
	return nil
}

// SendSMS implements binding.SMS.
func (s *Sender) SendSMS(_ context.Context, to, body string) error { return s.send(to, body) }

// SendEmail implements binding.Email.
func (s *Sender) SendEmail(_ context.Context, to, subject, body string) error {
	return s.send(to, subject+"\n\n"+body)
}

// Sent returns every message that went out to to, oldest first.
func (s *Sender) Sent(to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.sent {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// All returns every message that went out, oldest first.
func (s *Sender) All() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}
