package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/idempotency"
)

// IdempotencyHeader is the request header naming a retry-safe request.
const IdempotencyHeader = "Idempotency-Key"

// Idempotency settings: a key is remembered for IdempotencyRetention; a
// request holds it for at most IdempotencyLock, the functions' timeout, so a
// crashed request can be retried once that much time has passed.
const (
	IdempotencyRetention = 24 * time.Hour
	IdempotencyLock      = 10 * time.Second
	maxIdempotencyKey    = 255
)

// ReplayedHeader marks an answer repeated from an earlier request.
const ReplayedHeader = "Idempotent-Replayed"

// Idempotent wraps a POST route: a request with an Idempotency-Key gets the
// answer the first request with that key and body got (no second SMS,
// e-mail, ticket or transaction); the same key with another body is refused
// with 422 idempotency_key_reused; while the first is still running, 409
// idempotency_in_progress. Only answers a retry would get again are kept
// (see replayable); any other releases the key, so a client that waits as
// told and retries runs again. A request without the header is passed
// through.
func Idempotent(store idempotency.Store, next Handler, logger *slog.Logger, now func() time.Time) Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		key := header(req.Headers, "idempotency-key")
		if key == "" || store == nil || req.RequestContext.HTTP.Method != http.MethodPost {
			return next(ctx, req)
		}
		c, err := callerOf(req)
		if err != nil {
			return next(ctx, req) // answers 401 itself
		}
		if !validIdempotencyKey(key) {
			return ErrorResponse(req, &requestError{code: codeInvalidRequest, detail: detailIdempotencyKey, field: IdempotencyHeader}), nil
		}
		body, err := bodyBytes(req)
		if err != nil {
			return next(ctx, req) // answers 413 or 400 itself
		}
		t := now()
		rec := idempotency.Record{
			AccountID:   c.accountID,
			KeyHash:     digest(key),
			Fingerprint: digest(req.RouteKey + "\n" + string(body)),
			Token:       token(),
			LockedUntil: t.Add(IdempotencyLock),
			ExpiresAt:   t.Add(IdempotencyRetention),
		}
		old, err := store.Claim(ctx, rec, t)
		switch {
		case old != nil && old.Fingerprint != rec.Fingerprint:
			return ErrorResponse(req, &requestError{code: codeIdempotencyReused}), nil
		case errors.Is(err, idempotency.ErrInProgress):
			return problemResponse(fault{code: codeIdempotencyBusy, args: []any{1}, retryAfter: 1, body: problemBody{RetryAfter: 1}},
				preferredLang(header(req.Headers, "accept-language"))), nil
		case err != nil:
			// Without the record a retry could send a second SMS: refuse
			// rather than run unprotected.
			logger.ErrorContext(ctx, "idempotency claim failed", "error", err.Error())
			return problemResponse(fault{code: codeUnavailable, args: []any{1}, retryAfter: 1, body: problemBody{RetryAfter: 1}},
				preferredLang(header(req.Headers, "accept-language"))), nil
		case old != nil:
			logger.InfoContext(ctx, "request", "route", req.RouteKey, "request_id", req.RequestContext.RequestID,
				"code", "idempotent_replay", "status", old.Response.Status)
			return replay(*old.Response), nil
		}

		resp, err := next(ctx, req)
		keep := context.WithoutCancel(ctx)
		if err != nil || !replayable(resp) {
			if rerr := store.Release(keep, rec); rerr != nil {
				logger.ErrorContext(ctx, "idempotency release failed", "error", rerr.Error())
			}
			return resp, err
		}
		if ferr := store.Finish(keep, rec, idempotency.Response{Status: resp.StatusCode, Headers: resp.Headers, Body: resp.Body}); ferr != nil {
			logger.ErrorContext(ctx, "idempotency finish failed", "error", ferr.Error())
		}
		return resp, nil
	}
}

// bodyCodes are the problems that depend on the request's body alone: the
// same body would get them again, so they are replayed like a success.
// (unsupported_media_type is not among them: it depends on a header the
// fingerprint does not cover, so a client that fixes it runs again.)
var bodyCodes = map[string]bool{
	codeInvalidJSON: true, codeInvalidRequest: true, codePayloadTooLarge: true,
	codeInvalidPhone: true, codeConsentRequired: true, codeInvalidContact: true,
}

// replayable reports an answer a retry of the same request would get again:
// a success, or a refusal of the body itself. A 429, a 409, a 5xx or a
// refusal that depends on the account's state (a wrong or expired code, a
// limit, a taken number) may change with time, so it is not kept.
func replayable(resp events.APIGatewayV2HTTPResponse) bool {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return true
	}
	if resp.StatusCode >= http.StatusInternalServerError || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusConflict {
		return false
	}
	var p struct {
		Code string `json:"code"`
	}
	return json.Unmarshal([]byte(resp.Body), &p) == nil && bodyCodes[p.Code]
}

func replay(r idempotency.Response) events.APIGatewayV2HTTPResponse {
	headers := make(map[string]string, len(r.Headers)+1)
	for k, v := range r.Headers {
		headers[k] = v
	}
	headers[ReplayedHeader] = "true"
	return events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Headers: headers, Body: r.Body}
}

func validIdempotencyKey(k string) bool {
	if len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
