package store_test

import (
	"testing"

	"github.com/gosuslugi/phonebind/shared/idempotency"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/store/storetest"
)

func TestMemoryIdempotencyContract(t *testing.T) {
	storetest.RunIdempotency(t, func(*testing.T) idempotency.Store { return store.NewMemoryIdempotency() })
}

func TestDynamoIdempotencyContract(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	storetest.RunIdempotency(t, func(*testing.T) idempotency.Store { return store.NewDynamoIdempotency(db, table) })
}
