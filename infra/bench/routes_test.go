package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/infra/lambdarun/stack"
	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/notify"
)

// The route benchmarks measure one whole invocation of each HTTP route in
// process, through the entry the function's main hands lambda.Start
// (wrapped by lambda.NewHandler as lambda.Start wraps it): the event's JSON
// decoded by aws-lambda-go, the route's handler (app.Handler; the unbind
// main routes it through the ops-event router, ops.Function), the domain
// service on the memory store with the default configuration, JSON logs and
// EMF metrics written (to io.Discard), and the response encoded. Every
// iteration is a different account, number and client address, as real
// traffic is, and every answer is checked. What it leaves out is the
// network: the Runtime API, DynamoDB, SNS (see the DynamoDB section of
// infra/BENCHMARKS.md).
//
//	go test -run '^$' -bench Route -benchmem -count 10 ./infra/bench | tee new.txt
//	benchstat old.txt new.txt

// routeScenario is one route's benchmark.
type routeScenario struct {
	// name is the sub-benchmark name (benchstat keys on it).
	name string
	// sample is the infra/events file whose event is the template.
	sample string
	// want is the HTTP status every iteration must answer with.
	want int
	// ops is true for a function whose main also takes ops events: its
	// entry is ops.Function, not the route's handler.
	ops bool
	// prepare makes n events, each valid once, on w's fresh service.
	prepare func(tb testing.TB, w *world, n int) []events.APIGatewayV2HTTPRequest
}

// routeScenarios are the routes with a benchmark; the report lists the
// template's routes that have none. The codes a scenario has sent count
// against CODES_GLOBAL_DAY (100,000 a day by default): RequestCode and
// ConfirmCode answer 429 global_day past 100,000 iterations.
var routeScenarios = []routeScenario{
	{name: "RequestCode", sample: "request-code.json", want: 202, prepare: prepareRequestCode},
	{name: "ConfirmCode", sample: "confirm-code.json", want: 200, prepare: prepareConfirm},
	{name: "Status", sample: "status.json", want: 200, prepare: prepareStatus},
	{name: "Unbind", sample: "unbind.json", want: 200, ops: true, prepare: prepareUnbind},
}

func BenchmarkRoute(b *testing.B) {
	for _, sc := range routeScenarios {
		b.Run(sc.name, func(b *testing.B) {
			w := newWorld(b)
			evs := sc.prepare(b, w, b.N)
			h := w.lambdaHandler(b, sc)
			payloads := make([][]byte, len(evs))
			for i, ev := range evs {
				payloads[i] = stack.Request{APIGatewayV2HTTPRequest: ev}.JSON()
			}
			want := []byte(`"statusCode":` + strconv.Itoa(sc.want) + `,`)
			ctx := context.Background()
			writeAllocs(b, sc.name+".before")
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				out, err := h.Invoke(ctx, payloads[i])
				if err != nil || !bytes.Contains(out, want) {
					b.Fatalf("%s #%d: %v %s", sc.name, i, err, out)
				}
			}
			b.StopTimer()
			writeAllocs(b, sc.name+".after")
		})
	}
	b.Run("ReadPhone", benchmarkReadPhone)
}

// readAccounts is how many accounts the read benchmark reads in turn, so
// that no one account's access log grows with b.N alone.
const readAccounts = 100

// readPhoneEvents binds readAccounts numbers and returns n read_phone
// events (autofill: allowed by default) over them, as a portal service
// sends them to PhoneReadFunction (infra/events/read-phone.json).
func readPhoneEvents(tb testing.TB, w *world, n int) [][]byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(w.root, "infra", "events", "read-phone.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var sample map[string]any
	if err := json.Unmarshal(raw, &sample); err != nil {
		tb.Fatal(err)
	}
	k := min(n, readAccounts)
	w.bind(tb, k)
	out := make([][]byte, n)
	for i := range n {
		sub, _, _ := account(i % k)
		sample["account_id"], sample["purpose"] = sub, "autofill"
		if out[i], err = json.Marshal(sample); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// benchmarkReadPhone is one read of the number through PhoneReadFunction's
// Lambda handler (its main's entry, wrapped as lambda.Start wraps it): the
// event decoded, the settings and the number read, the number opened, the
// access log written, the answer encoded.
func benchmarkReadPhone(b *testing.B) {
	w := newWorld(b)
	payloads := readPhoneEvents(b, w, b.N)
	h, err := w.app.Lambda("phone-read")
	if err != nil {
		b.Fatal(err)
	}
	lh := lambda.NewHandler(h)
	ctx := context.Background()
	writeAllocs(b, "ReadPhone.before")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out, err := lh.Invoke(ctx, payloads[i])
		if err != nil || !bytes.Contains(out, []byte(`"ok":true`)) {
			b.Fatalf("read #%d: %v %s", i, err, out)
		}
	}
	b.StopTimer()
	writeAllocs(b, "ReadPhone.after")
}

// TestReadPhoneScenario keeps the read benchmark working under go test.
func TestReadPhoneScenario(t *testing.T) {
	if got := sampleFor("ReadPhone"); got != "read-phone.json" {
		t.Fatalf("the report finds the read's benchmark by its sample; sampleFor(ReadPhone) = %s", got)
	}
	w := newWorld(t)
	h, err := w.app.Lambda("phone-read")
	if err != nil {
		t.Fatal(err)
	}
	lh := lambda.NewHandler(h)
	for i, payload := range readPhoneEvents(t, w, 3) {
		out, err := lh.Invoke(context.Background(), payload)
		if err != nil || !bytes.Contains(out, []byte(`"ok":true`)) || !bytes.Contains(out, []byte(`"phone":"+791`)) {
			t.Fatalf("#%d: %v %s", i, err, out)
		}
	}
}

// allocProfiles, when set (the bench driver sets it, with
// -memprofilerate=1), is a directory where each route benchmark writes the
// allocs profile just before and just after its timed loop: their
// difference (go tool pprof -base) is what the handler alone allocated,
// without the preparation.
var allocProfiles = os.Getenv("BENCH_ALLOC_PROFILES")

func writeAllocs(b *testing.B, name string) {
	if allocProfiles == "" {
		return
	}
	runtime.GC() // publishes the allocations made since the last cycle
	f, err := os.Create(filepath.Join(allocProfiles, name+".pprof"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// TestRouteScenarios runs every benchmark scenario a few times, so that
// `go test ./...` keeps them working.
func TestRouteScenarios(t *testing.T) {
	for _, sc := range routeScenarios {
		t.Run(sc.name, func(t *testing.T) {
			// The report finds a benchmark's route through its sample.
			if got := sampleFor(sc.name); got != sc.sample {
				t.Fatalf("benchmark %s starts from %s; name it after its sample (%s) or the report cannot find its route", sc.name, sc.sample, got)
			}
			w := newWorld(t)
			h := w.lambdaHandler(t, sc)
			for i, ev := range sc.prepare(t, w, 3) {
				out, err := h.Invoke(context.Background(), stack.Request{APIGatewayV2HTTPRequest: ev}.JSON())
				if err != nil {
					t.Fatal(err)
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != sc.want {
					t.Fatalf("#%d: %d, want %d: %s", i, resp.StatusCode, sc.want, out)
				}
			}
		})
	}
}

// world is one service assembled as the functions assemble it, on the
// memory store, with a clock the scenarios move.
type world struct {
	app     *core.App
	outbox  *notify.Outbox
	now     atomic.Pointer[time.Time]
	samples map[string]stack.Sample
	routes  []template.Route
	root    string
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	root, err := template.FindRoot()
	if err != nil {
		tb.Fatal(err)
	}
	w := &world{root: root, samples: map[string]stack.Sample{}}
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	w.now.Store(&start)
	clock := func() time.Time { return *w.now.Load() }
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	w.outbox = notify.NewOutbox(nil, clock)
	w.app, err = app.New(context.Background(), cfg, core.Options{
		Local:   true,
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Outbox:  w.outbox,
		Clock:   clock,
		Metrics: io.Discard,
	})
	if err != nil {
		tb.Fatal(err)
	}
	samples, err := stack.Samples(root)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range samples {
		w.samples[s.Name] = s
	}
	tpl, err := template.Load(root + "/" + template.FileName)
	if err != nil {
		tb.Fatal(err)
	}
	w.routes = tpl.Routes()
	return w
}

func (w *world) advance(d time.Duration) {
	t := w.now.Load().Add(d)
	w.now.Store(&t)
}

func (w *world) event(tb testing.TB, name string) stack.Request {
	tb.Helper()
	s, ok := w.samples[name]
	if !ok {
		tb.Skipf("infra/events/%s is gone", name)
	}
	ev, err := s.HTTP()
	if err != nil {
		tb.Fatal(err)
	}
	return stack.NewRequest(ev)
}

// functionOf is the function template.yaml routes the sample's route to.
func (w *world) functionOf(tb testing.TB, sample string) string {
	tb.Helper()
	key := w.samples[sample].RouteKey
	for _, rt := range w.routes {
		if rt.Key() == key {
			return rt.FunctionID
		}
	}
	tb.Fatalf("template.yaml has no route %q", key)
	return ""
}

// handler is the typed handler of the sample's route.
func (w *world) handler(tb testing.TB, sample string) httpapi.Handler {
	tb.Helper()
	h, err := w.app.Handler(w.functionOf(tb, sample))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// lambdaHandler is what the scenario's main hands lambda.Start (the
// route's handler, or the ops-event router over it), wrapped as
// lambda.Start wraps it: JSON in, JSON out.
func (w *world) lambdaHandler(tb testing.TB, sc routeScenario) lambda.Handler {
	tb.Helper()
	if !sc.ops {
		return lambda.NewHandler(w.handler(tb, sc.sample))
	}
	h, err := w.app.Lambda(w.functionOf(tb, sc.sample))
	if err != nil {
		tb.Fatal(err)
	}
	return lambda.NewHandler(h)
}

// call runs a route directly, for preparing state.
func (w *world) call(tb testing.TB, sample string, r stack.Request, want int) map[string]any {
	tb.Helper()
	resp, err := w.handler(tb, sample)(context.Background(), r.APIGatewayV2HTTPRequest)
	if err != nil || resp.StatusCode != want {
		tb.Fatalf("%s: %d %v, want %d: %s", r.RouteKey, resp.StatusCode, err, want, resp.Body)
	}
	var body map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &body)
	return body
}

// account i's identity: its own number, number range (the number without
// its last four digits) and client address, so that no limit (per account,
// number, range or address) is reached by the benchmark.
func account(i int) (sub, number, ip string) {
	return fmt.Sprintf("bench-%d", i), fmt.Sprintf("+791%04d%04d", i%10_000, i/10_000%10_000),
		fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// codes maps each number to the code of the newest SMS it got.
func (w *world) codes() map[string]string {
	out := map[string]string{}
	for _, m := range w.outbox.Messages() {
		if c := codeRE.FindString(m.Body); c != "" {
			out[m.To] = c
		}
	}
	return out
}

func bindBody(number string) string {
	return fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, number)
}

func confirmBody(id, code string) string {
	return fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, code)
}

func prepareRequestCode(tb testing.TB, w *world, n int) []events.APIGatewayV2HTTPRequest {
	base := w.event(tb, "request-code.json")
	evs := make([]events.APIGatewayV2HTTPRequest, n)
	for i := range n {
		sub, number, ip := account(i)
		evs[i] = base.As(sub).SignedInAt(*w.now.Load()).From(ip).WithBody(bindBody(number)).APIGatewayV2HTTPRequest
	}
	return evs
}

// requestCodes has n accounts request a bind code and returns their
// verification ids.
func (w *world) requestCodes(tb testing.TB, n int, body func(number string) string) []string {
	base := w.event(tb, "request-code.json")
	ids := make([]string, n)
	for i := range n {
		sub, number, ip := account(i)
		r := w.call(tb, "request-code.json", base.As(sub).SignedInAt(*w.now.Load()).From(ip).WithBody(body(number)), 202)
		ids[i], _ = r["verification_id"].(string)
	}
	return ids
}

func (w *world) confirmEvents(tb testing.TB, sample string, ids []string) []events.APIGatewayV2HTTPRequest {
	base := w.event(tb, sample)
	codes := w.codes()
	evs := make([]events.APIGatewayV2HTTPRequest, len(ids))
	for i, id := range ids {
		sub, number, _ := account(i)
		evs[i] = base.As(sub).SignedInAt(*w.now.Load()).WithBody(confirmBody(id, codes[number])).APIGatewayV2HTTPRequest
	}
	return evs
}

func prepareConfirm(tb testing.TB, w *world, n int) []events.APIGatewayV2HTTPRequest {
	return w.confirmEvents(tb, "confirm-code.json", w.requestCodes(tb, n, bindBody))
}

// bind gives n accounts a verified number.
func (w *world) bind(tb testing.TB, n int) {
	for _, ev := range prepareConfirm(tb, w, n) {
		w.call(tb, "confirm-code.json", stack.Request{APIGatewayV2HTTPRequest: ev}, 200)
	}
	// Into the next day: past the resend cooldown of the bind codes, and
	// with the day's limits (CODES_GLOBAL_DAY above all, which n bind codes
	// and then n unbind codes would reach for n near 50,000) counting
	// afresh.
	w.advance(24 * time.Hour)
}

func prepareStatus(tb testing.TB, w *world, n int) []events.APIGatewayV2HTTPRequest {
	w.bind(tb, 1)
	sub, _, _ := account(0)
	ev := w.event(tb, "status.json").As(sub).SignedInAt(*w.now.Load()).APIGatewayV2HTTPRequest
	evs := make([]events.APIGatewayV2HTTPRequest, n)
	for i := range evs {
		evs[i] = ev
	}
	return evs
}

func prepareUnbind(tb testing.TB, w *world, n int) []events.APIGatewayV2HTTPRequest {
	w.bind(tb, n)
	ids := w.requestCodes(tb, n, func(string) string { return `{"purpose":"unbind","channel":"sms"}` })
	return w.confirmEvents(tb, "unbind.json", ids)
}
