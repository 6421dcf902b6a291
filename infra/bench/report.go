package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
	"github.com/gosuslugi/phonebind/infra/lambdarun/stack"
	"github.com/gosuslugi/phonebind/infra/template"
)

// report is everything one run measured.
type report struct {
	machine      machine
	date         time.Time
	opts         options
	elapsed      time.Duration
	loadAfter    string
	buildTime    time.Duration
	fns          []stack.Function
	sizes        map[string]int64
	sizeByModule sizeAttribution
	clients      map[string][]string // the AWS SDK clients each function links
	cold         []coldResult        // hello-world first
	floor        coldResult          // infra/bench/floor, started among them
	floorSDK     coldResult          // the same, with the SDK's config.LoadDefaultConfig
	baseRoot     string              // -against: the revision's worktree
	baseCold     []coldResult        // -against: its bootstraps, started in the same rounds
	baseRoutes   map[string]*routeStats
	initTrace    map[string]initTrace
	secretFetch  time.Duration
	ops          map[string]*opStats
	logBytes     map[string]float64
	routes       map[string]*routeStats
	allocs       map[string][]allocShare
	benchRaw     string
	uncovered    []template.Route
}

// sampleFor is the infra/events file a route benchmark starts from:
// RequestCode → request-code.json (routes_test.go keeps to it).
func sampleFor(bench string) string {
	var b strings.Builder
	for i, r := range bench {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String() + ".json"
}

// coverRoutes maps each route benchmark to its route and function, and
// notes the template's routes that have none.
func (r *report) coverRoutes(routes []template.Route, samples []stack.Sample) {
	keyOf := map[string]string{}
	for _, s := range samples {
		keyOf[s.Name] = s.RouteKey
	}
	covered := map[string]bool{}
	for _, s := range r.routes {
		s.sample = sampleFor(s.name)
		s.route = keyOf[s.sample]
		if s.route == "" && s.sample == "read-phone.json" {
			s.route, s.owner = readRoute, readFunction // reads.go
		}
		covered[s.route] = true
		for _, rt := range routes {
			if rt.Key() == s.route {
				s.owner = rt.FunctionID
			}
		}
	}
	for _, rt := range routes {
		if !covered[rt.Key()] {
			r.uncovered = append(r.uncovered, rt)
		}
	}
}

// --- derived figures ---------------------------------------------------------

func (r *report) hello() coldResult { return r.cold[0] }

// worstInit is the function with the highest init ratio to the hello-world.
func (r *report) worstInit() (coldResult, float64) {
	h := median(r.hello().inits)
	var worst coldResult
	ratio := 0.0
	for _, c := range r.cold[1:] {
		if q := float64(median(c.inits)) / float64(h); q > ratio {
			worst, ratio = c, q
		}
	}
	return worst, ratio
}

func (r *report) largestBinary() (string, int64) {
	name, size := "", int64(0)
	for _, fn := range r.fns {
		if s := r.sizes[fn.Name()]; s > size {
			name, size = fn.Name(), s
		}
	}
	return name, size
}

func (r *report) routeNames() []string {
	var names []string
	for n := range r.routes {
		names = append(names, n)
	}
	order := map[string]int{"RequestCode": 0, "ConfirmCode": 1, "Status": 2, "Unbind": 3}
	slices.SortFunc(names, func(a, b string) int {
		oa, ok := order[a]
		if !ok {
			oa = 99
		}
		ob, ok := order[b]
		if !ok {
			ob = 99
		}
		if oa != ob {
			return oa - ob
		}
		return strings.Compare(a, b)
	})
	return names
}

// memoryGB is the memory the priced functions are configured with.
func (r *report) memoryGB(function string) float64 {
	for _, fn := range r.fns {
		if fn.Name() == function {
			return float64(fn.MemoryMB) / 1024
		}
	}
	return float64(lambdarun.DefaultMemoryMB) / 1024
}

// verificationOps are the three calls of one completed verification.
var verificationOps = []string{opRequestCode, opConfirm, opStatus}

// costLine is one row of the dollars table.
type costLine struct {
	item, quantity, price string
	perMillion            float64
}

// dollars prices one million completed verifications.
func (r *report) dollars() ([]costLine, float64) {
	var gbs, initGBs, wru, rru float64
	var billed []string
	for _, name := range verificationOps {
		op := r.ops[name]
		ms := lambdarun.Billed(median(op.durations)).Milliseconds()
		gb := r.memoryGB(op.function)
		gbs += float64(ms) / 1000 * gb
		billed = append(billed, fmt.Sprintf("%d", ms))
		for _, c := range r.cold[1:] {
			if c.name == op.function {
				initGBs += coldStartShare * float64(lambdarun.Billed(median(c.inits)).Milliseconds()) / 1000 * gb
			}
		}
		wru += median(op.write)
		rru += median(op.read)
	}
	gb := r.memoryGB(r.ops[opStatus].function)
	lines := []costLine{
		{"API Gateway HTTP API requests", "3", "$1.00 / M", 3 * priceHTTPAPIRequest * 1e6},
		{"Lambda requests", "3", "$0.20 / M", 3 * priceLambdaRequest * 1e6},
		{"Lambda duration (handler)", fmt.Sprintf("%s ms billed × %.2f GB = %.5f GB-s", strings.Join(billed, " + "), gb, gbs), "$0.0000133334 / GB-s", gbs * priceLambdaGBSecondARM * 1e6},
		{fmt.Sprintf("Lambda init (%.0f%% of invocations cold)", coldStartShare*100), fmt.Sprintf("%.6f GB-s", initGBs), "$0.0000133334 / GB-s", initGBs * priceLambdaGBSecondARM * 1e6},
		{"DynamoDB writes", fmt.Sprintf("%s WRU", num(wru)), "$0.625 / M WRU", wru * priceDynamoWRU * 1e6},
		{"DynamoDB reads", fmt.Sprintf("%s RRU", num(rru)), "$0.125 / M RRU", rru * priceDynamoRRU * 1e6},
	}
	total := 0.0
	for _, l := range lines {
		total += l.perMillion
	}
	return lines, total
}

// --- formatting ----------------------------------------------------------------

func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f ms", f)
	case f >= 10:
		return fmt.Sprintf("%.1f ms", f)
	default:
		return fmt.Sprintf("%.2f ms", f)
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func num(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

func usd(f float64) string {
	switch {
	case f >= 1000:
		return "$" + thousands(int64(math.Round(f)))
	case f >= 0.1:
		return fmt.Sprintf("$%.2f", f)
	default:
		return fmt.Sprintf("$%.4f", f)
	}
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func verdict(met bool, miss string) string {
	if met {
		return "met"
	}
	return "**missed** " + miss
}

// --- the report ------------------------------------------------------------------

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.machine
	p("# Speed and cost\n\n")
	p("Measured by `make bench` (`infra/bench`) on %s: %s, %d CPUs, %.0f GiB RAM, %s (kernel %s), %s; %s. "+
		"DynamoDB Local and moto ran on the same machine. The run took %s (builds %s); the load average was %s when it began and %s when it ended.\n\n",
		r.date.Format("2006-01-02"), m.cpu, m.cpus, m.memGiB, m.os, m.kernel, m.arch, m.goVersion,
		r.elapsed.Round(time.Second), r.buildTime.Round(time.Second), m.load, r.loadAfter)
	p("The bootstraps are built as `sam build` builds them (`CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags=\"-s -w\"`) but for this machine's architecture; " +
		"Lambda runs them on arm64 with a fraction of a CPU (256 MB is about 0.15 vCPU), so absolute times there are longer. Ratios, sizes, allocations, DynamoDB units and dollars carry over.\n\n")

	r.targets(p)
	r.coldSection(p)
	r.routeSection(p)
	r.dynamoSection(p)
	r.dollarSection(p)
	r.readSection(p) // reads.go
	r.whySection(p)
	r.againstSection(p)

	p("## Reproduce\n\n")
	p("```sh\nmake bench                         # emulators up, everything below, rewrites infra/BENCHMARKS.md\n")
	p("go test -run '^$' -bench Route -benchmem -count 10 ./infra/bench > new.txt   # handler cost only\n")
	p("benchstat old.txt new.txt           # golang.org/x/perf/cmd/benchstat\n```\n\n")
	p("Raw route benchmark output of this run (`-count %d -benchtime %s`), benchstat's input format:\n\n```text\n%s```\n",
		r.opts.count, r.opts.benchtime, rawBench(r.benchRaw))
	return b.String()
}

// coldMarkdown is the part of the report a -cold run measures: the two
// cold-start targets and the cold start section.
func (r *report) coldMarkdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.machine
	p("# Cold start and size (bench -cold)\n\n%s, %d CPUs, %s; %s; load average %s at the start, %s at the end; %s in all.\n\n",
		m.cpu, m.cpus, m.arch, m.goVersion, m.load, r.loadAfter, r.elapsed.Round(time.Second))
	hello := median(r.hello().inits)
	worst, ratio := r.worstInit()
	bigName, big := r.largestBinary()
	p("| | target | measured | |\n|---|---|---|---|\n")
	p("| cold start | init ≤ %.1f× the hello-world's | %.1f× (%s: %s, hello-world %s; medians of %d interleaved starts) | %s |\n",
		targetInitRatio, ratio, worst.name, ms(median(worst.inits)), ms(hello), len(r.hello().inits),
		verdict(ratio <= targetInitRatio, fmt.Sprintf("by %.1f×", ratio/targetInitRatio)))
	p("| binary size | ≤ %s | %s (%s; hello-world %s) | %s |\n\n", mb(targetBinaryBytes), mb(big), bigName, mb(r.sizes[r.hello().name]),
		verdict(big <= targetBinaryBytes, fmt.Sprintf("by %s (+%.0f%%)", mb(big-targetBinaryBytes), 100*float64(big-targetBinaryBytes)/targetBinaryBytes)))
	r.coldSection(p)
	r.againstSection(p)
	return b.String()
}

// rawBench keeps the lines benchstat reads.
func rawBench(out string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "goos:") || strings.HasPrefix(line, "goarch:") ||
			strings.HasPrefix(line, "pkg:") || strings.HasPrefix(line, "cpu:") {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	return b.String()
}

type printer func(format string, args ...any)

func (r *report) targets(p printer) {
	hello := median(r.hello().inits)
	worst, ratio := r.worstInit()
	bigName, big := r.largestBinary()
	status, confirm, request := r.ops[opStatus], r.ops[opConfirm], r.ops[opRequestCode]
	statusReads := status.count("Query") + status.count("GetItem")
	_, total := r.dollars()

	p("## Targets\n\n")
	p("| | target | measured | |\n|---|---|---|---|\n")
	p("| cold start | init ≤ %.1f× the hello-world's | %.1f× (%s: %s, hello-world %s; medians of %d interleaved starts) | %s |\n",
		targetInitRatio, ratio, worst.name, ms(median(worst.inits)), ms(hello), len(r.hello().inits),
		verdict(ratio <= targetInitRatio, fmt.Sprintf("by %.1f×", ratio/targetInitRatio)))
	p("| binary size | ≤ %s | %s (%s; hello-world %s) | %s |\n", mb(targetBinaryBytes), mb(big), bigName, mb(r.sizes[r.hello().name]),
		verdict(big <= targetBinaryBytes, fmt.Sprintf("by %s (+%.0f%%)", mb(big-targetBinaryBytes), 100*float64(big-targetBinaryBytes)/targetBinaryBytes)))
	sp, _ := status.pattern()
	p("| status | 1 read call | %d (%s) | %s |\n", status.calls1(), sp, verdict(status.calls1() == 1 && statusReads == 1, fmt.Sprintf("by %d calls", status.calls1()-1)))
	cp, _ := confirm.pattern()
	p("| successful confirm | 1 transaction | %d TransactWriteItems (all calls: %s) | %s |\n", confirm.count("TransactWriteItems"), cp,
		verdict(confirm.count("TransactWriteItems") == 1, fmt.Sprintf("%d transactions", confirm.count("TransactWriteItems"))))
	rp, _ := request.pattern()
	p("| request-code | ≤ %d DynamoDB calls | %d (%s) | %s |\n", targetRequestCodeOps, request.calls1(), rp,
		verdict(request.calls1() <= targetRequestCodeOps, fmt.Sprintf("by %d", request.calls1()-targetRequestCodeOps)))
	p("| AWS infrastructure, SMS excluded | ≤ $%.0f per million completed verifications | %s | %s |\n\n", targetDollarsPerM, usd(total),
		verdict(total <= targetDollarsPerM, fmt.Sprintf("by %s (%.1f×)", usd(total-targetDollarsPerM), total/targetDollarsPerM)))
	if len(r.uncovered) > 0 {
		var keys []string
		for _, rt := range r.uncovered {
			keys = append(keys, "`"+rt.Key()+"` ("+rt.FunctionID+")")
		}
		p("Routes in template.yaml without an in-process benchmark yet (add a scenario to `infra/bench/routes_test.go`): %s.\n\n", strings.Join(keys, ", "))
	}
}

func (r *report) coldSection(p printer) {
	hello := median(r.hello().inits)
	helloSize := r.sizes[r.hello().name]
	p("## Cold start\n\n")
	p("Init is what Lambda reports as Init Duration: from exec of the bootstrap until its runtime's first `GET /2018-06-01/runtime/invocation/next` "+
		"(`infra/lambdarun`). Each bootstrap was started %d times, round-robin with the hello-world (`infra/bench/hello`: `lambda.Start` of a function returning a string, built the same way). "+
		"The functions run with the environment template.yaml gives them; those that link the Secrets Manager client load their key ring from it (moto here) during init. "+
		"AWS clients are the SDK clients each main links (`go list -deps`). "+
		"Package init is the sum of the Go runtime's `GODEBUG=inittrace=1` clock times (median of 5 more starts).\n\n", len(r.hello().inits))
	p("| bootstrap | AWS clients | size | vs hello-world | init, median | p90 | vs hello-world | package init | slowest package inits |\n|---|---|---|---|---|---|---|---|---|\n")
	row := func(c coldResult, label, clients string) {
		tr := r.initTrace[c.name]
		var top []string
		for _, t := range tr.top {
			top = append(top, fmt.Sprintf("%s %s", shortPkg(t.pkg), ms(t.clock)))
		}
		p("| %s | %s | %s | %.1f× | %s | %s | %.1f× | %s | %s |\n", label, clients, mb(r.sizes[c.name]), float64(r.sizes[c.name])/float64(helloSize),
			ms(median(c.inits)), ms(quantile(c.inits, 0.9)), float64(median(c.inits))/float64(hello), ms(tr.total), strings.Join(top, ", "))
	}
	for _, c := range r.cold {
		clients := "—"
		if cs := r.clients[c.name]; len(cs) > 0 {
			clients = strings.Join(cs, ", ")
		}
		row(c, c.name, clients)
	}
	if f := r.floor; len(f.inits) > 0 {
		row(f, f.name+" (floor)", "dynamodb, secretsmanager")
		if g := r.floorSDK; len(g.inits) > 0 {
			row(g, g.name+" (floor, SDK loader)", "dynamodb, secretsmanager")
		}
		p("\nThe floor (`infra/bench/floor`, started in the same rounds) is what a function that holds the key ring cannot skip: the configuration, the AWS configuration " +
			"from the Lambda environment, a DynamoDB client and the key ring's one GetSecretValue (SPEC §2: key material is loaded once per cold start), then `lambda.Start`.\n")
		p("%s\n", r.loaderVerdict())
	}
	p("\nA GetSecretValue round trip to moto took %s (median of 20); each function that links Secrets Manager makes one during init.\n\n", ms(r.secretFetch))
	if a := r.sizeByModule; a.text > 0 {
		p("Machine code of %s by module (symbol sizes of an unstripped build; %s of code in all):\n\n| module | code | share |\n|---|---|---|\n", a.function, mb(a.text))
		rest := a.text
		for i, mod := range a.modules {
			if i == 8 {
				break
			}
			p("| %s | %s | %.0f%% |\n", mod.module, mb(mod.bytes), 100*float64(mod.bytes)/float64(a.text))
			rest -= mod.bytes
		}
		p("| everything else | %s | %.0f%% |\n\n", mb(rest), 100*float64(rest)/float64(a.text))
	}
}

func shortPkg(p string) string {
	p = strings.TrimPrefix(p, "github.com/")
	p = strings.Replace(p, "aws/aws-sdk-go-v2/", "aws-sdk-go-v2/", 1)
	return "`" + p + "`"
}

func (r *report) routeSection(p printer) {
	p("## Handler cost, in process\n\n")
	p("`BenchmarkRoute` in `infra/bench/routes_test.go`: one whole invocation per iteration as the function's runtime loop makes it " +
		"(the event JSON decoded by aws-lambda-go as the mains' `lambda.Start` hands it over, the route's handler (the unbind main also wraps it in the ops-event router), the domain service on the memory store with the default configuration, " +
		"the JSON log line and EMF metrics written to io.Discard, the response encoded), a different account, number and client address each time. " +
		"Median of the runs below; the network (Runtime API, DynamoDB, SNS) is the next section's.\n\n")
	p("| route | function | ns/op | B/op | allocs/op | allocations by part of the request |\n|---|---|---|---|---|---|\n")
	for _, n := range r.routeNames() {
		s := r.routes[n]
		var parts []string
		for _, a := range r.allocs[n] {
			if a.allocs >= 0.5 {
				parts = append(parts, fmt.Sprintf("%s %.0f", a.part, a.allocs))
			}
		}
		p("| `%s` | %s | %s | %s | %.0f | %s |\n", s.route, s.owner, thousands(int64(median(s.ns))), thousands(int64(median(s.bytes))), median(s.allocs), strings.Join(parts, "; "))
	}
	p("\nThe split comes from a separate run with every allocation profiled (`-memprofilerate=1`, the timed loop only): each allocation goes to the first of " +
		"metrics, logging, phone parsing, keys, store, domain, HTTP layer, aws-lambda-go found on its stack.\n\n")
}

func (r *report) dynamoSection(p printer) {
	p("## DynamoDB cost and billed duration, through the bootstraps\n\n")
	p("%d complete verifications (request-code → the code read from moto's SNS → confirm-code → status) and %d unbinds, each as a fresh account, "+
		"through the built bootstraps (one warm environment per function) on DynamoDB Local and moto. A proxy in front of DynamoDB Local "+
		"(`stack.Meter`) counts the calls and adds `ReturnConsumedCapacity=TOTAL`. DynamoDB Local's `ConsumedCapacity` is not AWS's bill, though: "+
		"it reports 4 units for any transaction of small items (AWS bills 2 per item) and 0 for an empty query (AWS bills 1), so the meter also reads "+
		"each item a write touches before and after it and applies AWS's published on-demand rules (1 WRU per KB per item, twice in a transaction, "+
		"a ConditionCheck included; 1 RRU per 4 KB read strongly consistent, at least 1 per request; `infra/lambdarun/stack/units.go`). "+
		"RRU and WRU below are those billed units; DynamoDB Local's own figures are beside them. "+
		"`[n]` is the number of items in a transaction. Durations are Lambda's Duration as the harness measures it (event handed over until the response), "+
		"from a second pass of the same flows straight to DynamoDB Local (the meter's reads would lengthen them); on emulators on one machine, not AWS.\n\n", r.opts.verifications, len(r.ops[opUnbind].durations))
	p("| operation | function | DynamoDB calls | RRU | WRU | DynamoDB Local reported (R/W) | duration median | p90 | billed (median) |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, name := range opOrder {
		o := r.ops[name]
		if o == nil {
			continue
		}
		pat, k := o.pattern()
		if k != len(o.durations) {
			pat += fmt.Sprintf(" (%d of %d)", k, len(o.durations))
		}
		p("| %s | %s | %s | %s | %s | %s / %s | %s | %s | %d ms |\n", name, o.function, pat, num(median(o.read)), num(median(o.write)),
			num(median(o.localRead)), num(median(o.localWrt)),
			ms(median(o.durations)), ms(quantile(o.durations, 0.9)), lambdarun.Billed(median(o.durations)).Milliseconds())
	}
	p("\n")
	for _, name := range opOrder {
		if o := r.ops[name]; o != nil && len(o.unbilled) > 0 {
			p("%s: %d calls could not be billed by rule and count 0 above (%s).\n\n", name, len(o.unbilled), o.unbilled[0])
		}
	}
}

func (r *report) dollarSection(p printer) {
	lines, total := r.dollars()
	p("## Dollars: one million completed verifications\n\n")
	p("A completed verification is request-code + confirm-code + status, priced from the medians above (us-east-1, on demand, no free tier, SMS excluded). " +
		"Every price sits in `infra/bench/prices.go`.\n\n")
	p("| item | per verification | price | per million verifications |\n|---|---|---|---|\n")
	for _, l := range lines {
		p("| %s | %s | %s | %s |\n", l.item, l.quantity, l.price, usd(l.perMillion))
	}
	p("| **AWS infrastructure** | | | **%s** (target ≤ $%.0f) |\n", usd(total), targetDollarsPerM)
	p("| Twilio Verify, for comparison | 1 verification | $0.05 | %s (+ SMS) |\n\n", usd(priceTwilioVerify*1e6))

	var logBytes float64
	for _, name := range verificationOps {
		logBytes += r.logBytes[r.ops[name].function]
	}
	logsUSD := logBytes / 1e9 * priceLogsGB * 1e6
	p("Also billed, outside the target's table:\n\n")
	p("- CloudWatch Logs: the functions printed %.0f bytes per verification here (JSON log lines and EMF metrics; measured), %s per million at $0.50/GB, "+
		"plus Lambda's own START/END/REPORT lines (~300 bytes per invocation) and the HTTP API access log line.\n", logBytes, usd(logsUSD))
	p("- X-Ray (`Tracing: Active`): $5.00 per million traces recorded; with the default sampling (1 request a second, then 5%%) a million verifications "+
		"spread over a month (about 1.2 requests a second) are nearly all sampled: up to %s per million verifications (3 traces each), $0 with tracing sampled down or off.\n",
		usd(3*priceXRayTrace*1e6))
	p("- Secrets Manager: one GetSecretValue per cold start ($0.05 per 10,000): %s per million verifications at %.0f%% cold starts.\n",
		usd(3*coldStartShare*priceSecretsCall*1e6), coldStartShare*100)
	p("- DynamoDB storage, point-in-time recovery and the KMS key: per GB-month and per key, not per verification. SNS SMS: excluded (per message, per country).\n\n")
	p("Prices, as published on %s:\n\n", r.date.Format("2006-01-02"))
	for _, s := range priceSources {
		p("- %s: %s — %s\n", s.item, s.price, s.url)
	}
	p("\n")
}

func (r *report) whySection(p printer) {
	var out []string
	hello := median(r.hello().inits)
	worst, ratio := r.worstInit()
	if ratio > targetInitRatio {
		tr := r.initTrace[worst.name]
		var top []string
		for _, t := range tr.top {
			top = append(top, fmt.Sprintf("%s (%s)", shortPkg(t.pkg), ms(t.clock)))
		}
		// The hello-world's init is exec, the runtime and its own package
		// inits; what the function adds beyond its package inits and the
		// secret fetch (if it holds keys) is its main before lambda.Start.
		helloTrace := r.initTrace[r.hello().name].total
		fetches := slices.Contains(r.clients[worst.name], "secretsmanager")
		var fetch time.Duration
		if fetches {
			fetch = r.secretFetch
		}
		rest := median(worst.inits) - tr.total - fetch - (hello - helloTrace)
		s := fmt.Sprintf("**Cold start: %.1f× the hello-world (allowed %.1f×).** %s's init is %s against the hello-world's %s. "+
			"Go package initialisation takes %s of it (hello-world: %s), led by %s; ",
			ratio, targetInitRatio, worst.name, ms(median(worst.inits)), ms(hello), ms(tr.total), ms(helloTrace), strings.Join(top, ", "))
		allowance := time.Duration(float64(hello) * (targetInitRatio - 1))
		if fetches {
			s += fmt.Sprintf("the key ring's GetSecretValue takes %s here (in AWS it also opens a TLS connection); ", ms(r.secretFetch))
		} else {
			s += "it loads no key ring; "
		}
		if rest > time.Millisecond/2 {
			s += fmt.Sprintf("the remaining ~%s is its main before `lambda.Start` (`core.Start`: the configuration, the AWS configuration, the clients, "+
				"and what a first call costs beyond a warm round trip). ", ms(rest))
		} else {
			s += "its main before `lambda.Start` (`core.Start`) adds nothing measurable beyond those. "
		}
		s += fmt.Sprintf("The target allows %s more than the hello-world.", ms(allowance))
		if extra := tr.total - helloTrace; extra > allowance {
			s += fmt.Sprintf(" The extra package initialisation alone (%s) is more than that.", ms(extra))
		}
		if fetches && r.secretFetch > allowance {
			s += fmt.Sprintf(" So is the secret fetch: no function that loads its keys during init can meet this target; "+
				"it would take the keys loaded on the first request (which then pays the %s) as well as fewer package inits.", ms(r.secretFetch))
		}
		var within, over []string
		for _, c := range r.cold[1:] {
			q := float64(median(c.inits)) / float64(hello)
			if q <= targetInitRatio {
				within = append(within, fmt.Sprintf("%s %.1f×", c.name, q))
			} else {
				over = append(over, fmt.Sprintf("%s %.1f×", c.name, q))
			}
		}
		if len(within) > 0 {
			s += fmt.Sprintf(" Within the target: %s; over it: %s.", strings.Join(within, ", "), strings.Join(over, ", "))
		}
		if f := r.floor; len(f.inits) > 0 {
			fl := median(f.inits)
			s += fmt.Sprintf(" The floor bootstrap, which does nothing but what a key-holding function must (the AWS configuration, a DynamoDB client, "+
				"the key ring's GetSecretValue), starts in %s, %.1f× the hello-world", ms(fl), float64(fl)/float64(hello))
			if float64(fl)/float64(hello) > targetInitRatio {
				s += ": the target is below the floor for every function that loads keys at cold start, as SPEC §2 requires"
			}
			var near []string
			for _, c := range r.cold[1:] {
				if slices.Contains(r.clients[c.name], "secretsmanager") {
					near = append(near, fmt.Sprintf("%s %.2f×", c.name, float64(median(c.inits))/float64(fl)))
				}
			}
			s += fmt.Sprintf(". Against the floor, the key-holding functions are at %s; the difference is the package inits of the clients the floor does not link (SNS, and SES v2 in request-code) and the rest of the assembly.", strings.Join(near, ", "))
		}
		if slices.ContainsFunc(tr.top, func(t pkgInit) bool { return strings.Contains(t.pkg, "nyaruka/phonenumbers") }) {
			s += " `nyaruka/phonenumbers` decompresses and parses the metadata of every region in its `init` (ALLOWED_REGIONS needs one)."
		}
		if slices.ContainsFunc(tr.top, func(t pkgInit) bool { return strings.Contains(t.pkg, "/schemas") }) {
			s += " The AWS SDK's `service/*/schemas` packages build their serialisation schemas at init, one per linked client " +
				"(each main links only the clients its function uses: the table's AWS clients column)."
		}
		out = append(out, s)
	}
	if name, big := r.largestBinary(); big > targetBinaryBytes {
		s := fmt.Sprintf("**Binary size, %s against %s (hello-world %s).** ", mb(big), mb(targetBinaryBytes), mb(r.sizes[r.hello().name]))
		if a := r.sizeByModule; a.text > 0 {
			var sdk int64
			var services []string
			for _, m := range a.modules {
				if strings.HasPrefix(m.module, "github.com/aws/aws-sdk-go-v2") || strings.HasPrefix(m.module, "github.com/aws/smithy-go") {
					sdk += m.bytes
					if svc, ok := strings.CutPrefix(m.module, "github.com/aws/aws-sdk-go-v2/service/"); ok && m.bytes > 100_000 {
						services = append(services, svc)
					}
				}
			}
			s += fmt.Sprintf("Of %s's %s of machine code, the AWS SDK is %s (%.0f%%; clients %s; "+
				"the binary is %.1f× its machine code: tables, type data and metadata grow with it). "+
				"Each main links only the clients its function uses (the cold start table's AWS clients column).",
				name, mb(a.text), mb(sdk), 100*float64(sdk)/float64(a.text), strings.Join(services, ", "), float64(r.sizes[name])/float64(a.text))
			if slices.ContainsFunc(services, func(svc string) bool { return svc == "sts" || svc == "sso" || svc == "ssooidc" || svc == "signin" }) {
				s += " sts, sso, ssooidc and signin come with the SDK's default credential chain (aws-sdk-go-v2/config), which a deployed function does not need: " +
					"config.Config.AWS reads the Lambda environment alone."
			}
		}
		out = append(out, s)
	}
	lines, total := r.dollars()
	if total > targetDollarsPerM {
		sorted := slices.Clone(lines)
		slices.SortFunc(sorted, func(a, b costLine) int { return cmp.Compare(b.perMillion, a.perMillion) })
		var writes []string
		var wru, checks float64
		for _, name := range verificationOps {
			o := r.ops[name]
			pat, _ := o.pattern()
			w := median(o.write)
			wru += w
			checks += median(o.checks)
			if w > 0 {
				writes = append(writes, fmt.Sprintf("%s %s WRU (%s, %s of them ConditionChecks)", name, num(w), pat, num(median(o.checks))))
			}
		}
		fixed := 3*priceHTTPAPIRequest*1e6 + 3*priceLambdaRequest*1e6
		budget := (targetDollarsPerM - (total - wru*priceDynamoWRU*1e6)) / (priceDynamoWRU * 1e6)
		asReads := total - 2*checks*priceDynamoWRU*1e6 + 2*checks*priceDynamoRRU*1e6
		_ = asReads
		wruPrice := priceDynamoWRU * 1e6
		alone := fixed + 8*wruPrice
		together := fixed + 12*wruPrice
		out = append(out, fmt.Sprintf("**Dollars: %s per million verifications (allowed $%.0f), %.1f× over.** The largest lines are %s (%s) and %s (%s). "+
			"Three requests through API Gateway and Lambda are %s whatever the code does, so the rest must fit in %s: about %.0f WRU per verification, against %s now (%s). "+
			"That is below the floor the rules set. A code request counts the code against four subjects, each its own DynamoDB item: the account, "+
			"the destination number and the source address (SPEC §3) and the number range (CODES_PER_PREFIX_DAY); a bind commits at least two items together, "+
			"the account's and the number's claim (one number, one account). Written one by one, the four counters are 4 WRU and the commit 4 (two items, "+
			"each billed twice in a transaction): %s per million before reads, but request-code then makes five calls against its target of two. "+
			"In one transaction, as here, they are 8 WRU and the floor is %s. The $7 target holds only with a single counter per code request, "+
			"that is without SPEC §3's per-number and per-address limits. Beyond that floor this design spends: the code's item apart from the profile "+
			"(its code carries a TTL, SPEC §3; 2 WRU in the commit), the history entry as its own item (it expires with HISTORY_RETENTION; 2 WRU), "+
			"and the attempt counted before the code is judged (SPEC §3's concurrent guesses; 1 WRU). "+
			"Not in the table: a client that sends an `Idempotency-Key` on both POSTs adds a claim and a finish per request, about 4 WRU (%s per million).",
			usd(total), targetDollarsPerM, total/targetDollarsPerM, sorted[0].item, usd(sorted[0].perMillion), sorted[1].item, usd(sorted[1].perMillion),
			usd(fixed), usd(targetDollarsPerM-fixed), math.Max(budget, 0), num(wru), strings.Join(writes, "; "),
			usd(alone), usd(together), usd(4*wruPrice)))
	}
	p("## Where a target is missed, by how much and why\n\n")
	if len(out) == 0 {
		p("Every target is met.\n\n")
		return
	}
	for _, s := range out {
		p("- %s\n", s)
	}
	p("\n")
}

// floorName is the floor bootstrap's name in the tables; floorSDKName the
// same bootstrap built with the SDK's loader.
const (
	floorName    = "Floor"
	floorSDKName = "FloorSDKLoader"
)

// loaderMinSaving is what shared/config's own AWS configuration reader must
// save in init, against config.LoadDefaultConfig, to be worth keeping.
const loaderMinSaving = 2 * time.Millisecond

// loaderVerdict compares the two floors: the same bootstrap with
// shared/config's Config.AWS and with config.LoadDefaultConfig.
func (r *report) loaderVerdict() string {
	own, sdk := r.floor, r.floorSDK
	if len(own.inits) == 0 || len(sdk.inits) == 0 {
		return ""
	}
	saved := median(sdk.inits) - median(own.inits)
	s := fmt.Sprintf("\n**AWS configuration loader.** `%s` is the floor built with the SDK's `config.LoadDefaultConfig` (tag `sdkloader`) instead of "+
		"`shared/config`'s `Config.AWS`: init median %s against %s, %s larger. Config.AWS saves %s of init; the bar to keep it is %s, so ",
		sdk.name, ms(median(sdk.inits)), ms(median(own.inits)), mb(r.sizes[sdk.name]-r.sizes[own.name]), ms(saved), ms(loaderMinSaving))
	if saved >= loaderMinSaving {
		return s + "it stays."
	}
	return s + "it should go in favour of the SDK's loader."
}

// againstMargin is how far from the -against revision init and route
// latency may move.
const againstMargin = time.Millisecond

// againstSection compares this tree with the -against revision, measured
// in the same run: init of each function started in the same rounds, and
// the in-process latency of each route.
func (r *report) againstSection(p printer) {
	if len(r.baseCold) == 0 {
		return
	}
	rev := r.opts.against
	p("## Against %s, in the same run\n\n", rev)
	p("`go run ./infra/bench -against %s` (or `make bench BASE=%s`) checked %s out in a temporary worktree, built its bootstraps the same way, "+
		"started them in the same interleaved rounds as this tree's and ran its route benchmarks right after this tree's. Within %s counts as unchanged.\n\n", rev, rev, rev, ms(againstMargin))
	p("| function | init, %s | init, now | change | size, %s | size, now | |\n|---|---|---|---|---|---|---|\n", rev, rev)
	for _, c := range r.cold[1:] {
		i := slices.IndexFunc(r.baseCold, func(b coldResult) bool { return b.name == c.name+"@"+rev })
		if i < 0 {
			continue
		}
		b := r.baseCold[i]
		d := median(c.inits) - median(b.inits)
		p("| %s | %s | %s | %+.2f ms | %s | %s | %s |\n", c.name, ms(median(b.inits)), ms(median(c.inits)), float64(d)/float64(time.Millisecond),
			mb(r.sizes[b.name]), mb(r.sizes[c.name]), verdict(d <= againstMargin, "slower by more than "+ms(againstMargin)))
	}
	if len(r.baseRoutes) > 0 {
		p("\n| route | ns/op, %s | ns/op, now | change | allocs/op, %s | allocs/op, now | |\n|---|---|---|---|---|---|---|\n", rev, rev)
		for _, name := range r.routeNames() {
			now, before := r.routes[name], r.baseRoutes[name]
			if now == nil || before == nil {
				continue
			}
			d := median(now.ns) - median(before.ns)
			p("| %s | %s | %s | %+.1f µs | %.0f | %.0f | %s |\n", name, thousands(int64(median(before.ns))), thousands(int64(median(now.ns))), d/1e3,
				median(before.allocs), median(now.allocs), verdict(d <= float64(againstMargin), "slower by more than "+ms(againstMargin)))
		}
	}
	p("\n")
}
