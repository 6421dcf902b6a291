package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// stuckBinding waits for its context like an AWS call that never answers.
type stuckBinding struct{ fakeBinding }

func (s *stuckBinding) Status(ctx context.Context, _ string) (binding.Status, error) {
	<-ctx.Done()
	return binding.Status{}, ctx.Err()
}

func TestTimeBudgetAnswersBeforeTheDeadline(t *testing.T) {
	deadline := time.Now().Add(SafetyMargin + 300*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	resp, err := newAPI(&stuckBinding{}, nil).Status(ctx, event("GET", "/v1/phone", ""))
	if err != nil {
		t.Fatal(err)
	}
	if time.Now().After(deadline) {
		t.Fatal("the handler answered after the Lambda deadline")
	}
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] != "1" || !strings.Contains(resp.Body, "temporarily_unavailable") {
		t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
}

func TestBudgetWithoutDeadline(t *testing.T) {
	ctx, cancel := Budget(context.Background())
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Fatal("a deadline appeared from nowhere")
	}
}
