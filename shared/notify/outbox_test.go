package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOutboxRecordsOldestFirst(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start
	clock := func() time.Time { now = now.Add(time.Second); return now }
	var console bytes.Buffer
	o := NewOutbox(&console, clock)
	ctx := context.Background()

	if err := o.SendCodeSMS(ctx, "+79123456789", "Код: 123456", "123456"); err != nil {
		t.Fatal(err)
	}
	if err := o.SendEmail(ctx, "user@example.com", "Код подтверждения", "Ваш код: 654321"); err != nil {
		t.Fatal(err)
	}

	want := []Message{
		{Channel: "sms", To: "+79123456789", Body: "Код: 123456", Code: "123456", SentAt: start.Add(time.Second)},
		{Channel: "email", To: "user@example.com", Body: "Код подтверждения\n\nВаш код: 654321", SentAt: start.Add(2 * time.Second)},
	}
	got := o.Messages()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Messages =\n%v\nwant\n%v", got, want)
	}

	// A copy: changing it does not change the outbox.
	got[0].Body = "changed"
	if o.Messages()[0].Body != "Код: 123456" {
		t.Error("Messages returned the outbox's own slice")
	}

	js, err := json.Marshal(o.Messages()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if wantJSON := `[{"channel":"sms","to":"+79123456789","body":"Код: 123456","code":"123456","sent_at":"2026-01-02T03:04:06Z"}]`; string(js) != wantJSON {
		t.Errorf("JSON = %s\nwant %s", js, wantJSON)
	}

	for _, s := range []string{"sms to +79123456789", "Код: 123456", "email to user@example.com", "Ваш код: 654321"} {
		if !strings.Contains(console.String(), s) {
			t.Errorf("console output lacks %q:\n%s", s, console.String())
		}
	}
}

func TestOutboxSilentAndEmpty(t *testing.T) {
	o := NewOutbox(nil, nil)
	if got := o.Messages(); got == nil || len(got) != 0 {
		t.Errorf("empty outbox Messages = %#v, want empty non-nil slice (JSON [])", got)
	}
	if err := o.SendSMS(context.Background(), "+79123456789", "x"); err != nil {
		t.Fatal(err)
	}
	if m := o.Messages(); len(m) != 1 || m[0].SentAt.IsZero() {
		t.Errorf("Messages = %v", m)
	}
}

func TestOutboxCanceledContext(t *testing.T) {
	o := NewOutbox(nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.SendSMS(ctx, "+79123456789", "x"); err == nil {
		t.Error("send with a canceled context succeeded")
	}
	if n := len(o.Messages()); n != 0 {
		t.Errorf("%d messages recorded", n)
	}
}

func TestOutboxConcurrent(t *testing.T) {
	var console bytes.Buffer // not safe alone: the outbox must serialise writes
	o := NewOutbox(&console, nil)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				to := fmt.Sprintf("+7912%07d", w*each+i)
				if i%2 == 0 {
					_ = o.SendSMS(context.Background(), to, "sms")
				} else {
					_ = o.SendEmail(context.Background(), to, "s", "b")
				}
				_ = o.Messages()
			}
		}()
	}
	wg.Wait()
	msgs := o.Messages()
	if len(msgs) != workers*each {
		t.Fatalf("%d messages, want %d", len(msgs), workers*each)
	}
	seen := map[string]bool{}
	for i, m := range msgs {
		if seen[m.To] {
			t.Errorf("duplicate message to %s", m.To)
		}
		seen[m.To] = true
		if i > 0 && m.SentAt.Before(msgs[i-1].SentAt) {
			t.Errorf("message %d is older than message %d", i, i-1)
		}
	}
	if n := strings.Count(console.String(), "--- outbox "); n != workers*each {
		t.Errorf("console shows %d messages, want %d", n, workers*each)
	}
}

// A code handed over with the text is kept beside it; a text sent without
// one has none, whatever digits it holds, and no code field in JSON.
func TestOutboxCode(t *testing.T) {
	o := NewOutbox(nil, nil)
	ctx := context.Background()
	if err := o.SendCodeSMS(ctx, "+79123456789", "Код подтверждения: 0042. Действует 5 мин.", "0042"); err != nil {
		t.Fatal(err)
	}
	if err := o.SendCodeEmail(ctx, "alice@example.org", "Код для отвязки", "Код подтверждения: 1234567890.", "1234567890"); err != nil {
		t.Fatal(err)
	}
	if err := o.SendSMS(ctx, "+79123456789", "Код подтверждения: 482913."); err != nil {
		t.Fatal(err)
	}
	got := o.Messages()
	if got[0].Code != "0042" || got[1].Code != "1234567890" || got[1].Channel != ChannelEmail ||
		got[1].Body != "Код для отвязки\n\nКод подтверждения: 1234567890." || got[2].Code != "" {
		t.Fatalf("codes: %+v", got)
	}
	js, _ := json.Marshal(got[2])
	if strings.Contains(string(js), `"code"`) {
		t.Errorf("a message without a code has a code field: %s", js)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := o.SendCodeSMS(cancelled, "+79123456789", "x", "1234"); err == nil || len(o.Messages()) != 3 {
		t.Errorf("a cancelled send: %v, %d messages", err, len(o.Messages()))
	}
}

func TestOutboxMessagesToAndClear(t *testing.T) {
	o := NewOutbox(nil, nil)
	ctx := context.Background()
	_ = o.SendSMS(ctx, "+79123456789", "a")
	_ = o.SendEmail(ctx, "Alice@Example.org", "s", "b")
	_ = o.SendSMS(ctx, "+79991234567", "c")
	_ = o.SendSMS(ctx, "+79123456789", "d")

	var bodies []string
	for _, m := range o.MessagesTo("+79123456789") {
		bodies = append(bodies, m.Body)
	}
	if fmt.Sprint(bodies) != "[a d]" {
		t.Errorf("to the number: %v", bodies)
	}
	if got := o.MessagesTo("alice@example.ORG"); len(got) != 1 || got[0].To != "Alice@Example.org" {
		t.Errorf("to the address in another case: %v", got)
	}
	if got := o.MessagesTo("+70000000000"); got == nil || len(got) != 0 {
		t.Errorf("to nobody: %#v, want an empty non-nil slice (JSON [])", got)
	}
	o.Clear()
	if got := o.Messages(); len(got) != 0 {
		t.Errorf("after Clear: %v", got)
	}
	_ = o.SendSMS(ctx, "+79123456789", "e")
	if got := o.Messages(); len(got) != 1 || got[0].Body != "e" {
		t.Errorf("a send after Clear: %v", got)
	}
}
