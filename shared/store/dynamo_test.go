package store_test

import (
	"testing"

	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/store/storetest"
)

func TestDynamoContract(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	storetest.Run(t, func(*testing.T) storetest.Store { return store.NewDynamo(db, table) })
}
