package store_test

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// countingDB counts DynamoDB calls by operation, so the cost of each user
// action is part of the contract.
type countingDB struct {
	store.DynamoAPI
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingDB) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
}

func (c *countingDB) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.DynamoAPI.GetItem(ctx, in, o...)
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.DynamoAPI.Query(ctx, in, o...)
}

func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.DynamoAPI.UpdateItem(ctx, in, o...)
}

func (c *countingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count("DeleteItem")
	return c.DynamoAPI.DeleteItem(ctx, in, o...)
}

func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.count("TransactWriteItems")
	return c.DynamoAPI.TransactWriteItems(ctx, in, o...)
}

type lastSMS struct {
	mu   sync.Mutex
	body string
	n    int
}

func (l *lastSMS) SendSMS(_ context.Context, _, body string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.body = body
	l.n++
	return nil
}

func total(calls map[string]int) int {
	n := 0
	for _, v := range calls {
		n += v
	}
	return n
}

// TestDynamoCallsPerOperation pins what each user action costs in DynamoDB:
// status is one Query; request-code is one Query and one transaction; a
// successful confirm commits in one transaction (after the conditional
// UpdateItem that counts the attempt, and the Query that reads back the
// status it answers with).
func TestDynamoCallsPerOperation(t *testing.T) {
	client := dynamotest.Client(t)
	db := &countingDB{DynamoAPI: client, calls: map[string]int{}}
	table := dynamotest.Table(t, client)
	sms := &lastSMS{}
	now := time.Now().UTC()
	svc := binding.New(binding.Config{
		CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: time.Minute,
		CodesPerAccountHour: 5, CodesPerPhoneDay: 10, CodesPerIPHour: 20, ChangeCooldown: time.Hour,
		ConsentVersion: "2026-01", HistoryRetention: time.Hour,
	}, store.NewDynamo(db, table), binding.Senders{SMS: sms}, secure.DevKeyring(), func() time.Time { return now }, nil)
	n, err := phone.NewParser(nil).Parse("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if _, err := svc.Status(ctx, "cost"); err != nil {
		t.Fatal(err)
	}
	if got := db.take(); got["Query"] != 1 || total(got) != 1 {
		t.Fatalf("status cost %v, want exactly one Query", got)
	}

	sent, err := svc.RequestCode(ctx, binding.CodeRequest{AccountID: "cost", Purpose: binding.PurposeBind, Phone: n, Consent: true, SourceIP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := db.take(); total(got) > 2 || got["TransactWriteItems"] != 1 || sms.n != 1 {
		t.Fatalf("request-code cost %v and %d SMS, want at most two DynamoDB calls and one SMS", got, sms.n)
	}

	code := regexp.MustCompile(`\d{6}`).FindString(sms.body)
	if _, err := svc.Confirm(ctx, binding.Confirmation{AccountID: "cost", VerificationID: sent.VerificationID, Code: code}); err != nil {
		t.Fatal(err)
	}
	got := db.take()
	if got["TransactWriteItems"] != 1 || got["UpdateItem"] != 1 || got["Query"] != 1 || total(got) != 3 {
		t.Fatalf("confirm cost %v, want one TransactWriteItems (plus the attempt UpdateItem and the status Query)", got)
	}
}

// SendEmail makes lastSMS an e-mail sender too: the last message either way.
func (l *lastSMS) SendEmail(ctx context.Context, to, _, body string) error {
	return l.SendSMS(ctx, to, body)
}

// TestDynamoCallsForTheHold pins what the hold on a removal by e-mail
// code costs: scheduling and cancelling commit in one transaction each;
// status at effective_at is still one Query (nothing is written to show
// the number gone); the first write after it completes the removal with
// one transaction and one DeleteItem of the claim.
func TestDynamoCallsForTheHold(t *testing.T) {
	client := dynamotest.Client(t)
	db := &countingDB{DynamoAPI: client, calls: map[string]int{}}
	table := dynamotest.Table(t, client)
	msgs := &lastSMS{}
	now := time.Now().UTC().Truncate(time.Millisecond)
	clock := func() time.Time { return now }
	svc := binding.New(binding.Config{
		CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: time.Minute,
		CodesPerAccountHour: 5, CodesPerPhoneDay: 10, CodesPerIPHour: 20, ChangeCooldown: time.Hour,
		ConsentVersion: "2026-01", HistoryRetention: time.Hour, UnbindEmailHold: 24 * time.Hour,
		StepUp: binding.StepUp{AMR: []string{"mfa"}, MaxAge: time.Hour},
	}, store.NewDynamo(db, table), binding.Senders{SMS: msgs, Email: msgs}, secure.DevKeyring(), clock, nil)
	n, err := phone.NewParser(nil).Parse("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	code := regexp.MustCompile(`\d{6}`)
	// A strong, fresh session: its confirmations need no read to check
	// their step-up.
	session := binding.Session{AMR: []string{"mfa"}, AuthTime: now}
	sent, err := svc.RequestCode(ctx, binding.CodeRequest{AccountID: "hold", Purpose: binding.PurposeBind, Phone: n, Consent: true, Session: session})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Confirm(ctx, binding.Confirmation{Session: session, AccountID: "hold", VerificationID: sent.VerificationID, Code: code.FindString(msgs.body)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	session.AuthTime = now
	sent, err = svc.RequestCode(ctx, binding.CodeRequest{AccountID: "hold", Purpose: binding.PurposeUnbind, Channel: binding.ChannelEmail, Email: "ivan@example.ru", Session: session})
	if err != nil {
		t.Fatal(err)
	}
	db.take()
	st, err := svc.Unbind(ctx, binding.Confirmation{Session: session, AccountID: "hold", VerificationID: sent.VerificationID, Code: code.FindString(msgs.body), Email: "ivan@example.ru"})
	if err != nil || st.Request.State != binding.RequestScheduled {
		t.Fatalf("schedule: %+v, %v", st.Request, err)
	}
	if got := db.take(); got["TransactWriteItems"] != 1 || got["UpdateItem"] != 1 || got["Query"] != 1 || total(got) != 3 {
		t.Fatalf("schedule cost %v, want one TransactWriteItems (plus the attempt UpdateItem and the status Query)", got)
	}
	now = now.Add(time.Hour)
	if _, err := svc.CancelUnbind(ctx, "hold", ""); err != nil {
		t.Fatal(err)
	}
	if got := db.take(); got["TransactWriteItems"] != 1 || got["Query"] != 2 || total(got) != 3 {
		t.Fatalf("cancel cost %v, want one TransactWriteItems (between the Query that reads the hold and the status Query)", got)
	}

	// Scheduled again and run out.
	now = now.Add(time.Hour)
	session.AuthTime = now
	sent, err = svc.RequestCode(ctx, binding.CodeRequest{AccountID: "hold", Purpose: binding.PurposeUnbind, Channel: binding.ChannelEmail, Email: "ivan@example.ru", Session: session})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Unbind(ctx, binding.Confirmation{Session: session, AccountID: "hold", VerificationID: sent.VerificationID, Code: code.FindString(msgs.body)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour)
	db.take()
	if st, err := svc.Status(ctx, "hold"); err != nil || st.State != binding.StateNone {
		t.Fatalf("status at effective_at: %+v, %v", st, err)
	}
	if got := db.take(); got["Query"] != 1 || total(got) != 1 {
		t.Fatalf("status at effective_at cost %v, want exactly one Query", got)
	}
	if _, err := svc.CancelUnbind(ctx, "hold", ""); err == nil {
		t.Fatal("cancel after effective_at succeeded")
	}
	if got := db.take(); got["TransactWriteItems"] != 1 || got["DeleteItem"] != 1 || got["Query"] != 2 || total(got) != 4 {
		t.Fatalf("completing the removal cost %v, want one TransactWriteItems and one DeleteItem between two Queries", got)
	}
}
