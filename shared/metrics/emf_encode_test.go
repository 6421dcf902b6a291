package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"testing"
	"time"
)

// referenceLine is how Put used to build a line: a map encoded by
// encoding/json. The hand-written encoder must write the same bytes.
func referenceLine(name string, value float64, unit string, ts int64, dims []Dim) ([]byte, bool) {
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
		"Timestamp": ts,
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": sets,
			"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return nil, false
	}
	return append(b, '\n'), true
}

func checkLine(t *testing.T, name string, value float64, unit string, ts int64, dims []Dim) {
	t.Helper()
	want, ok := referenceLine(name, value, unit, ts, dims)
	var buf bytes.Buffer
	NewEMF(&buf, func() time.Time { return time.UnixMilli(ts) }).Put(name, value, unit, dims...)
	if !ok {
		if buf.Len() != 0 {
			t.Fatalf("Put(%q, %v) wrote %q; encoding/json refuses the value", name, value, buf.Bytes())
		}
		return
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("Put(%q, %v, %q, %q):\n got %s\nwant %s", name, value, unit, dims, buf.Bytes(), want)
	}
	if !json.Valid(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) {
		t.Fatalf("not valid JSON: %q", buf.Bytes())
	}
}

func TestEMFLineMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()
	for _, tc := range []struct {
		name  string
		value float64
		unit  string
		dims  []Dim
	}{
		{Requests, 1, UnitCount, []Dim{D("Route", "POST /v1/phone/verification"), D("Code", "ok")}},
		{Latency, 0.123, UnitMilliseconds, []Dim{D("Route", "GET /v1/phone")}},
		{Latency, 1234567.875, UnitMilliseconds, nil},
		{Latency, 1e21, UnitMilliseconds, nil},
		{Latency, 1e-7, UnitMilliseconds, nil},
		{Latency, -0.0000001, UnitMilliseconds, nil},
		{Latency, 0, UnitMilliseconds, nil},
		{Latency, math.Copysign(0, -1), UnitMilliseconds, nil},
		{Latency, math.MaxFloat64, UnitMilliseconds, nil},
		{Latency, math.SmallestNonzeroFloat64, UnitMilliseconds, nil},
		{Latency, math.NaN(), UnitMilliseconds, nil},
		{Latency, math.Inf(1), UnitMilliseconds, nil},
		{Latency, math.Inf(-1), UnitMilliseconds, nil},
		{Tickets, 1, UnitCount, nil},
		{RateLimited, 1, UnitCount, []Dim{D("Limit", "")}},
		{Confirmations, 1, UnitCount, []Dim{D("Outcome", "success"), D("Route", "POST /v1/phone/unbind")}},
		// What a map did with clashing keys: the later value wins, the
		// dimension set still names each.
		{Requests, 1, UnitCount, []Dim{D("Route", "a"), D("Route", "b")}},
		{Requests, 1, UnitCount, []Dim{D("Service", "other")}},
		{Requests, 1, UnitCount, []Dim{D("Requests", "shadowed")}},
		{"Service", 1, UnitCount, []Dim{D("x", "y")}},
		{"_aws", 1, UnitCount, []Dim{D("_aws", "y"), D("a", "b")}},
		{Requests, 1, UnitCount, []Dim{D("lower", "after _aws"), D("Zed", "z"), D("_", "u")}},
		// Escaping: quotes, control characters, HTML, invalid UTF-8, the
		// JavaScript line separators.
		{"we\"ird\\name", 2, "Co<u>nt&", []Dim{D("k\x00\x1f\n\t\b\f\r", "v<>&\u2028\u2029\xff\xfe"), D("ключ", "значение 😀")}},
	} {
		checkLine(t, tc.name, tc.value, tc.unit, ts, tc.dims)
	}
}

func FuzzEMFLine(f *testing.F) {
	f.Add("Requests", 1.0, "Count", "Route", "GET /v1/phone", "Code", "ok", int64(1795424400000))
	f.Add("Latency", 0.25, "Milliseconds", "Route", "", "Route", "x", int64(0))
	f.Add("a\"b", -1e-9, "<&>", "\u2028", "\xff", "_aws", "c", int64(-1))
	f.Fuzz(func(t *testing.T, name string, value float64, unit, d1, v1, d2, v2 string, ts int64) {
		checkLine(t, name, value, unit, ts, []Dim{D(d1, v1), D(d2, v2)})
		checkLine(t, name, value, unit, ts, []Dim{D(d1, v1)})
		checkLine(t, name, value, unit, ts, nil)
	})
}

func TestEMFPutAllocatesNothing(t *testing.T) {
	m := NewEMF(io.Discard, func() time.Time { return time.Unix(1795424400, 0) })
	route := "POST /v1/phone/verification"
	allocs := testing.AllocsPerRun(100, func() {
		m.Count(Requests, D("Route", route), D("Code", "ok"))
		m.Put(Latency, 1.5, UnitMilliseconds, D("Route", route))
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per two lines, want 0", allocs)
	}
}
