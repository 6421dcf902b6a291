package main

import (
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

// priced adds the rows every bill ends with (the cold starts' init, the
// DynamoDB writes and reads) to lines and sums the dollars per million.
func priced(lines []costLine, initGBs, wru, rru float64) ([]costLine, float64) {
	lines = append(lines,
		costLine{fmt.Sprintf("Lambda init (%.0f%% of invocations cold)", coldStartShare*100), fmt.Sprintf("%.6f GB-s", initGBs), "$0.0000133334 / GB-s", initGBs * priceLambdaGBSecondARM * 1e6},
		costLine{"DynamoDB writes", fmt.Sprintf("%s WRU", num(wru)), "$0.625 / M WRU", wru * priceDynamoWRU * 1e6},
		costLine{"DynamoDB reads", fmt.Sprintf("%s RRU", num(rru)), "$0.125 / M RRU", rru * priceDynamoRRU * 1e6},
	)
	total := 0.0
	for _, l := range lines {
		total += l.perMillion
	}
	return lines, total
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
	}
	return priced(lines, initGBs, wru, rru)
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

// The report holds tables and the lines that say where they were taken;
// how each is measured, how to read it and why a target is missed are
// written by hand in docs/benchmarks.md, which a run does not rewrite.

type printer func(format string, args ...any)

// command is the bench invocation that made the report.
func (r *report) command() string {
	c := fmt.Sprintf("go run ./infra/bench -starts %d", r.opts.starts)
	if r.opts.cold {
		c += " -cold"
	} else {
		c += fmt.Sprintf(" -verifications %d -count %d -benchtime %s", r.opts.verifications, r.opts.count, r.opts.benchtime)
	}
	if r.opts.against != "" {
		c += " -against " + r.opts.against
	}
	return c
}

// header is the title and the command, machine and date lines.
func (r *report) header(p printer, title string) {
	m := r.machine
	p("# %s\n\n", title)
	p("Written by `make bench`; how each table is measured and read, and why a target is missed: [docs/benchmarks.md](../docs/benchmarks.md).\n\n")
	p("- Command: `%s`, with DynamoDB Local and moto on the same machine\n", r.command())
	p("- Machine: %s, %d CPUs, %.0f GiB RAM, %s (kernel %s), %s; %s\n", m.cpu, m.cpus, m.memGiB, m.os, m.kernel, m.arch, m.goVersion)
	p("- Date: %s; the run took %s (builds %s); load average %s at the start, %s at the end\n\n",
		r.date.Format("2006-01-02"), r.elapsed.Round(time.Second), r.buildTime.Round(time.Second), m.load, r.loadAfter)
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	r.header(p, "Speed and cost")
	r.targets(p)
	r.coldSection(p)
	r.routeSection(p)
	r.dynamoSection(p)
	r.dollarSection(p)
	r.readSection(p) // reads.go
	r.againstSection(p)
	p("## Raw route benchmarks\n\n```text\n%s```\n", rawBench(r.benchRaw))
	return b.String()
}

// coldMarkdown is the part of the report a -cold run measures: the two
// cold-start targets and the cold start section.
func (r *report) coldMarkdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	r.header(p, "Cold start and size (bench -cold)")
	p("## Targets\n\n")
	r.coldTargets(p)
	p("\n")
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

// coldTargets is the head of the targets table and its cold start and
// binary size rows.
func (r *report) coldTargets(p printer) {
	hello := median(r.hello().inits)
	worst, ratio := r.worstInit()
	bigName, big := r.largestBinary()
	p("| | target | measured | |\n|---|---|---|---|\n")
	p("| cold start | init ≤ %.1f× the hello-world's | %.1f× (%s: %s, hello-world %s; medians of %d interleaved starts) | %s |\n",
		targetInitRatio, ratio, worst.name, ms(median(worst.inits)), ms(hello), len(r.hello().inits),
		verdict(ratio <= targetInitRatio, fmt.Sprintf("by %.1f×", ratio/targetInitRatio)))
	p("| binary size | ≤ %s | %s (%s; hello-world %s) | %s |\n", mb(targetBinaryBytes), mb(big), bigName, mb(r.sizes[r.hello().name]),
		verdict(big <= targetBinaryBytes, fmt.Sprintf("by %s (+%.0f%%)", mb(big-targetBinaryBytes), 100*float64(big-targetBinaryBytes)/targetBinaryBytes)))
}

func (r *report) targets(p printer) {
	status, confirm, request := r.ops[opStatus], r.ops[opConfirm], r.ops[opRequestCode]
	statusReads := status.count("Query") + status.count("GetItem")
	_, total := r.dollars()

	p("## Targets\n\n")
	r.coldTargets(p)
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
		p("Routes in template.yaml without an in-process benchmark (a scenario in `infra/bench/routes_test.go`):\n\n| route | function |\n|---|---|\n")
		for _, rt := range r.uncovered {
			p("| `%s` | %s |\n", rt.Key(), rt.FunctionID)
		}
		p("\n")
	}
}

func (r *report) coldSection(p printer) {
	hello := median(r.hello().inits)
	helloSize := r.sizes[r.hello().name]
	p("## Cold start\n\n")
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
	}
	p("\n| part of init | measured |\n|---|---|\n")
	p("| GetSecretValue round trip to moto (median of 20) | %s |\n", ms(r.secretFetch))
	if row, ok := r.loaderRow(); ok {
		p("%s", row)
	}
	p("\n")
	if a := r.sizeByModule; a.text > 0 {
		p("Machine code of %s by module (unstripped build, %s of code):\n\n| module | code | share |\n|---|---|---|\n", a.function, mb(a.text))
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
	p("\n")
}

func (r *report) dynamoSection(p printer) {
	p("## DynamoDB cost and billed duration, through the bootstraps\n\n")
	p("%d verifications and %d unbinds, each a fresh account:\n\n", r.opts.verifications, len(r.ops[opUnbind].durations))
	p("| operation | function | DynamoDB calls | RRU | WRU | DynamoDB Local reported (R/W) | duration median | p90 | billed (median) | calls not billed by rule |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, name := range opOrder {
		o := r.ops[name]
		if o == nil {
			continue
		}
		pat, k := o.pattern()
		if k != len(o.durations) {
			pat += fmt.Sprintf(" (%d of %d)", k, len(o.durations))
		}
		unbilled := "—"
		if len(o.unbilled) > 0 {
			unbilled = fmt.Sprintf("%d (%s)", len(o.unbilled), o.unbilled[0])
		}
		p("| %s | %s | %s | %s | %s | %s / %s | %s | %s | %d ms | %s |\n", name, o.function, pat, num(median(o.read)), num(median(o.write)),
			num(median(o.localRead)), num(median(o.localWrt)),
			ms(median(o.durations)), ms(quantile(o.durations, 0.9)), lambdarun.Billed(median(o.durations)).Milliseconds(), unbilled)
	}
	p("\n")
}

func (r *report) dollarSection(p printer) {
	lines, total := r.dollars()
	p("## Dollars: one million completed verifications\n\n")
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
	p("Also billed, outside the target:\n\n| item | per verification | per million verifications |\n|---|---|---|\n")
	p("| CloudWatch Logs, the functions' own lines (measured) | %.0f bytes | %s |\n", logBytes, usd(logBytes/1e9*priceLogsGB*1e6))
	p("| X-Ray traces, all sampled (at most) | 3 traces | %s |\n", usd(3*priceXRayTrace*1e6))
	p("| Secrets Manager, one GetSecretValue per cold start (%.0f%% cold) | %.2f calls | %s |\n\n",
		coldStartShare*100, 3*coldStartShare, usd(3*coldStartShare*priceSecretsCall*1e6))
	p("Prices as published on %s:\n\n| item | price | source |\n|---|---|---|\n", r.date.Format("2006-01-02"))
	for _, s := range priceSources {
		p("| %s | %s | %s |\n", s.item, s.price, s.url)
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

// loaderRow compares the two floors, the same bootstrap with
// shared/config's Config.AWS and with config.LoadDefaultConfig, as a row
// of the init parts table; false when either was not measured.
func (r *report) loaderRow() (string, bool) {
	own, sdk := r.floor, r.floorSDK
	if len(own.inits) == 0 || len(sdk.inits) == 0 {
		return "", false
	}
	saved := median(sdk.inits) - median(own.inits)
	keep := "keep it"
	if saved < loaderMinSaving {
		keep = "**replace it** by the SDK's loader"
	}
	return fmt.Sprintf("| `shared/config` Config.AWS against `config.LoadDefaultConfig` (%s against %s) | saves %s of init and %s (bar %s: %s) |\n",
		own.name, sdk.name, ms(saved), mb(r.sizes[sdk.name]-r.sizes[own.name]), ms(loaderMinSaving), keep), true
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
