package store_test

// An erasure raced by a write into the account's partition, on DynamoDB
// Local at the exact moment (after the erasure's first read of it).

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

var racebase = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func raceAccount(name string) string { return fmt.Sprintf("race-%s-%d", name, time.Now().UnixNano()) }

func raceSealed(n string) binding.SealedPhone {
	return binding.SealedPhone{HMAC: "hmac-" + n, KeyID: "k1", Ciphertext: "ct-" + n, Masked: "+7 912 ***-**-42"}
}

func raceVerification(accountID string, dest binding.SealedPhone) binding.Verification {
	return binding.Verification{
		ID: "v-" + accountID, AccountID: accountID, Purpose: binding.PurposeBind, Channel: binding.ChannelSMS,
		Destination: dest, CodeHMAC: "code", CreatedAt: racebase, ExpiresAt: racebase.Add(5 * time.Minute),
		ResendAfter: racebase.Add(time.Minute), MaxAttempts: 5, State: binding.RequestPending, ConsentVersion: "2026-01",
	}
}

func raceCompletion(v binding.Verification, now time.Time) binding.Completion {
	return binding.Completion{
		Verification: v,
		Profile: binding.Profile{AccountID: v.AccountID, Phone: v.Destination, VerifiedAt: now, BoundAt: now,
			Consent: binding.Consent{Version: v.ConsentVersion, GivenAt: now}, Version: v.ProfileVersion + 1},
		History: binding.HistoryEntry{ID: "h-" + v.AccountID, At: now, Event: binding.EventBound, Phone: v.Destination.Masked,
			Actor: "user", Channel: binding.ChannelSMS, ExpiresAt: now.Add(24 * time.Hour)},
		Now: now,
	}
}

// hookDB runs hook right after the first Query of partition pk, or after
// every one when always.
type hookDB struct {
	store.DynamoAPI
	pk     string
	once   sync.Once
	always bool
	hook   func()
}

func (h *hookDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := h.DynamoAPI.Query(ctx, in, o...)
	for _, v := range in.ExpressionAttributeValues {
		if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == h.pk && h.hook != nil {
			if h.always {
				h.hook()
			} else {
				h.once.Do(h.hook)
			}
		}
	}
	return out, err
}

// An erasure of an account that never bound a number, raced by the
// confirmation of its first bind (committed after the erasure read the
// partition): its next pass finds the new profile and history and deletes
// them with the number's claim, and it ends with nothing left.
func TestEraseRacingFirstBindConfirm(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	plain := store.NewDynamo(db, table)
	a := raceAccount("erase-race")
	n := raceSealed(a)
	v := raceVerification(a, n)
	if err := plain.StartVerification(ctx, binding.Start{Verification: v, Now: racebase}); err != nil {
		t.Fatal(err)
	}
	var confirmErr error
	hooked := &hookDB{DynamoAPI: db, pk: "ACCOUNT#" + a, hook: func() {
		confirmErr = plain.CompleteBind(ctx, raceCompletion(v, racebase.Add(time.Second)))
	}}
	d := store.NewDynamo(hooked, table)
	erased, err := d.Erase(ctx, a, racebase.Add(2*time.Second))
	if confirmErr != nil {
		t.Fatalf("the racing confirm failed: %v", confirmErr)
	}
	if err != nil {
		t.Fatalf("erase: %v", err)
	}
	owner, claimed, cerr := dynamotest.Claims{DB: db, Table: table}.ClaimOwner(ctx, n.HMAC)
	if cerr != nil {
		t.Fatal(cerr)
	}
	held, herr := d.Held(ctx, a)
	if herr != nil {
		t.Fatal(herr)
	}
	if claimed || held.Profile.Bound() || held.Profile.Version != 0 || len(held.History) > 0 || erased.Profile != 1 || erased.History != 1 || erased.Claims != 1 {
		t.Fatalf("erasure (%+v) left: claim held by %q=%v, profile bound=%v, history=%d",
			erased, owner, claimed, held.Profile.Bound(), len(held.History))
	}
}

// An erasure whose account partition gets a new item after each of its
// reads (a writer that does not check the profile) fails after its passes, saying to run it again, rather than
// reporting an account erased that is not.
func TestEraseFailsWhileItemsKeepComing(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	plain := store.NewDynamo(db, table)
	a := raceAccount("erase-busy")
	v := raceVerification(a, raceSealed(a))
	if err := plain.StartVerification(ctx, binding.Start{Verification: v, Now: racebase}); err != nil {
		t.Fatal(err)
	}
	if err := plain.CompleteBind(ctx, raceCompletion(v, racebase.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	n := 0
	var hookErr error
	busy := &hookDB{DynamoAPI: db, pk: "ACCOUNT#" + a, always: true, hook: func() {
		n++
		// Any writer: an item of a later feature, put without a condition.
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "ACCOUNT#" + a}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("LATER#%d", n)},
			"type": &types.AttributeValueMemberS{Value: "later"},
		}}); err != nil && hookErr == nil {
			hookErr = err
		}
	}}
	_, err := store.NewDynamo(busy, table).Erase(ctx, a, racebase.Add(time.Minute))
	if hookErr != nil {
		t.Fatal(hookErr)
	}
	if err == nil || !strings.Contains(err.Error(), "run it again") {
		t.Fatalf("erase = %v, want a failure saying to run it again", err)
	}
}
