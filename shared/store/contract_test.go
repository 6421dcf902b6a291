package store_test

import (
	"testing"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/idempotency"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/store/storetest"
)

// The contract suites run on both stores: the memory store, and the
// DynamoDB adapter over a fresh DynamoDB Local table.

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) (binding.Store, storetest.Probe) {
		m := store.NewMemory()
		return m, store.MemoryClaims{M: m}
	})
}

func TestDynamoContract(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	storetest.Run(t, func(*testing.T) (binding.Store, storetest.Probe) {
		return store.NewDynamo(db, table), dynamotest.Claims{DB: db, Table: table}
	})
}

func TestFeedbackMemoryContract(t *testing.T) {
	storetest.RunFeedback(t, func(*testing.T) feedback.Store { return store.NewFeedbackMemory() })
}

func TestFeedbackDynamoContract(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	storetest.RunFeedback(t, func(*testing.T) feedback.Store { return store.NewDynamo(db, table) })
}

func TestMemoryIdempotencyContract(t *testing.T) {
	storetest.RunIdempotency(t, func(*testing.T) idempotency.Store { return store.NewMemoryIdempotency() })
}

func TestDynamoIdempotencyContract(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	storetest.RunIdempotency(t, func(*testing.T) idempotency.Store { return store.NewDynamoIdempotency(db, table) })
}
