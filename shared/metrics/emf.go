// Package metrics writes CloudWatch metrics as Embedded Metric Format log
// lines: Lambda sends stdout to CloudWatch Logs, which extracts the metrics
// from them with no API call on the request path and no extra permission.
package metrics

import (
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
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
	buf []byte // the line being written, reused under mu
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

// maxKeptLine is the largest line buffer kept for the next line.
const maxKeptLine = 16 << 10

// Put records one value of a metric.
//
// The line is the JSON document json.Marshal made of
//
//	{"Service": Service, name: value, dim.Name: dim.Value…,
//	 "_aws": {"Timestamp": ms, "CloudWatchMetrics": [{"Namespace": Namespace,
//	   "Dimensions": [["Service"], ["Service", dim.Name…]],
//	   "Metrics": [{"Name": name, "Unit": unit}]}]}}
//
// byte for byte (keys sorted, a later key replacing an earlier one of the
// same name, dimensions with an empty value left out, nothing written for a
// NaN or infinite value), appended to a buffer the EMF reuses.
func (m *EMF) Put(name string, value float64, unit string, dims ...Dim) {
	if m == nil || math.IsNaN(value) || math.IsInf(value, 0) {
		return
	}
	ts := m.now().UnixMilli()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := appendLine(m.buf[:0], name, value, unit, ts, dims)
	// A lost metric line must never fail a request.
	_, _ = m.w.Write(b)
	if cap(b) <= maxKeptLine {
		m.buf = b
	}
}

// lineKey is one top-level member of an EMF line.
type lineKey struct {
	key   string
	value string // a string member's value
	kind  uint8
}

const (
	kindString uint8 = iota
	kindValue        // the metric's value
	kindAWS          // the _aws metadata
)

// awsKey is the member that carries the EMF metadata.
const awsKey = "_aws"

// appendLine appends one EMF line (with its newline) to dst.
func appendLine(dst []byte, name string, value float64, unit string, ts int64, dims []Dim) []byte {
	var arr [8]lineKey
	keys := arr[:0]
	// As the map the line used to be built in: later keys replace earlier
	// ones, and _aws, set last, replaces any member of that name.
	set := func(k lineKey) {
		if k.key == awsKey {
			return
		}
		for i := range keys {
			if keys[i].key == k.key {
				keys[i] = k
				return
			}
		}
		keys = append(keys, k)
	}
	set(lineKey{key: "Service", value: Service})
	set(lineKey{key: name, kind: kindValue})
	own := 1 // "Service" and the names of the dimensions with a value
	for _, d := range dims {
		if d.Value == "" {
			continue
		}
		set(lineKey{key: d.Name, value: d.Value})
		own++
	}
	keys = append(keys, lineKey{key: awsKey, kind: kindAWS})
	// Sorted as encoding/json sorts map keys (insertion sort: a handful).
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j].key < keys[j-1].key; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}

	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonx.AppendString(dst, k.key, true)
		dst = append(dst, ':')
		switch k.kind {
		case kindString:
			dst = jsonx.AppendString(dst, k.value, true)
		case kindValue:
			dst, _ = jsonx.AppendFloat(dst, value) // finite: Put checked
		case kindAWS:
			dst = append(dst, `{"CloudWatchMetrics":[{"Dimensions":[["Service"]`...)
			if own > 1 {
				dst = append(dst, `,["Service"`...)
				for _, d := range dims {
					if d.Value == "" {
						continue
					}
					dst = append(dst, ',')
					dst = jsonx.AppendString(dst, d.Name, true)
				}
				dst = append(dst, ']')
			}
			dst = append(dst, `],"Metrics":[{"Name":`...)
			dst = jsonx.AppendString(dst, name, true)
			dst = append(dst, `,"Unit":`...)
			dst = jsonx.AppendString(dst, unit, true)
			dst = append(dst, `}],"Namespace":`...)
			dst = jsonx.AppendString(dst, Namespace, true)
			dst = append(dst, `}],"Timestamp":`...)
			dst = strconv.AppendInt(dst, ts, 10)
			dst = append(dst, '}')
		}
	}
	return append(dst, '}', '\n')
}
