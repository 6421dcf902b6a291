package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/lambdarun/stack"
	"github.com/gosuslugi/phonebind/infra/template"
)

// durations is n copies of d, for a median of d.
func durations(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// fixedReport is a run with made-up numbers: every table has rows, one
// target is missed (cold start) and one revision is compared.
func fixedReport() *report {
	op := func(name, function, pattern string, wru float64, d time.Duration) *opStats {
		return &opStats{name: name, function: function, calls: map[string]int{pattern: 3},
			read: []float64{1}, write: []float64{wru}, localRead: []float64{1}, localWrt: []float64{4}, checks: []float64{1},
			durations: durations(d, 3)}
	}
	return &report{
		machine:   machine{cpu: "Test CPU", os: "Testix", kernel: "6.0", arch: "linux/amd64", goVersion: "go1.26.8", cpus: 2, memGiB: 8, load: "0.50"},
		date:      time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC),
		opts:      options{starts: 25, verifications: 3, count: 6, benchtime: "1s", against: "abc1234"},
		elapsed:   3 * time.Minute,
		loadAfter: "0.70",
		buildTime: 10 * time.Second,
		fns: []stack.Function{
			{Dir: "status", LogicalID: "StatusFunction", MemoryMB: 256},
			{Dir: "request-code", LogicalID: "RequestCodeFunction", MemoryMB: 256},
			{Dir: "confirm-code", LogicalID: "ConfirmCodeFunction", MemoryMB: 256},
		},
		sizes: map[string]int64{"HelloWorld": 6_000_000, "StatusFunction": 9_000_000, "RequestCodeFunction": 11_000_000,
			"ConfirmCodeFunction": 11_500_000, "StatusFunction@abc1234": 9_100_000, floorName: 8_000_000, floorSDKName: 10_000_000},
		sizeByModule: sizeAttribution{function: "ConfirmCodeFunction", text: 5_000_000,
			modules: []moduleSize{{"Go standard library", 3_000_000}, {"github.com/aws/smithy-go", 500_000}}},
		clients: map[string][]string{"StatusFunction": {"dynamodb"}, "RequestCodeFunction": {"dynamodb", "secretsmanager", "sns"}},
		cold: []coldResult{
			{name: "HelloWorld", inits: durations(10*time.Millisecond, 25)},
			{name: "StatusFunction", inits: durations(14*time.Millisecond, 25)},
			{name: "RequestCodeFunction", inits: durations(30*time.Millisecond, 25)},
			{name: "ConfirmCodeFunction", inits: durations(28*time.Millisecond, 25)},
		},
		floor:      coldResult{name: floorName, inits: durations(20*time.Millisecond, 25)},
		floorSDK:   coldResult{name: floorSDKName, inits: durations(23*time.Millisecond, 25)},
		baseCold:   []coldResult{{name: "StatusFunction@abc1234", inits: durations(13*time.Millisecond, 25)}},
		baseRoutes: map[string]*routeStats{"Status": {name: "Status", ns: []float64{30_000}, allocs: []float64{200}}},
		initTrace: map[string]initTrace{
			"HelloWorld":          {total: 3 * time.Millisecond, top: []pkgInit{{"internal/godebug", 400 * time.Microsecond}}},
			"RequestCodeFunction": {total: 13 * time.Millisecond, top: []pkgInit{{"github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas", 2900 * time.Microsecond}}},
		},
		secretFetch: 2840 * time.Microsecond,
		ops: map[string]*opStats{
			opRequestCode: op(opRequestCode, "RequestCodeFunction", "Query + TransactWriteItems[4]", 8, 25*time.Millisecond),
			opConfirm:     op(opConfirm, "ConfirmCodeFunction", "UpdateItem + TransactWriteItems[4]", 9, 30*time.Millisecond),
			opStatus:      op(opStatus, "StatusFunction", "Query", 0, 8*time.Millisecond),
			opUnbind:      op(opUnbind, "UnbindFunction", "UpdateItem + TransactWriteItems[3]", 7, 28*time.Millisecond),
		},
		logBytes: map[string]float64{"RequestCodeFunction": 900, "ConfirmCodeFunction": 1000, "StatusFunction": 500},
		routes: map[string]*routeStats{
			"Status":      {name: "Status", ns: []float64{36_500}, bytes: []float64{20_000}, allocs: []float64{250}, route: "GET /v1/phone", owner: "StatusFunction"},
			"RequestCode": {name: "RequestCode", ns: []float64{51_900}, bytes: []float64{40_000}, allocs: []float64{400}, route: "POST /v1/phone/verification", owner: "RequestCodeFunction"},
		},
		allocs:    map[string][]allocShare{"Status": {{"store", 120}, {"HTTP layer", 100}}},
		benchRaw:  "goos: linux\nBenchmarkRoute/Status-2   30000   36500 ns/op   20000 B/op   250 allocs/op\nPASS\nok  \tx\t1s\n",
		uncovered: []template.Route{{FunctionID: "FeedbackFunction", Method: "GET", Path: "/v1/feedback"}},
	}
}

// The generated report is tables and the command, machine and date lines:
// no paragraph of explanation (those are docs/benchmarks.md's), and the
// figures it derives are the ones the numbers give.
func TestReportIsTables(t *testing.T) {
	for name, md := range map[string]string{"full": fixedReport().markdown(), "cold": fixedReport().coldMarkdown()} {
		t.Run(name, func(t *testing.T) {
			inCode := false
			for i, line := range strings.Split(md, "\n") {
				switch {
				case strings.HasPrefix(line, "```"):
					inCode = !inCode
				case inCode, line == "", strings.HasPrefix(line, "#"), strings.HasPrefix(line, "|"),
					strings.HasPrefix(line, "- Command: "), strings.HasPrefix(line, "- Machine: "), strings.HasPrefix(line, "- Date: "):
				case strings.HasSuffix(line, ":") && len(line) < 120:
					// A table's caption.
				case strings.Contains(line, "[docs/benchmarks.md](../docs/benchmarks.md)"):
				default:
					t.Errorf("line %d is prose, not a table: %q", i+1, line)
				}
			}
			for _, want := range []string{
				"- Command: `go run ./infra/bench -starts 25",
				"-against abc1234`",
				"- Machine: Test CPU, 2 CPUs, 8 GiB RAM, Testix (kernel 6.0), linux/amd64; go1.26.8",
				"- Date: 2026-12-04; the run took 3m0s (builds 10s); load average 0.50 at the start, 0.70 at the end",
				// RequestCodeFunction: 30 ms against 10 ms.
				"| cold start | init ≤ 1.5× the hello-world's | 3.0× (RequestCodeFunction: 30.0 ms, hello-world 10.0 ms; medians of 25 interleaved starts) | **missed** by 2.0× |",
				"| binary size | ≤ 20.0 MB | 11.5 MB (ConfirmCodeFunction; hello-world 6.0 MB) | met |",
				"| GetSecretValue round trip to moto (median of 20) | 2.84 ms |",
				"saves 3.00 ms of init and 2.0 MB (bar 2.00 ms: keep it)",
				"| StatusFunction | 13.0 ms | 14.0 ms | +1.00 ms | 9.1 MB | 9.0 MB | met |",
			} {
				if name == "cold" && strings.HasPrefix(want, "| StatusFunction") {
					continue
				}
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q", want)
				}
			}
		})
	}
	full := fixedReport().markdown()
	for _, want := range []string{
		"| status | 1 read call | 1 (Query) | met |",
		"| request-code | ≤ 2 DynamoDB calls | 2 (Query + TransactWriteItems[4]) | met |",
		"| `GET /v1/feedback` | FeedbackFunction |",
		"| `GET /v1/phone` | StatusFunction | 36,500 | 20,000 | 250 | store 120; HTTP layer 100 |",
		"| Status | 30,000 | 36,500 | +6.5 µs | 200 | 250 | met |",
		"BenchmarkRoute/Status-2",
	} {
		if !strings.Contains(full, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(full, "Where a target is missed") {
		t.Error("the report still explains its misses; docs/benchmarks.md does")
	}
}
