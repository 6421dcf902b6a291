// Package idempotency keeps the first answer to a request sent with an
// Idempotency-Key, so that a client retrying after a timeout gets that answer
// again instead of a second SMS, e-mail, ticket or transaction.
package idempotency

import (
	"context"
	"errors"
	"time"
)

// Record is one key's state: claimed by a request in progress (Response nil)
// or holding the answer it gave.
type Record struct {
	AccountID string
	// KeyHash is the SHA-256 of the client's key: keys are the client's
	// text and never stored as sent.
	KeyHash string
	// Fingerprint is the SHA-256 of the route and the body: the same key
	// with another request is refused.
	Fingerprint string
	// Token tells the request that claimed the key from any other.
	Token string
	// LockedUntil is when an unfinished claim lapses (no later than the
	// function's timeout), so a crashed request can be retried.
	LockedUntil time.Time
	// ExpiresAt is when the record is forgotten.
	ExpiresAt time.Time
	Response  *Response
}

// Response is a stored answer.
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// ErrInProgress is a key another request holds right now.
var ErrInProgress = errors.New("idempotency key in use by a request in progress")

// Store keeps records. Each method is one conditional write.
type Store interface {
	// Claim takes the key for r (new, or its earlier claim lapsed at now).
	// When the key is already held it writes nothing and returns the
	// existing record: finished (Response set), or ErrInProgress.
	Claim(ctx context.Context, r Record, now time.Time) (existing *Record, err error)
	// Finish stores the answer, if r still holds the key.
	Finish(ctx context.Context, r Record, resp Response) error
	// Release gives the key up (the request failed), if r still holds it.
	Release(ctx context.Context, r Record) error
}
