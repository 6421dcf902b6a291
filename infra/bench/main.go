// Command bench measures what the service costs in time and money and
// writes infra/BENCHMARKS.md; `make bench` runs it with the emulators up.
//
// It builds every function's bootstrap as `sam build` does (for the host)
// and a hello-world aws-lambda-go bootstrap the same way, then measures:
//
//   - cold start: each bootstrap's init (exec until its first Runtime API
//     `next`, through infra/lambdarun), interleaved with the hello-world's,
//     and binary sizes;
//   - handler cost: the in-process route benchmarks (routes_test.go);
//   - DynamoDB cost: calls and consumed capacity of each operation of the
//     real bootstraps on DynamoDB Local, through a counting proxy that sets
//     ReturnConsumedCapacity=TOTAL, with each invocation's billed duration;
//   - dollars: one million completed verifications (request-code,
//     confirm-code, status) priced from those measurements.
//
// Usage: go run ./infra/bench [-out infra/BENCHMARKS.md] [-starts 25]
// [-verifications 30] [-count 6] [-benchtime 1s] [-cold] [-against REV], with
// DYNAMODB_ENDPOINT and MOTO_ENDPOINT set (as `bash infra/emulators.sh run
// -- …` sets them). -cold measures only sizes and cold starts and prints
// that part of the report, leaving infra/BENCHMARKS.md alone. -against REV
// checks REV out in a temporary git worktree, builds its bootstraps and
// starts them in the same interleaved rounds, runs its route benchmarks
// beside this tree's, and adds a before/after table.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
	"github.com/gosuslugi/phonebind/infra/lambdarun/stack"
	"github.com/gosuslugi/phonebind/infra/template"
)

type options struct {
	out           string
	starts        int
	verifications int
	count         int
	benchtime     string
	// cold limits the run to sizes and cold starts (printed, not written).
	cold bool
	// against is a git revision measured in the same run, for comparison.
	against string
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "infra/BENCHMARKS.md", "report file, relative to the module root (empty: print only)")
	flag.IntVar(&o.starts, "starts", 25, "cold starts of each bootstrap (at least 20)")
	flag.IntVar(&o.verifications, "verifications", 30, "complete verifications run through the bootstraps for the DynamoDB and duration figures")
	flag.IntVar(&o.count, "count", 6, "go test -count for the route benchmarks")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime for the route benchmarks")
	flag.BoolVar(&o.cold, "cold", false, "measure only binary sizes and cold starts, print them and write no report file")
	flag.StringVar(&o.against, "against", "", "a git revision whose bootstraps and route benchmarks run in the same rounds, for a before/after table")
	flag.Parse()
	if o.starts < 20 {
		fatal(fmt.Errorf("-starts %d: the report wants the median of at least 20 starts", o.starts))
	}
	if err := run(context.Background(), o); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// progress says what is being measured, on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	root, err := template.FindRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	ep, err := stack.EndpointsFromEnv()
	if err != nil {
		return fmt.Errorf("%w; or just run `make bench`", err)
	}
	r := &report{machine: describeMachine(), date: time.Now().UTC(), opts: o}

	fns, err := stack.Discover(root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "phonebind-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	progress("building %d bootstraps and the hello-world (host %s)", len(fns), r.machine.arch)
	t0 := time.Now()
	hello := stack.Function{Dir: "hello", LogicalID: "HelloWorld", Bootstrap: filepath.Join(tmp, "HelloWorld", "bootstrap"), MemoryMB: lambdarun.DefaultMemoryMB, Timeout: lambdarun.DefaultTimeout}
	if err := stack.Build(ctx, root, tmp, fns); err != nil {
		return err
	}
	if err := lambdarun.Build(ctx, root, lambdarun.Target{Package: "./infra/bench/hello", Out: hello.Bootstrap}); err != nil {
		return err
	}
	floor := stack.Function{Dir: "floor", LogicalID: floorName, Bootstrap: filepath.Join(tmp, floorName, "bootstrap"), MemoryMB: lambdarun.DefaultMemoryMB, Timeout: lambdarun.DefaultTimeout}
	floorSDK := stack.Function{Dir: "floor", LogicalID: floorSDKName, Bootstrap: filepath.Join(tmp, floorSDKName, "bootstrap"), MemoryMB: lambdarun.DefaultMemoryMB, Timeout: lambdarun.DefaultTimeout}
	if err := lambdarun.Build(ctx, root,
		lambdarun.Target{Package: "./infra/bench/floor", Out: floor.Bootstrap},
		lambdarun.Target{Package: "./infra/bench/floor", Out: floorSDK.Bootstrap, Tags: "sdkloader"}); err != nil {
		return err
	}
	var base []stack.Function
	if o.against != "" {
		baseRoot, cleanup, err := checkout(ctx, root, tmp, o.against)
		if err != nil {
			return err
		}
		defer cleanup()
		r.baseRoot = baseRoot
		if base, err = stack.Discover(baseRoot); err != nil {
			return err
		}
		for i := range base {
			base[i].LogicalID = base[i].Name() + "@" + o.against
		}
		if err := stack.Build(ctx, baseRoot, filepath.Join(tmp, "base"), base); err != nil {
			return err
		}
	}
	r.buildTime = time.Since(t0)
	if r.sizes, err = binarySizes(slices.Concat([]stack.Function{hello, floor, floorSDK}, fns, base)); err != nil {
		return err
	}
	if r.clients, err = linkedClients(ctx, root, fns); err != nil {
		return err
	}
	progress("attributing binary size by module")
	if r.sizeByModule, err = textByModule(ctx, root, tmp, largest(fns, r.sizes)); err != nil {
		progress("size attribution skipped: %v", err)
	}

	res, err := stack.Provision(ctx, ep, "phonebind-bench")
	if err != nil {
		return err
	}
	defer func() { _ = res.Close(context.Background()) }()

	progress("cold starts: %d of each of %d bootstraps, interleaved", o.starts, len(fns)+3)
	if r.cold, err = coldStarts(ctx, hello, slices.Concat(fns, []stack.Function{floor, floorSDK}, base), res, o.starts); err != nil {
		return err
	}
	n := len(r.cold) - len(base)
	r.floor, r.floorSDK, r.baseCold, r.cold = r.cold[n-2], r.cold[n-1], r.cold[n:], r.cold[:n-2]
	if r.initTrace, err = initTraces(ctx, append([]stack.Function{hello, floor, floorSDK}, fns...), res, 5); err != nil {
		return err
	}
	if r.secretFetch, err = secretFetch(ctx, res, 20); err != nil {
		return err
	}
	if o.cold {
		r.fns = fns
		r.elapsed = time.Since(began)
		r.loadAfter = loadAverage()
		fmt.Print(r.coldMarkdown())
		return nil
	}

	progress("DynamoDB cost and billed durations: %d verifications through the bootstraps", o.verifications)
	if r.ops, r.logBytes, err = measureOperations(ctx, fns, res, o.verifications); err != nil {
		return err
	}

	progress("route benchmarks: go test -bench Route -count %d -benchtime %s", o.count, o.benchtime)
	if r.routes, r.benchRaw, err = routeBenchmarks(ctx, root, o.count, o.benchtime); err != nil {
		return err
	}
	if r.baseRoot != "" {
		progress("route benchmarks of %s: the same, in its worktree", o.against)
		if r.baseRoutes, _, err = routeBenchmarks(ctx, r.baseRoot, o.count, o.benchtime); err != nil {
			return err
		}
	}
	progress("allocation profile of each route")
	var names []string
	for n := range r.routes {
		names = append(names, n)
	}
	if r.allocs, err = allocBreakdown(ctx, tmp, names); err != nil {
		progress("allocation split skipped: %v", err)
	}
	tpl, err := template.Load(filepath.Join(root, template.FileName))
	if err != nil {
		return err
	}
	samples, err := stack.Samples(root)
	if err != nil {
		return err
	}
	r.coverRoutes(tpl.Routes(), samples)
	r.fns = fns
	r.elapsed = time.Since(began)
	r.loadAfter = loadAverage()

	out := r.markdown()
	fmt.Print(out)
	if o.out != "" {
		if err := os.WriteFile(filepath.Join(root, o.out), []byte(out), 0o644); err != nil {
			return err
		}
		progress("wrote %s in %s", o.out, r.elapsed.Round(time.Second))
	}
	return nil
}

// checkout puts rev in a detached git worktree under tmp; cleanup removes
// the worktree again.
func checkout(ctx context.Context, root, tmp, rev string) (string, func(), error) {
	dir := filepath.Join(tmp, "against")
	progress("checking out %s into a temporary worktree", rev)
	cmd := exec.CommandContext(ctx, "git", "worktree", "add", "--detach", dir, rev)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("git worktree add %s: %v: %s", rev, err, out)
	}
	return dir, func() {
		rm := exec.Command("git", "worktree", "remove", "--force", dir)
		rm.Dir = root
		_ = rm.Run()
	}, nil
}
