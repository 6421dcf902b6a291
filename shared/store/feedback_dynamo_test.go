package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// fileTicket files a ticket through the service, as the API does.
func fileTicket(t *testing.T, svc *feedback.Service, accountID, message string) feedback.Ticket {
	t.Helper()
	tk, err := svc.Create(context.Background(), feedback.NewTicket{AccountID: accountID, Category: feedback.CategoryQuestion, Message: message})
	if err != nil {
		t.Fatalf("file ticket: %v", err)
	}
	return tk
}

// TestTicketsByStatusIndex runs the query an operator runs in the console:
// index TicketsByStatus, ticket_status = new, oldest first. Only tickets
// are in the index, and a ticket leaves a status's partition when it moves.
func TestTicketsByStatusIndex(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.Table(t, client)
	st := store.NewDynamo(client, table)
	clock := testenv.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	svc := feedback.New(feedback.Config{}, st, nil, nil, clock.Now, nil)
	var filed []feedback.Ticket
	for i := range 4 {
		clock.Advance(time.Minute)
		filed = append(filed, fileTicket(t, svc, fmt.Sprintf("acc-%d", i%2), fmt.Sprintf("вопрос %d", i)))
	}
	// Other items in the table (a binding's verification has a created_at
	// too) stay out of the index.
	bindings := store.NewDynamo(client, table)
	v := binding.Verification{ID: "v1", AccountID: "acc-0", Purpose: binding.PurposeBind, Channel: binding.ChannelSMS,
		Destination: binding.SealedPhone{HMAC: "h", KeyID: "k", Ciphertext: "c", Masked: "+7 912 ***-**-89"},
		CreatedAt:   clock.Now(), ExpiresAt: clock.Now().Add(5 * time.Minute), ResendAfter: clock.Now().Add(time.Minute), MaxAttempts: 5, State: binding.RequestPending}
	if err := bindings.StartVerification(context.Background(), binding.Start{Verification: v, Now: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := svc.UpdateTicket(context.Background(), feedback.Update{TicketID: filed[1].ID, Status: feedback.StatusInProgress, Operator: "ivanova"}); err != nil {
		t.Fatal(err)
	}

	byStatus := func(status feedback.Status) []string {
		t.Helper()
		out, err := client.Query(context.Background(), &dynamodb.QueryInput{
			TableName:              aws.String(table),
			IndexName:              aws.String(store.TicketStatusIndex),
			KeyConditionExpression: aws.String("ticket_status = :s"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": &types.AttributeValueMemberS{Value: string(status)},
			},
		})
		if err != nil {
			t.Fatalf("query %s: %v", store.TicketStatusIndex, err)
		}
		var ids []string
		for _, item := range out.Items {
			var it struct {
				TicketID string `dynamodbav:"ticket_id"`
				Message  string `dynamodbav:"message"`
			}
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				t.Fatal(err)
			}
			if it.TicketID == "" || it.Message == "" {
				t.Fatalf("an index item that is not a whole ticket: %v", item)
			}
			ids = append(ids, it.TicketID)
		}
		return ids
	}
	if got, want := byStatus(feedback.StatusNew), []string{filed[0].ID, filed[2].ID, filed[3].ID}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("new tickets oldest first = %v, want %v", got, want)
	}
	if got := byStatus(feedback.StatusInProgress); fmt.Sprint(got) != fmt.Sprint([]string{filed[1].ID}) {
		t.Fatalf("in_progress tickets = %v", got)
	}
}

// TestTicketsLeaveTheBindingSnapshotAlone: tickets share the account's
// partition, and the status Query must still find the profile and the
// verification first.
func TestTicketsLeaveTheBindingSnapshotAlone(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.Table(t, client)
	st := store.NewDynamo(client, table)
	now := time.Now().UTC()
	svc := feedback.New(feedback.Config{}, st, nil, nil, func() time.Time { return now }, nil)
	for i := range 5 {
		fileTicket(t, svc, "acc-snap", fmt.Sprintf("обращение %d", i))
	}
	v := binding.Verification{ID: "v1", AccountID: "acc-snap", Purpose: binding.PurposeBind, Channel: binding.ChannelSMS,
		Destination: binding.SealedPhone{HMAC: "h", KeyID: "k", Ciphertext: "c", Masked: "+7 912 ***-**-89"},
		CreatedAt:   now, ExpiresAt: now.Add(5 * time.Minute), ResendAfter: now, MaxAttempts: 5, State: binding.RequestPending}
	if err := st.StartVerification(context.Background(), binding.Start{Verification: v, Now: now}); err != nil {
		t.Fatal(err)
	}
	c := binding.Completion{Verification: v, Profile: binding.Profile{AccountID: "acc-snap", Phone: v.Destination, VerifiedAt: now, BoundAt: now, Version: 1},
		History: binding.HistoryEntry{At: now, Event: binding.EventBound, Phone: v.Destination.Masked, Actor: "user", Channel: binding.ChannelSMS}, Now: now}
	if err := st.CompleteBind(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 20} {
		snap, err := st.Snapshot(context.Background(), "acc-snap", limit)
		if err != nil {
			t.Fatal(err)
		}
		if !snap.Profile.Bound() || snap.Verification == nil || len(snap.History) != min(limit, 1) {
			t.Fatalf("snapshot(%d) with tickets in the partition: %+v", limit, snap)
		}
	}
}

// TestFeedbackCallsPerOperation pins what each ticket action costs: filing
// is one transaction, the list one Query, reading one ticket two GetItems
// (the id's ref, then the ticket under the caller's key), an operator's
// update two GetItems and one UpdateItem.
func TestFeedbackCallsPerOperation(t *testing.T) {
	client := dynamotest.Client(t)
	db := &countingDB{DynamoAPI: client, calls: map[string]int{}}
	table := dynamotest.Table(t, client)
	svc := feedback.New(feedback.Config{}, store.NewDynamo(db, table), nil, nil, nil, nil)
	ctx := context.Background()

	tk := fileTicket(t, svc, "cost", "сколько стоит?")
	if got := db.take(); got["TransactWriteItems"] != 1 || total(got) != 1 {
		t.Fatalf("create cost %v, want one TransactWriteItems", got)
	}
	if _, err := svc.List(ctx, "cost", "", 20); err != nil {
		t.Fatal(err)
	}
	if got := db.take(); got["Query"] != 1 || total(got) != 1 {
		t.Fatalf("list cost %v, want one Query", got)
	}
	if _, err := svc.Get(ctx, "cost", tk.ID); err != nil {
		t.Fatal(err)
	}
	if got := db.take(); got["GetItem"] != 2 || total(got) != 2 {
		t.Fatalf("get cost %v, want two GetItems", got)
	}
	if _, err := svc.UpdateTicket(ctx, feedback.Update{TicketID: tk.ID, Status: feedback.StatusClosed, Operator: "o"}); err != nil {
		t.Fatal(err)
	}
	if got := db.take(); got["GetItem"] != 2 || got["UpdateItem"] != 1 || total(got) != 3 {
		t.Fatalf("update cost %v, want two GetItems and one UpdateItem", got)
	}
}
