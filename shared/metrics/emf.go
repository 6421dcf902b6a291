// Package metrics writes CloudWatch metrics as Embedded Metric Format log
// lines: Lambda sends stdout to CloudWatch Logs, which extracts the metrics
// from them with no API call on the request path and no extra permission.
package metrics

import (
	"encoding/json"
	"io"
	"math"
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
	// NumberFailuresLocked counts codes refused for a number's wrong codes
	// of the day (Outcome "refused") and codes its owner got although the
	// count was over (Outcome "owner_spared"). dims Outcome
	NumberFailuresLocked = "NumberFailuresLocked"
	// LimitHalfUsed counts codes sent past half a cap (Limit "prefix_day":
	// a number range's codes of the day). dims Limit
	LimitHalfUsed = "LimitHalfUsed"
	// OwnerSpared counts codes to a number's owner past a per-number limit
	// it is not held to (Limit "phone_day": the number's codes of the day,
	// which others can spend with bind requests). dims Limit
	OwnerSpared = "OwnerSpared"
	// DueUnbindFailures counts due holds the complete_due_unbinds job
	// could not see through (binding.SignalDueUnbindFailed); the next run
	// tries again. No dims
	DueUnbindFailures = "DueUnbindFailures"
	// PhoneReads counts the numbers portal services read (SPEC §4.8).
	// dims Purpose
	PhoneReads = "PhoneReads"
	// PhoneReadsRefused counts reads that returned no number, by Reason
	// (no_phone_bound, not_allowed, approval_required, invalid_request,
	// conflict): a partner asking again and again shows here. dims Reason
	PhoneReadsRefused = "PhoneReadsRefused"
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

// Put records one value of a metric as one line, the JSON document
//
//	{"Service": Service, name: value, dim.Name: dim.Value…,
//	 "_aws": {"Timestamp": ms, "CloudWatchMetrics": [{"Namespace": Namespace,
//	   "Dimensions": [["Service"], ["Service", dim.Name…]],
//	   "Metrics": [{"Name": name, "Unit": unit}]}]}}
//
// (a later key replaces an earlier one of the same name, dimensions with an
// empty value are left out, nothing is written for a NaN or infinite value).
func (m *EMF) Put(name string, value float64, unit string, dims ...Dim) {
	if m == nil || math.IsNaN(value) || math.IsInf(value, 0) {
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
	dimensions := [][]string{{"Service"}}
	if len(own) > 1 {
		dimensions = append(dimensions, own)
	}
	line["_aws"] = awsMeta{
		Timestamp: m.now().UnixMilli(),
		CloudWatchMetrics: []metricDirective{{
			Namespace:  Namespace,
			Dimensions: dimensions,
			Metrics:    []metricDef{{Name: name, Unit: unit}},
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return // only a programming error; a lost metric must never fail a request
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(b, '\n'))
}

// awsMeta is an EMF line's "_aws" member.
type awsMeta struct {
	CloudWatchMetrics []metricDirective `json:"CloudWatchMetrics"`
	Timestamp         int64             `json:"Timestamp"`
}

type metricDirective struct {
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
	Namespace  string      `json:"Namespace"`
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}
