// Package stack runs this project's Lambda functions as built bootstraps
// through lambdarun, against DynamoDB Local and moto, with the environment
// template.yaml gives them: the local stand-in for the deployed SAM stack
// that the bootstrap tests and the benchmark driver share.
//
// The function list is read at run time, never copied: every directory
// functions/<dir>/ with a main.go is a function, and template.yaml's
// AWS::Serverless::Function <Dir in CamelCase>Function (functions/request-code
// is RequestCodeFunction, as the Makefile's FUNCTIONS pairs them) gives its
// routes, memory, timeout and environment (read through infra/template).
package stack

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
	"github.com/gosuslugi/phonebind/infra/template"
)

// Function is one Lambda function of the project.
type Function struct {
	// Dir is its directory under functions/, e.g. "request-code".
	Dir string
	// LogicalID is its resource in template.yaml, e.g. "RequestCodeFunction";
	// empty when the template does not (yet) declare it.
	LogicalID string
	// Routes are the HTTP API routes the template gives it.
	Routes []template.Route
	// Env is the environment the template gives it (Globals, then its own
	// Variables). Values that are intrinsic functions (!Ref, !If, …) are
	// left out: only a deployment can resolve them.
	Env map[string]string
	// MemoryMB and Timeout are the template's MemorySize and Timeout
	// (Lambda's defaults, 128 MB and 3 s, when it sets none).
	MemoryMB int
	Timeout  time.Duration
	// Bootstrap is the built binary, set by Build.
	Bootstrap string
}

// Name is the function's logical id, or its directory when the template
// does not declare it.
func (f Function) Name() string {
	if f.LogicalID != "" {
		return f.LogicalID
	}
	return f.Dir
}

// LogicalIDFor is the template logical id the Makefile pairs with a
// functions/ directory: request-code → RequestCodeFunction.
func LogicalIDFor(dir string) string {
	var b strings.Builder
	upper := true
	for _, r := range dir {
		if r == '-' || r == '_' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String() + "Function"
}

// Discover lists the functions of the module at root: every functions/*/
// with a main.go, matched to template.yaml. A template function built from
// this module (CodeUri: ., the Makefile's build-<LogicalId>) without its
// directory is an error, since `sam build` could not build it either.
func Discover(root string) ([]Function, error) {
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	tpl, err := template.Load(filepath.Join(root, template.FileName))
	if err != nil {
		return nil, err
	}
	globals, _ := tpl.Section("Globals")["Function"].(map[string]any)
	declared := map[string]map[string]any{}
	for _, r := range tpl.Resources() {
		if r.Type == "AWS::Serverless::Function" {
			declared[r.ID] = r.Properties
		}
	}
	var fns []Function
	for _, m := range mains {
		dir := filepath.Base(filepath.Dir(m))
		fn := Function{Dir: dir, Env: map[string]string{}, MemoryMB: lambdarun.DefaultMemoryMB, Timeout: lambdarun.DefaultTimeout}
		fn.apply(globals)
		id := LogicalIDFor(dir)
		if props, ok := declared[id]; ok {
			fn.LogicalID = id
			fn.apply(props)
			for _, rt := range tpl.Routes() {
				if rt.FunctionID == id {
					fn.Routes = append(fn.Routes, rt)
				}
			}
			delete(declared, id)
		}
		fns = append(fns, fn)
	}
	var missing []string
	for id, props := range declared {
		if props["CodeUri"] == "." {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("template.yaml builds %s from this module but functions/ has no matching directory (RequestCodeFunction is functions/request-code)", strings.Join(missing, ", "))
	}
	slices.SortFunc(fns, func(a, b Function) int { return strings.Compare(a.Dir, b.Dir) })
	return fns, nil
}

// apply takes MemorySize, Timeout and the literal Environment variables
// from a function's Properties (or Globals.Function); intrinsic functions
// (!Ref, !If, …) decode to maps and are left out.
func (f *Function) apply(props map[string]any) {
	if n, ok := props["MemorySize"].(int); ok && n > 0 {
		f.MemoryMB = n
	}
	if n, ok := props["Timeout"].(int); ok && n > 0 {
		f.Timeout = time.Duration(n) * time.Second
	}
	env, _ := props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	for k, v := range vars {
		switch v := v.(type) {
		case string:
			f.Env[k] = v
		case int, float64, bool:
			f.Env[k] = fmt.Sprint(v)
		}
	}
}

// Build compiles every function's bootstrap for the host into
// dir/<Name>/bootstrap with the Makefile's flags and sets Bootstrap.
func Build(ctx context.Context, root, dir string, fns []Function) error {
	targets := make([]lambdarun.Target, len(fns))
	for i := range fns {
		fns[i].Bootstrap = filepath.Join(dir, fns[i].Name(), "bootstrap")
		targets[i] = lambdarun.Target{Package: "./functions/" + fns[i].Dir, Out: fns[i].Bootstrap}
	}
	return lambdarun.Build(ctx, root, targets...)
}
