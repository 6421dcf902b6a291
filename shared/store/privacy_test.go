package store_test

import (
	"testing"

	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/store/storetest"
)

func TestMemoryPrivacyContract(t *testing.T) {
	storetest.RunPrivacy(t, func(*testing.T) storetest.Stores {
		m, f, i := store.NewMemory(), store.NewFeedbackMemory(), store.NewMemoryIdempotency()
		return storetest.Stores{Binding: m, Tickets: f, Idempotency: i,
			Privacy: store.MemoryPrivacy{Binding: m, Tickets: f, Idempotency: i}, Probe: store.MemoryClaims{M: m}}
	})
}

func TestDynamoPrivacyContract(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	storetest.RunPrivacy(t, func(*testing.T) storetest.Stores {
		d := store.NewDynamo(db, table)
		return storetest.Stores{Binding: d, Tickets: d, Idempotency: store.NewDynamoIdempotency(db, table),
			Privacy: d, Probe: dynamotest.Claims{DB: db, Table: table}}
	})
}
