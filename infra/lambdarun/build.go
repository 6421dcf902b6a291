package lambdarun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// BuildFlags are the `go build` flags of the Makefile's build-% rule (the
// artifact `sam build` zips), after the package and before -o.
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// Target is one bootstrap to build: a main package and where its binary
// goes.
type Target struct {
	// Package is an import path or a ./relative directory of the module.
	Package string
	// Out is the bootstrap's path, e.g. DIR/RequestCodeFunction/bootstrap.
	Out string
	// Tags are build tags added to lambda.norpc, comma-separated.
	Tags string
}

// Build compiles targets the way the Makefile's build-% rule does
// (CGO_ENABLED=0 and BuildFlags), but for the host's OS and architecture so
// that they can run here. moduleDir is where `go build` runs. Targets build
// in parallel; the error names every one that failed.
func Build(ctx context.Context, moduleDir string, targets ...Target) error {
	goCmd := goTool()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
		sem  = make(chan struct{}, max(1, runtime.NumCPU()))
	)
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := os.MkdirAll(filepath.Dir(t.Out), 0o755); err != nil {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
				return
			}
			args := append([]string{"build"}, BuildFlags...)
			if t.Tags != "" {
				args[slices.Index(args, "lambda.norpc")] = "lambda.norpc," + t.Tags
			}
			args = append(args, "-o", t.Out, t.Package)
			cmd := exec.CommandContext(ctx, goCmd, args...)
			cmd.Dir = moduleDir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("go build %s: %v\n%s", t.Package, err, strings.TrimSpace(out.String())))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("lambdarun: build failed:\n%s", strings.Join(errs, "\n"))
	}
	return nil
}

// goTool is the go command: $GOROOT/bin/go when GOROOT is set (`go test`
// puts it first on PATH anyway), else "go" from PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return "go"
}
