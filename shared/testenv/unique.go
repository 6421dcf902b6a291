package testenv

import (
	"fmt"
	"sync/atomic"
	"time"
)

var unique atomic.Int64

// Unique is an id no other test sharing a table (DynamoDB Local) has
// used: name, the start of this process and a counter.
func Unique(name string) string {
	return fmt.Sprintf("%s-%d-%d", name, start, unique.Add(1))
}

var start = time.Now().UnixNano()
