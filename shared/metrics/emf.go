// Package metrics writes CloudWatch metrics as Embedded Metric Format log
// lines: Lambda sends stdout to CloudWatch Logs, which extracts the metrics
// from them with no API call on the request path and no extra permission.
package metrics

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Namespace and Service are where every metric of this service goes: each is
// emitted once with the dimension set [Service] (the total) and once with
// [Service, its own dimensions] (the breakdown).
const (
	Namespace = "PhoneBinding"
	Service   = "phonebind"
)

// Metric names the dashboard and alarms in template.yaml read.
const (
	Requests      = "Requests"      // dims Route, Code ("ok" on success)
	Latency       = "Latency"       // milliseconds; dims Route
	CodesSent     = "CodesSent"     // dims Channel, Purpose
	Confirmations = "Confirmations" // dims Outcome
	RateLimited   = "RateLimited"   // dims Limit
	SendFailures  = "SendFailures"  // dims Channel
	Bindings      = "Bindings"      // dims Channel
	Changes       = "Changes"       // dims Channel
	Unbinds       = "Unbinds"       // dims Channel
	Tickets       = "Tickets"       // tickets filed
)

// Units.
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
)

// Dim is one dimension of a metric.
type Dim struct{ Name, Value string }

// D is a shorthand for a Dim.
func D(name, value string) Dim { return Dim{Name: name, Value: value} }

// EMF writes one EMF line per data point. A nil *EMF records nothing, so a
// component can hold one unconditionally. Safe for concurrent use.
type EMF struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewEMF writes to w (stdout in Lambda); now nil means time.Now.
func NewEMF(w io.Writer, now func() time.Time) *EMF {
	if now == nil {
		now = time.Now
	}
	return &EMF{w: w, now: now}
}

// Count adds one to a counter.
func (m *EMF) Count(name string, dims ...Dim) { m.Put(name, 1, UnitCount, dims...) }

// Put records one value of a metric.
func (m *EMF) Put(name string, value float64, unit string, dims ...Dim) {
	if m == nil {
		return
	}
	line := map[string]any{"Service": Service, name: value}
	own := []string{"Service"}
	for _, d := range dims {
		if d.Value == "" {
			continue
		}
		line[d.Name] = d.Value
		own = append(own, d.Name)
	}
	sets := [][]string{{"Service"}}
	if len(own) > 1 {
		sets = append(sets, own)
	}
	line["_aws"] = map[string]any{
		"Timestamp": m.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": sets,
			"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	b = append(b, '\n')
	m.mu.Lock()
	defer m.mu.Unlock()
	// A lost metric line must never fail a request.
	_, _ = m.w.Write(b)
}
