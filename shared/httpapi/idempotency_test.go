package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/store"
)

func withKey(k string) func(*events.APIGatewayV2HTTPRequest) {
	return func(r *events.APIGatewayV2HTTPRequest) { r.Headers["Idempotency-Key"] = k }
}

// countingHandler answers 202 with a body naming the call, like a handler
// that sends an SMS each time it runs.
func countingHandler(calls *atomic.Int64, status int) Handler {
	return func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		n := calls.Add(1)
		return jsonResponse(status, map[string]any{"call": n}), nil
	}
}

func TestIdempotentReplaysTheFirstAnswer(t *testing.T) {
	var calls atomic.Int64
	h := Idempotent(store.NewMemoryIdempotency(), countingHandler(&calls, 202), nil, nil)
	ctx := context.Background()
	first, _ := h(ctx, event("POST", "/v1/phone/verification", bindBody, withKey("k-1")))
	again, _ := h(ctx, event("POST", "/v1/phone/verification", bindBody, withKey("k-1")))
	if calls.Load() != 1 || again.StatusCode != 202 || again.Body != first.Body || again.Headers[ReplayedHeader] != "true" ||
		again.Headers["Content-Type"] != first.Headers["Content-Type"] {
		t.Fatalf("calls %d, first %v, again %v", calls.Load(), first, again)
	}
	// Same key, another body: refused, nothing run.
	other, _ := h(ctx, event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+79123456780","consent":true}`, withKey("k-1")))
	if other.StatusCode != 422 || !strings.Contains(other.Body, "idempotency_key_reused") || calls.Load() != 1 {
		t.Fatalf("reused key: %d %s", other.StatusCode, other.Body)
	}
	// Another account's same key is its own.
	mine, _ := h(ctx, event("POST", "/v1/phone/verification", bindBody, withKey("k-1"), withClaims(map[string]string{"sub": "bob"})))
	if mine.StatusCode != 202 || calls.Load() != 2 {
		t.Fatalf("another account: %d calls %d", mine.StatusCode, calls.Load())
	}
	// No key: every request runs.
	_, _ = h(ctx, event("POST", "/v1/phone/verification", bindBody))
	if calls.Load() != 3 {
		t.Fatalf("calls %d", calls.Load())
	}
}

func TestIdempotentKeepsNoFailure(t *testing.T) {
	var calls atomic.Int64
	h := Idempotent(store.NewMemoryIdempotency(), countingHandler(&calls, 503), nil, nil)
	for i := 0; i < 2; i++ {
		resp, _ := h(context.Background(), event("POST", "/v1/phone/verification", bindBody, withKey("k-2")))
		if resp.StatusCode != 503 {
			t.Fatal(resp.StatusCode)
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("a failed answer was replayed: %d calls", calls.Load())
	}
}

// A refusal that can change with time is not frozen by the key: a client
// that waits as Retry-After says and retries with the same key runs again
// (issue 12 finding 3). A refusal of the body itself is replayed.
func TestIdempotentReleasesRefusalsThatChange(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		answer error
		replay bool
	}{
		{"429 rate limited", &binding.RateLimitError{Limit: binding.LimitCooldown, RetryAfter: 3 * time.Second}, false},
		{"409 change too soon", &binding.ChangeTooSoonError{AllowedAfter: time.Now().Add(time.Hour)}, false},
		{"409 no phone bound", binding.ErrNoPhoneBound, false},
		{"409 unbind pending", binding.ErrUnbindPending, false},
		{"422 wrong code", &binding.CodeInvalidError{AttemptsLeft: 2}, false},
		{"410 code expired", binding.ErrCodeExpired, false},
		{"503 SMS unavailable", &binding.DeliveryError{Channel: binding.ChannelSMS, RetryAfter: time.Second}, false},
		{"422 consent required", binding.ErrConsentRequired, true},
		{"400 unknown field", unknownField("admin"), true},
		{"415 not JSON (a header, not the body)", &requestError{code: codeUnsupportedMediaType}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			h := Idempotent(store.NewMemoryIdempotency(), func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				if calls.Add(1) > 1 {
					return jsonResponse(http.StatusAccepted, map[string]any{"call": 2}), nil
				}
				return ErrorResponse(req, tt.answer), nil
			}, nil, nil)
			first, _ := h(ctx, event("POST", "/v1/phone/verification", bindBody, withKey("k-r")))
			again, _ := h(ctx, event("POST", "/v1/phone/verification", bindBody, withKey("k-r")))
			if tt.replay {
				if calls.Load() != 1 || again.Body != first.Body || again.Headers[ReplayedHeader] != "true" {
					t.Fatalf("a refusal of the body was not replayed: calls %d, %d %s", calls.Load(), again.StatusCode, again.Body)
				}
				return
			}
			if calls.Load() != 2 || again.StatusCode != http.StatusAccepted || again.Headers[ReplayedHeader] != "" {
				t.Fatalf("%d %s was frozen by the key: the retry got %d %s (calls %d)", first.StatusCode, first.Body, again.StatusCode, again.Body, calls.Load())
			}
		})
	}
}

func TestIdempotentConcurrentRetries(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	slow := func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		<-release
		return countingHandler(&calls, 202)(ctx, req)
	}
	h := Idempotent(store.NewMemoryIdempotency(), slow, nil, nil)
	statuses := make(chan int, 5)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := h(context.Background(), event("POST", "/v1/phone/verification", bindBody, withKey("k-3")))
			statuses <- resp.StatusCode
		}()
	}
	// Four retries answer 409 while the first is still running.
	for i := 0; i < 4; i++ {
		if s := <-statuses; s != http.StatusConflict {
			t.Fatalf("a concurrent retry answered %d", s)
		}
	}
	close(release)
	wg.Wait()
	if s := <-statuses; s != 202 || calls.Load() != 1 {
		t.Fatalf("first answered %d; %d runs for one key", s, calls.Load())
	}
}

func TestIdempotencyKeyValidation(t *testing.T) {
	var calls atomic.Int64
	h := Idempotent(store.NewMemoryIdempotency(), countingHandler(&calls, 202), nil, nil)
	for _, k := range []string{strings.Repeat("x", 256), "with space", "кириллица"} {
		resp, _ := h(context.Background(), event("POST", "/v1/phone/verification", bindBody, withKey(k)))
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, "Idempotency-Key") {
			t.Errorf("key %q: %d %s", k, resp.StatusCode, resp.Body)
		}
	}
	if calls.Load() != 0 {
		t.Fatal("an invalid key ran the handler")
	}
}
