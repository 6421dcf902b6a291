package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
	"github.com/gosuslugi/phonebind/infra/lambdarun/stack"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// machine describes where the numbers come from.
type machine struct {
	cpu, os, kernel, arch, goVersion string
	cpus                             int
	memGiB                           float64
	// load is the 1-minute load average when the run began: other work on
	// the machine shows in every timing.
	load string
}

func describeMachine() machine {
	m := machine{cpu: "unknown CPU", os: runtime.GOOS, arch: runtime.GOOS + "/" + runtime.GOARCH, goVersion: runtime.Version(), cpus: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.memGiB = kb / (1 << 20)
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.os = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	m.load = loadAverage()
	return m
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// --- sizes -----------------------------------------------------------------

func binarySizes(fns []stack.Function) (map[string]int64, error) {
	out := map[string]int64{}
	for _, fn := range fns {
		st, err := os.Stat(fn.Bootstrap)
		if err != nil {
			return nil, err
		}
		out[fn.Name()] = st.Size()
	}
	return out, nil
}

func largest(fns []stack.Function, sizes map[string]int64) stack.Function {
	best := fns[0]
	for _, fn := range fns[1:] {
		if sizes[fn.Name()] > sizes[best.Name()] {
			best = fn
		}
	}
	return best
}

// linkedClients lists the AWS SDK clients (github.com/aws/aws-sdk-go-v2/
// service/<name>) each function's main links, as its build sees them.
func linkedClients(ctx context.Context, root string, fns []stack.Function) (map[string][]string, error) {
	out := map[string][]string{}
	for _, fn := range fns {
		cmd := exec.CommandContext(ctx, "go", "list", "-tags", "lambda.norpc", "-deps", "./functions/"+fn.Dir)
		cmd.Dir = root
		listed, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list ./functions/%s: %w", fn.Dir, err)
		}
		clients := []string{}
		for _, p := range strings.Fields(string(listed)) {
			if svc, ok := strings.CutPrefix(p, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(svc, "/") {
				clients = append(clients, svc)
			}
		}
		slices.Sort(clients)
		out[fn.Name()] = clients
	}
	return out, nil
}

// moduleSize is how much machine code one module puts in a binary.
type moduleSize struct {
	module string
	bytes  int64
}

// sizeAttribution is a function's code size by module.
type sizeAttribution struct {
	function string
	text     int64
	modules  []moduleSize
}

// textByModule builds fn without -s -w (the symbols are what -s strips)
// and sums the sizes of its code symbols by the module that defines them.
func textByModule(ctx context.Context, root, tmp string, fn stack.Function) (sizeAttribution, error) {
	bin := filepath.Join(tmp, "symbols", fn.Name())
	pkg := "./functions/" + fn.Dir
	build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, pkg)
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return sizeAttribution{}, fmt.Errorf("go build %s: %v: %s", pkg, err, out)
	}
	list := exec.CommandContext(ctx, "go", "list", "-tags", "lambda.norpc", "-deps", "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}", pkg)
	list.Dir = root
	listed, err := list.Output()
	if err != nil {
		return sizeAttribution{}, fmt.Errorf("go list: %w", err)
	}
	moduleOf := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(listed)), "\n") {
		p, m, _ := strings.Cut(line, " ")
		if m == "" {
			m = "Go standard library"
		}
		moduleOf[p] = m
	}
	nm := exec.CommandContext(ctx, "go", "tool", "nm", "-size", bin)
	nm.Dir = root
	syms, err := nm.Output()
	if err != nil {
		return sizeAttribution{}, fmt.Errorf("go tool nm: %w", err)
	}
	by := map[string]int64{}
	a := sizeAttribution{function: fn.Name()}
	sc := bufio.NewScanner(bytes.NewReader(syms))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || (f[2] != "T" && f[2] != "t") {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		m, ok := moduleOf[symbolPackage(f[3])]
		if !ok {
			m = "runtime-generated and other"
		}
		by[m] += size
		a.text += size
	}
	for m, n := range by {
		a.modules = append(a.modules, moduleSize{m, n})
	}
	slices.SortFunc(a.modules, func(x, y moduleSize) int { return cmp.Compare(y.bytes, x.bytes) })
	return a, nil
}

// symbolPackage is the import path in a Go symbol name:
// github.com/a/b.(*T).M → github.com/a/b.
func symbolPackage(sym string) string {
	if i := strings.IndexAny(sym, "[("); i >= 0 {
		sym = sym[:i]
	}
	slash := strings.LastIndexByte(sym, '/')
	dot := strings.IndexByte(sym[slash+1:], '.')
	if dot < 0 {
		return sym
	}
	return sym[:slash+1+dot]
}

// --- cold starts -----------------------------------------------------------

// coldResult is one bootstrap's init durations.
type coldResult struct {
	name  string
	inits []time.Duration
}

// coldStarts starts every bootstrap n times, round-robin with a rotating
// first one so that no bootstrap always follows the same neighbour, and
// records each init. The hello-world comes first in the result.
func coldStarts(ctx context.Context, hello stack.Function, fns []stack.Function, res *stack.Resources, n int) ([]coldResult, error) {
	all := append([]stack.Function{hello}, fns...)
	out := make([]coldResult, len(all))
	for i, fn := range all {
		out[i].name = fn.Name()
	}
	for round := range n {
		for j := range all {
			k := (round + j) % len(all)
			f, err := startForInit(ctx, all[k], hello, res, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", all[k].Name(), err)
			}
			out[k].inits = append(out[k].inits, f.InitDuration())
			if err := f.Close(); err != nil {
				return nil, fmt.Errorf("%s: %w", all[k].Name(), err)
			}
		}
	}
	return out, nil
}

// startForInit starts fn as a fresh environment: the hello-world with
// nothing but Lambda's variables, a function with its stack environment.
func startForInit(ctx context.Context, fn, hello stack.Function, res *stack.Resources, extra []string) (*lambdarun.Function, error) {
	var env []string
	if fn.Name() != hello.Name() {
		env = res.Env(fn, "")
	}
	return lambdarun.Start(ctx, lambdarun.Options{
		Path: fn.Bootstrap, Name: fn.Name(), MemoryMB: fn.MemoryMB, Timeout: fn.Timeout,
		Env: append(env, extra...),
	})
}

// pkgInit is one package's init time from GODEBUG=inittrace=1.
type pkgInit struct {
	pkg   string
	clock time.Duration
}

// initTrace is where a bootstrap's package initialisation goes.
type initTrace struct {
	total time.Duration
	top   []pkgInit
}

var inittraceLine = regexp.MustCompile(`(?m)^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock`)

// initTraces starts each bootstrap runs times with GODEBUG=inittrace=1,
// which makes the Go runtime print each package's init time, and keeps the
// median total and the three slowest packages by median.
func initTraces(ctx context.Context, all []stack.Function, res *stack.Resources, runs int) (map[string]initTrace, error) {
	out := map[string]initTrace{}
	hello := all[0]
	for _, fn := range all {
		var totals []time.Duration
		perPkg := map[string][]time.Duration{}
		for range runs {
			f, err := startForInit(ctx, fn, hello, res, []string{"GODEBUG=inittrace=1"})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fn.Name(), err)
			}
			_ = f.Close()
			var total time.Duration
			for _, m := range inittraceLine.FindAllStringSubmatch(f.Logs(), -1) {
				ms, _ := strconv.ParseFloat(m[2], 64)
				d := time.Duration(ms * float64(time.Millisecond))
				total += d
				perPkg[m[1]] = append(perPkg[m[1]], d)
			}
			totals = append(totals, total)
		}
		tr := initTrace{total: median(totals)}
		for pkg, ds := range perPkg {
			tr.top = append(tr.top, pkgInit{pkg, median(ds)})
		}
		slices.SortFunc(tr.top, func(a, b pkgInit) int { return cmp.Compare(b.clock, a.clock) })
		if len(tr.top) > 3 {
			tr.top = tr.top[:3]
		}
		out[fn.Name()] = tr
	}
	return out, nil
}

// secretFetch is the median GetSecretValue round trip to moto: the network
// part of each function's init.
func secretFetch(ctx context.Context, res *stack.Resources, n int) (time.Duration, error) {
	var ds []time.Duration
	for range n {
		d, err := res.SecretFetch(ctx)
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	return median(ds), nil
}

// --- operations through the bootstraps ---------------------------------------

// opStats is one user action measured through the bootstraps.
type opStats struct {
	name      string
	function  string
	calls     map[string]int // call pattern → iterations that had it
	read      []float64
	write     []float64
	localRead []float64
	localWrt  []float64
	checks    []float64
	unbilled  []string
	durations []time.Duration
}

// pattern is the most common call pattern, e.g. "Query + TransactWriteItems".
func (o *opStats) pattern() (string, int) {
	best, n := "", -1
	for p, c := range o.calls {
		if c > n || c == n && p < best {
			best, n = p, c
		}
	}
	return best, n
}

// count is how many calls of op the most common pattern makes.
func (o *opStats) count(op string) int {
	p, _ := o.pattern()
	n := 0
	for c := range strings.SplitSeq(p, " + ") {
		if name, _, _ := strings.Cut(c, "["); name == op {
			n++
		}
	}
	return n
}

func (o *opStats) calls1() int {
	p, _ := o.pattern()
	if p == "" || p == "none" {
		return 0
	}
	return strings.Count(p, " + ") + 1
}

// Operation names, in report order.
const (
	opRequestCode   = "request-code (bind, SMS)"
	opConfirm       = "confirm-code (bind)"
	opStatus        = "status"
	opRequestUnbind = "request-code (unbind, SMS)"
	opUnbind        = "unbind"
)

// Reads of the number by portal services (PhoneReadFunction, invoked
// directly): allowed (autofill, on by default), and refused (third_party,
// deny by default).
const (
	opReadAllowed = "phone-read (autofill, allowed)"
	opReadRefused = "phone-read (third_party, refused)"
)

var opOrder = []string{opRequestCode, opConfirm, opStatus, opRequestUnbind, opUnbind, opReadAllowed, opReadRefused}

// measureOperations runs n complete verifications (and unbinds for up to
// ten of those accounts) through the bootstraps twice: once with DynamoDB
// behind a Meter, for each operation's calls and units, and once straight
// to DynamoDB Local, for durations and log bytes untouched by the Meter's
// own reads.
func measureOperations(ctx context.Context, fns []stack.Function, res *stack.Resources, n int) (map[string]*opStats, map[string]float64, error) {
	meter, err := stack.NewMeter(res.DynamoDB)
	if err != nil {
		return nil, nil, err
	}
	defer meter.Close()
	metered, _, err := runVerifications(ctx, fns, res, n, meter)
	if err != nil {
		return nil, nil, err
	}
	timed, logs, err := runVerifications(ctx, fns, res, n, nil)
	if err != nil {
		return nil, nil, err
	}
	for name, o := range metered {
		if t := timed[name]; t != nil {
			o.durations = t.durations
		}
	}
	return metered, logs, nil
}

// runVerifications is one pass of measureOperations, one warm environment
// per function; meter nil means DynamoDB Local directly.
func runVerifications(ctx context.Context, fns []stack.Function, res *stack.Resources, n int, meter *stack.Meter) (map[string]*opStats, map[string]float64, error) {
	// Bind and unbind codes for one account in a row; cost-neutral (the
	// cooldown is checked on the item the request reads anyway).
	res.Overrides = map[string]string{"RESEND_COOLDOWN": "0s"}
	defer func() { res.Overrides = nil }()
	endpoint := ""
	if meter != nil {
		endpoint = meter.URL()
	}
	st, err := stack.Up(ctx, fns, res, endpoint, nil)
	if err != nil {
		return nil, nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = st.Close()
		}
	}()
	root, _ := os.Getwd()
	samples, err := stack.Samples(root)
	if err != nil {
		return nil, nil, err
	}
	base := map[string]stack.Request{}
	for _, s := range samples {
		if s.RouteKey != "" {
			ev, err := s.HTTP()
			if err != nil {
				return nil, nil, err
			}
			base[s.Name] = stack.NewRequest(ev)
		}
	}
	for _, name := range []string{"request-code.json", "confirm-code.json", "status.json", "unbind.json"} {
		if _, ok := base[name]; !ok {
			return nil, nil, fmt.Errorf("infra/events/%s is missing", name)
		}
	}

	ops := map[string]*opStats{}
	invocations := map[string]int{}
	record := true
	// measured records one invocation of fn as op: its DynamoDB calls and
	// its duration.
	measured := func(op, fn string, calls []stack.Call, duration time.Duration) {
		invocations[fn]++
		if !record {
			return
		}
		s := ops[op]
		if s == nil {
			s = &opStats{name: op, function: fn, calls: map[string]int{}}
			ops[op] = s
		}
		var names []string
		var rd, wr, lrd, lwr, chk float64
		for _, c := range calls {
			chk += float64(c.Checks)
			name := c.Op
			if c.Items > 0 {
				name += "[" + strconv.Itoa(c.Items) + "]"
			}
			names = append(names, name)
			rd += c.ReadUnits
			wr += c.WriteUnits
			lrd += c.LocalRead
			lwr += c.LocalWrite
			if c.Unbilled != "" {
				s.unbilled = append(s.unbilled, c.Op+": "+c.Unbilled)
			}
		}
		s.checks = append(s.checks, chk)
		s.localRead = append(s.localRead, lrd)
		s.localWrt = append(s.localWrt, lwr)
		p := strings.Join(names, " + ")
		if p == "" {
			p = "none"
		}
		s.calls[p]++
		s.read = append(s.read, rd)
		s.write = append(s.write, wr)
		s.durations = append(s.durations, duration)
	}
	take := func() []stack.Call {
		if meter != nil {
			return meter.Take()
		}
		return nil
	}
	do := func(op string, r stack.Request, want int) (stack.Response, error) {
		resp, result, err := st.Call(ctx, r)
		calls := take()
		if err != nil {
			return resp, fmt.Errorf("%s: %w", op, err)
		}
		if resp.StatusCode != want {
			return resp, fmt.Errorf("%s: status %d, want %d: %s", op, resp.StatusCode, want, resp.Body)
		}
		measured(op, functionOf(st, r.RouteKey), calls, result.Duration)
		return resp, nil
	}
	// read invokes PhoneReadFunction directly, as a portal service does,
	// and checks the answer is want ("" for the number).
	reader := st.Function(readFunction)
	read := func(op, sub, purpose, want string) error {
		if reader == nil {
			return fmt.Errorf("%s: no %s in template.yaml", op, readFunction)
		}
		event := fmt.Sprintf(`{"action":"read_phone","account_id":%q,"purpose":%q,"client_id":"bench.reader","client_name":"Bench"}`, sub, purpose)
		result, err := reader.Invoke(ctx, []byte(event))
		calls := take()
		if err == nil && result.Error != nil {
			err = result.Error
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		var answer struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(result.Payload, &answer); err != nil || answer.Error != want || answer.OK != (want == "") {
			return fmt.Errorf("%s: answered %s, want %q", op, result.Payload, want)
		}
		measured(op, readFunction, calls, result.Duration)
		return nil
	}

	runID := time.Now().UnixNano()
	unbinds := min(n, 10)
	for i := -1; i < n; i++ {
		record = i >= 0 // the first round warms connections up
		sub := fmt.Sprintf("bench-%d-%d", runID, i+1)
		number := fmt.Sprintf("+7917%07d", (runID/1000+int64(i+1)*7919)%10_000_000)
		ip := fmt.Sprintf("198.18.%d.%d", (i+1)/250, (i+1)%250+1)
		rc := base["request-code.json"].As(sub).From(ip)
		sent, err := do(opRequestCode, rc.WithBody(fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, number)), 202)
		if err != nil {
			return nil, nil, err
		}
		code, err := testenv.LatestSMSCode(ctx, res.Moto, number)
		if err != nil {
			return nil, nil, err
		}
		confirm := base["confirm-code.json"].As(sub).WithBody(fmt.Sprintf(`{"verification_id":%q,"code":%q}`, sent.Str("verification_id"), code))
		if _, err := do(opConfirm, confirm, 200); err != nil {
			return nil, nil, err
		}
		if _, err := do(opStatus, base["status.json"].As(sub), 200); err != nil {
			return nil, nil, err
		}
		if err := read(opReadAllowed, sub, "autofill", ""); err != nil {
			return nil, nil, err
		}
		if err := read(opReadRefused, sub, "third_party", "not_allowed"); err != nil {
			return nil, nil, err
		}
		if i >= unbinds {
			continue
		}
		sent, err = do(opRequestUnbind, rc.WithBody(`{"purpose":"unbind","channel":"sms"}`), 202)
		if err != nil {
			return nil, nil, err
		}
		if code, err = testenv.LatestSMSCode(ctx, res.Moto, number); err != nil {
			return nil, nil, err
		}
		unbind := base["unbind.json"].As(sub).WithBody(fmt.Sprintf(`{"verification_id":%q,"code":%q}`, sent.Str("verification_id"), code))
		if _, err := do(opUnbind, unbind, 200); err != nil {
			return nil, nil, err
		}
	}

	// Closing waits for each process's output to be drained.
	stopped = true
	if err := st.Close(); err != nil {
		return nil, nil, err
	}
	logs := map[string]float64{}
	for _, fn := range fns {
		if k := invocations[fn.Name()]; k > 0 {
			logs[fn.Name()] = float64(st.Function(fn.Name()).LogBytes()) / float64(k)
		}
	}
	return ops, logs, nil
}

func functionOf(st *stack.Stack, routeKey string) string {
	f := st.Route(routeKey)
	for _, fn := range st.Functions() {
		if st.Function(fn.Name()) == f {
			return fn.Name()
		}
	}
	return ""
}

// --- route benchmarks ------------------------------------------------------

// routeStats are one route's in-process benchmark results, per run.
type routeStats struct {
	name                 string
	ns, bytes, allocs    []float64
	sample, route, owner string
}

var benchLine = regexp.MustCompile(`^BenchmarkRoute/(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// routeBenchmarks runs routes_test.go's benchmarks in a child `go test`
// (its output is benchstat's input, kept raw for the report).
func routeBenchmarks(ctx context.Context, dir string, count int, benchtime string) (map[string]*routeStats, string, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkRoute$", "-benchmem",
		"-count", strconv.Itoa(count), "-benchtime", benchtime, "./infra/bench")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, os.Stderr)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("go test -bench: %w", err)
	}
	stats := map[string]*routeStats{}
	for line := range strings.SplitSeq(out.String(), "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		s := stats[m[1]]
		if s == nil {
			s = &routeStats{name: m[1]}
			stats[m[1]] = s
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	if len(stats) == 0 {
		return nil, "", fmt.Errorf("go test -bench printed no BenchmarkRoute results")
	}
	return stats, out.String(), nil
}

// --- statistics ------------------------------------------------------------

func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// quantile is the nearest-rank q-quantile.
func quantile[T int64 | float64 | time.Duration](xs []T, q float64) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// --- allocation sites --------------------------------------------------------

// allocShare is what one part of a request allocates per request.
type allocShare struct {
	part   string
	allocs float64
}

// allocParts classifies an allocation's stack, innermost frames first: the
// first rule whose package appears anywhere in the stack names the part of
// the request that allocated. Order matters: logging and metrics are called
// from the HTTP layer, the store from the domain service.
var allocParts = []struct{ part, frame string }{
	{"EMF metrics line (shared/metrics)", "/shared/metrics."},
	{"JSON log line (log/slog)", "log/slog."},
	{"phone parsing (shared/phone)", "/shared/phone."},
	{"keys: HMAC, AES-GCM (shared/secure)", "/shared/secure."},
	{"store (memory adapter)", "/shared/store."},
	{"domain service (shared/binding)", "/shared/binding."},
	{"HTTP layer: body, problem, response (shared/httpapi)", "/shared/httpapi."},
	{"event decode, response encode (aws-lambda-go)", "github.com/aws/aws-lambda-go/"},
}

// allocBreakdown runs each route benchmark once more with every allocation
// profiled (-memprofilerate=1, routes_test.go's BENCH_ALLOC_PROFILES) and
// splits what the timed loop allocated by part of the request.
func allocBreakdown(ctx context.Context, tmp string, names []string) (map[string][]allocShare, error) {
	const n = 1000
	dir := filepath.Join(tmp, "allocs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkRoute$", "-benchmem",
		"-benchtime", strconv.Itoa(n)+"x", "-memprofilerate", "1", "-o", filepath.Join(dir, "bench.test"), "./infra/bench")
	cmd.Env = append(os.Environ(), "BENCH_ALLOC_PROFILES="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go test -memprofilerate: %v: %s", err, out)
	}
	out := map[string][]allocShare{}
	for _, name := range names {
		tr := exec.CommandContext(ctx, "go", "tool", "pprof", "-traces", "-sample_index=alloc_objects",
			"-base", filepath.Join(dir, name+".before.pprof"), filepath.Join(dir, name+".after.pprof"))
		text, err := tr.Output()
		if err != nil {
			return nil, fmt.Errorf("go tool pprof %s: %w", name, err)
		}
		by := map[string]float64{}
		for _, block := range strings.Split(string(text), "-----------+") {
			count, stack := parseTrace(block)
			if count == 0 || strings.Contains(stack, "runtime/pprof.") {
				continue
			}
			part := "other (Go runtime, testing)"
			for _, p := range allocParts {
				if strings.Contains(stack, p.frame) {
					part = p.part
					break
				}
			}
			by[part] += float64(count) / n
		}
		var shares []allocShare
		for p, a := range by {
			shares = append(shares, allocShare{p, a})
		}
		slices.SortFunc(shares, func(a, b allocShare) int { return cmp.Compare(b.allocs, a.allocs) })
		out[name] = shares
	}
	return out, nil
}

var traceCount = regexp.MustCompile(`(?m)^\s+(-?\d+)\s+\S`)

// parseTrace reads one sample of `pprof -traces`: its count and its frames.
func parseTrace(block string) (int64, string) {
	m := traceCount.FindStringSubmatch(block)
	if m == nil {
		return 0, ""
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n, block
}
