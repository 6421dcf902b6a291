package store_test

// Review of issue 13 (second reader): defects shown by tests.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/privacy"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

var r13base = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func r13Account(name string) string { return fmt.Sprintf("r13-%s-%d", name, time.Now().UnixNano()) }

func r13Sealed(n string) binding.SealedPhone {
	return binding.SealedPhone{HMAC: "hmac-" + n, KeyID: "k1", Ciphertext: "ct-" + n, Masked: "+7 912 ***-**-42"}
}

func r13Verification(accountID string, dest binding.SealedPhone) binding.Verification {
	return binding.Verification{
		ID: "v-" + accountID, AccountID: accountID, Purpose: binding.PurposeBind, Channel: binding.ChannelSMS,
		Destination: dest, CodeHMAC: "code", CreatedAt: r13base, ExpiresAt: r13base.Add(5 * time.Minute),
		ResendAfter: r13base.Add(time.Minute), MaxAttempts: 5, State: binding.RequestPending, ConsentVersion: "2026-01",
	}
}

func r13Completion(v binding.Verification, now time.Time) binding.Completion {
	return binding.Completion{
		Verification: v,
		Profile: binding.Profile{AccountID: v.AccountID, Phone: v.Destination, VerifiedAt: now, BoundAt: now,
			Consent: binding.Consent{Version: v.ConsentVersion, GivenAt: now}, Version: v.ProfileVersion + 1},
		History: binding.HistoryEntry{ID: "h-" + v.AccountID, At: now, Event: binding.EventBound, Phone: v.Destination.Masked,
			Actor: "user", Channel: binding.ChannelSMS, ExpiresAt: now.Add(24 * time.Hour)},
		Now: now,
	}
}

// hookDB runs hook once, right after the first Query of partition pk.
type hookDB struct {
	store.DynamoAPI
	pk   string
	once sync.Once
	hook func()
}

func (h *hookDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := h.DynamoAPI.Query(ctx, in, o...)
	for _, v := range in.ExpressionAttributeValues {
		if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == h.pk && h.hook != nil {
			h.once.Do(h.hook)
		}
	}
	return out, err
}

// An erasure of an account that never bound a number, raced by the
// confirmation of its first bind (committed after the erasure read the
// partition), reports success and leaves the new profile, its ciphertext and
// the number's claim behind: nothing tells the operator to run it again.
func TestReview13EraseRacingFirstBindConfirm(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	plain := store.NewDynamo(db, table)
	a := r13Account("erase-race")
	n := r13Sealed(a)
	v := r13Verification(a, n)
	if err := plain.StartVerification(ctx, binding.Start{Verification: v, Now: r13base}); err != nil {
		t.Fatal(err)
	}
	var confirmErr error
	hooked := &hookDB{DynamoAPI: db, pk: "ACCOUNT#" + a, hook: func() {
		confirmErr = plain.CompleteBind(ctx, r13Completion(v, r13base.Add(time.Second)))
	}}
	d := store.NewDynamo(hooked, table)
	erased, err := d.Erase(ctx, a, r13base.Add(2*time.Second))
	if confirmErr != nil {
		t.Fatalf("the racing confirm failed: %v", confirmErr)
	}
	if err != nil {
		t.Logf("erasure reported the race (good): %v", err)
		return
	}
	owner, claimed, cerr := dynamotest.Claims{DB: db, Table: table}.ClaimOwner(ctx, n.HMAC)
	if cerr != nil {
		t.Fatal(cerr)
	}
	held, herr := d.Held(ctx, a)
	if herr != nil {
		t.Fatal(herr)
	}
	if claimed || held.Profile.Bound() || len(held.History) > 0 {
		t.Fatalf("erasure said ok (%+v) yet left: claim held by %q=%v, profile bound=%v, history=%d",
			erased, owner, claimed, held.Profile.Bound(), len(held.History))
	}
}

// A portal service's read of an erased account (its consumers learn of the
// erasure later) writes a refused-read log entry under ACCOUNT#<id>, kept
// ACCESS_LOG_RETENTION: the erased account's id is back in the table. The
// same happens for any made-up account id.
func TestReview13ReadAfterEraseRecreatesAccountData(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, st interface {
		binding.AccessStore
	}, p privacy.Store) {
		a := r13Account("read-after-erase")
		if _, err := p.Erase(ctx, a, r13base); err != nil {
			t.Fatal(err)
		}
		// What binding.Service.ReadPhone does for an account with no profile.
		view, err := st.ReadView(ctx, a, "")
		if err != nil {
			t.Fatal(err)
		}
		if view.Profile.Bound() {
			t.Fatal("bound?")
		}
		if _, err := st.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: binding.AccessLogEntry{
			ID: "e1", At: r13base.Add(time.Minute), ClientID: "notifier", ClientName: "Notifier",
			Purpose: binding.ReadNotification, Result: binding.ReadNoPhoneBound, ExpiresAt: r13base.Add(8760 * time.Hour),
		}}); err != nil {
			t.Fatal(err)
		}
		held, err := p.Held(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(held.AccessLog) != 0 {
			t.Fatalf("after erasure the account holds %d access log entries again (%+v)", len(held.AccessLog), held.AccessLog[0])
		}
	}
	t.Run("memory", func(t *testing.T) {
		m, f, i := store.NewMemory(), store.NewFeedbackMemory(), store.NewMemoryIdempotency()
		run(t, m, store.MemoryPrivacy{Binding: m, Tickets: f, Idempotency: i})
	})
	t.Run("dynamo", func(t *testing.T) {
		db := dynamotest.Client(t)
		table := dynamotest.Table(t, db)
		d := store.NewDynamo(db, table)
		run(t, d, d)
	})
}

// Idempotency records of the layout before this change
// (IDEMPOTENCY#<account>#<key hash> / IDEMPOTENCY) carry the account id and
// stored answers; an erasure right after the deploy does not find them.
func TestReview13EraseMissesOldLayoutIdempotency(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	d := store.NewDynamo(db, table)
	a := r13Account("old-idem")
	pk := "IDEMPOTENCY#" + a + "#deadbeef"
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "IDEMPOTENCY"},
		"account_id":    &types.AttributeValueMemberS{Value: a},
		"response_body": &types.AttributeValueMemberS{Value: `{"destination":"+7 912 ***-**-42"}`},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Erase(ctx, a, r13base); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "IDEMPOTENCY"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Item) != 0 {
		t.Fatalf("after erasure an old-layout idempotency record with the account id is still there: %s", pk)
	}
}
