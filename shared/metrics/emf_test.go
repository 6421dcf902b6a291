package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

func TestEMFLineShape(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	m := NewEMF(&buf, func() time.Time { return at })
	m.Count(CodesSent, D("Channel", "sms"), D("Purpose", "bind"))

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	want := map[string]any{
		"Service": "phonebind", "Channel": "sms", "Purpose": "bind", "CodesSent": float64(1),
		"_aws": map[string]any{
			"Timestamp": float64(at.UnixMilli()),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "PhoneBinding",
				"Dimensions": []any{[]any{"Service"}, []any{"Service", "Channel", "Purpose"}},
				"Metrics":    []any{map[string]any{"Name": "CodesSent", "Unit": "Count"}},
			}},
		},
	}
	if !reflect.DeepEqual(line, want) {
		t.Fatalf("line =\n%v\nwant\n%v", line, want)
	}
	if !strings.HasSuffix(buf.String(), "}\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("not exactly one line: %q", buf.String())
	}
}

func TestEMFSkipsEmptyDimensionsAndParsesBack(t *testing.T) {
	var buf bytes.Buffer
	m := NewEMF(&buf, nil)
	m.Count(Tickets)
	m.Put(Latency, 12.5, UnitMilliseconds, D("Route", "GET /v1/phone"))
	m.Count(RateLimited, D("Limit", ""))
	buf.WriteString("a plain log line\n{\"msg\":\"json without _aws\"}\n")
	got, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{
		{Name: Tickets, Value: 1, Unit: UnitCount},
		{Name: Latency, Value: 12.5, Unit: UnitMilliseconds, Dims: "Route=GET /v1/phone"},
		{Name: RateLimited, Value: 1, Unit: UnitCount},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("points = %+v\nwant %+v", got, want)
	}
}

func TestNilEMFRecordsNothing(t *testing.T) {
	var m *EMF
	m.Count(Requests, D("Route", "x")) // must not panic
}

func TestEMFConcurrentLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer
	m := NewEMF(&buf, nil)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); m.Count(Requests, D("Route", "r"), D("Code", "ok")) }()
	}
	wg.Wait()
	got, err := Parse(&buf)
	if err != nil || len(got) != 50 {
		t.Fatalf("%d points, %v", len(got), err)
	}
}

func TestCountTicketsAndPhoneEvents(t *testing.T) {
	var buf bytes.Buffer
	m := NewEMF(&buf, nil)
	var passed []string
	next := publisherFunc(func(_ context.Context, name string, _ any) error { passed = append(passed, name); return nil })
	c := CountTickets{Next: next, Metrics: m}
	_ = c.Publish(context.Background(), "feedback.created", nil)
	_ = c.Publish(context.Background(), "feedback.updated", nil)
	_ = CountTickets{Metrics: m}.Publish(context.Background(), "feedback.created", nil)
	p := PhoneEvents{Metrics: m}
	_ = p.PhoneEvent(context.Background(), binding.PhoneEvent{Name: binding.EventNamePhoneChanged, Channel: binding.ChannelSMS})
	_ = p.PhoneEvent(context.Background(), binding.PhoneEvent{Name: binding.EventNamePhoneSupportUnbound, Channel: binding.ChannelSupport})
	got, _ := Parse(&buf)
	want := []Point{
		{Name: Tickets, Value: 1, Unit: UnitCount},
		{Name: Tickets, Value: 1, Unit: UnitCount},
		{Name: Changes, Value: 1, Unit: UnitCount, Dims: "Channel=sms"},
		{Name: Unbinds, Value: 1, Unit: UnitCount, Dims: "Channel=support"},
	}
	if !reflect.DeepEqual(got, want) || strings.Join(passed, ",") != "feedback.created,feedback.updated" {
		t.Fatalf("points %+v, passed %v", got, passed)
	}
}

type publisherFunc func(ctx context.Context, name string, event any) error

func (f publisherFunc) Publish(ctx context.Context, name string, event any) error {
	return f(ctx, name, event)
}
