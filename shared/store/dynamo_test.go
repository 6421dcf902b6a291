package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// TestDynamoGlobalCapAcrossInstances: warm function instances each reserve
// the global cap in blocks; together they never issue more codes than the
// cap, and each issues codes while any of the cap is unreserved.
func TestDynamoGlobalCapAcrossInstances(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	const ceiling = 300 // blocks of 3
	global := binding.Counter{Name: binding.LimitGlobalDay, Subject: "all-" + now.Format("150405.000000"), WindowStart: day, Period: 24 * time.Hour, Max: ceiling}
	instances := []*store.Dynamo{store.NewDynamo(db, table), store.NewDynamo(db, table), store.NewDynamo(db, table)}
	var issued atomic.Int64
	var wg sync.WaitGroup
	for i, s := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				v := binding.Verification{ID: fmt.Sprintf("v%d-%d", i, n), AccountID: fmt.Sprintf("cap-%d-%d-%d", now.UnixNano(), i, n),
					Purpose: binding.PurposeBind, Channel: binding.ChannelSMS, CreatedAt: now, ExpiresAt: now.Add(time.Minute),
					ResendAfter: now.Add(time.Minute), MaxAttempts: 5, State: binding.RequestPending}
				err := s.StartVerification(context.Background(), binding.Start{Verification: v, Counters: []binding.Counter{global}, Now: now})
				var full *binding.LimitError
				if errors.As(err, &full) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				issued.Add(1)
			}
		}()
	}
	wg.Wait()
	// Each instance may hold back at most one partly used block.
	if got := issued.Load(); got > ceiling || got < ceiling-int64(len(instances))*3 {
		t.Fatalf("%d codes issued under a global cap of %d by %d instances", got, ceiling, len(instances))
	}
}
