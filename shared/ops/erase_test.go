package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/ops"
	"github.com/gosuslugi/phonebind/shared/privacy"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// erasedEvents keeps the account.erased events published.
type erasedEvents struct {
	mu  sync.Mutex
	got []privacy.ErasedEvent
}

func (e *erasedEvents) AccountErased(_ context.Context, ev privacy.ErasedEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
	return nil
}

// TestEraseAccountEvent: the sample erase_account event erases a bound
// account (profile, claim, history, verification) and says what went; run
// again it reports nothing left; every field is required; the log names
// the operator and the reason, never the number; account.erased is
// published each time.
func TestEraseAccountEvent(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	box := &inbox{codes: map[string]string{}}
	cfg := serviceConfig()
	mem, tickets, idem := store.NewMemory(), store.NewFeedbackMemory(), store.NewMemoryIdempotency()
	keys := secure.DevKeyring()
	svc := binding.New(cfg, mem, binding.Senders{SMS: box, Email: box}, keys, clock.Now, nil)
	events := &erasedEvents{}
	eraser := privacy.New(store.MemoryPrivacy{Binding: mem, Tickets: tickets, Idempotency: idem}, keys, svc, events, clock.Now, nil)
	box.bind(t, svc, binding.CodeRequest{AccountID: "acc-1", SourceIP: "203.0.113.9"})

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := ops.Function(nil, map[string]ops.Action{"erase_account": ops.EraseAccount(eraser, logger)}, logger)
	sample, err := os.ReadFile("../../infra/events/erase-account.json")
	if err != nil {
		t.Fatal(err)
	}
	run := func(event string) (string, ops.EraseAccountResult) {
		t.Helper()
		out, err := h(ctx, json.RawMessage(event))
		if err != nil {
			t.Fatalf("%s: %v", event, err)
		}
		b, _ := json.Marshal(out)
		var res struct {
			Result ops.EraseAccountResult `json:"result"`
		}
		_ = json.Unmarshal(b, &res)
		return string(b), res.Result
	}
	for _, c := range []struct{ event, want string }{
		{`{"action":"erase_account","account_id":"acc-1","operator":"ivanova"}`, `"field":"reason"`},
		{`{"action":"erase_account","account_id":" ","operator":"ivanova","reason":"r"}`, `"field":"account_id"`},
		{`{"action":"erase_account","account_id":"acc-1","reason":"r"}`, `"field":"operator"`},
		{`{"action":"erase_account","account_id":"acc-1","operator":"o","reason":"r","ticket_id":"FB-1"}`, `unknown field ticket_id`},
		{`{"action":"erase_account","account_id":7,"operator":"o","reason":"r"}`, `"field":"account_id"`},
	} {
		if got, _ := run(c.event); !strings.Contains(got, c.want) || strings.Contains(got, `"ok":true`) {
			t.Errorf("%s\n  → %s\n  want %s", c.event, got, c.want)
		}
	}
	if st, _ := svc.Status(ctx, "acc-1"); st.State != binding.StateVerified {
		t.Fatalf("a refused event changed the account: %+v", st)
	}

	got, res := run(string(sample))
	e := res.Erased
	if !strings.Contains(got, `"ok":true`) || e.Profile != 1 || e.Verification != 1 || e.History != 1 || e.Claims != 1 || e.Counters != 2 ||
		strings.Contains(res.Message, "nothing") {
		t.Fatalf("erase_account: %s", got)
	}
	if st, err := svc.Status(ctx, "acc-1"); err != nil || st.State != binding.StateNone || len(st.History) != 0 || st.Request != nil {
		t.Fatalf("status after erasure: %+v, %v", st, err)
	}
	// The number is free for another account at once.
	clock.Advance(time.Minute)
	box.bind(t, svc, binding.CodeRequest{AccountID: "acc-2"})

	got, res = run(string(sample))
	if !strings.Contains(got, `"ok":true`) || !reflect.DeepEqual(res.Erased, ops.ErasedCounts{Other: map[string]int{}}) || !strings.Contains(res.Message, "nothing left") {
		t.Fatalf("second erase_account: %s", got)
	}
	if len(events.got) != 2 || events.got[0].AccountID != "acc-1" || events.got[0].ID == events.got[1].ID {
		t.Fatalf("account.erased events: %+v", events.got)
	}
	text := logs.String()
	for _, want := range []string{`"operator_claimed":"ivanova"`, "the portal deleted the account", `"action":"erase_account"`} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %s:\n%s", want, text)
		}
	}
	for _, leak := range []string{"79123456789", "912 ***", "912) ***"} {
		if strings.Contains(text, leak) {
			t.Errorf("log holds the number (%s):\n%s", leak, text)
		}
	}
}
