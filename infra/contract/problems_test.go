package contract

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// goPackage parses the non-test files of one package directory.
func goPackage(t *testing.T, dir string) []*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(root(t), dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, path := range matches {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return files
}

// declared maps every name declared with tok (token.CONST or token.VAR)
// in files to the expression it is given; names without one are left out.
func declared(files []*ast.File, tok token.Token) map[string]ast.Expr {
	out := map[string]ast.Expr{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != tok {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						out[name.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	return out
}

// stringConsts maps every string constant declared in files to its value.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for name, v := range declared(files, token.CONST) {
		if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out[name] = s
			}
		}
	}
	return out
}

// mapLiteral finds `var name = map[…]…{…}` and returns its entries.
func mapLiteral(t *testing.T, files []*ast.File, name string) []*ast.KeyValueExpr {
	t.Helper()
	v, ok := declared(files, token.VAR)[name]
	if !ok {
		t.Fatalf("no var %s", name)
	}
	lit, ok := v.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("var %s is not a composite literal", name)
	}
	var out []*ast.KeyValueExpr
	for _, e := range lit.Elts {
		out = append(out, e.(*ast.KeyValueExpr))
	}
	return out
}

// httpStatuses resolves the net/http names messages.go uses.
var httpStatuses = map[string]int{
	"StatusBadRequest": 400, "StatusUnauthorized": 401, "StatusForbidden": 403,
	"StatusNotFound": 404, "StatusMethodNotAllowed": 405, "StatusConflict": 409,
	"StatusGone": 410, "StatusPreconditionFailed": 412, "StatusRequestEntityTooLarge": 413,
	"StatusUnsupportedMediaType": 415, "StatusUnprocessableEntity": 422,
	"StatusTooManyRequests": 429, "StatusInternalServerError": 500,
	"StatusBadGateway": 502, "StatusServiceUnavailable": 503, "StatusGatewayTimeout": 504,
}

// problemKind is what the service says a code always is.
type problemKind struct {
	status int
	title  string
}

// serviceProblems reads shared/httpapi: each machine code's status and
// title (var kinds), and every detail text in Russian and English (var
// details), as the service sends them.
func serviceProblems(t *testing.T) (kinds map[string]problemKind, ru, en []string) {
	t.Helper()
	files := goPackage(t, "shared/httpapi")
	consts := stringConsts(files)
	kinds = map[string]problemKind{}
	for _, kv := range mapLiteral(t, files, "kinds") {
		id, ok := kv.Key.(*ast.Ident)
		code, known := consts[id.Name]
		if !ok || !known {
			t.Fatalf("kinds key %v is not a string constant", kv.Key)
		}
		val := kv.Value.(*ast.CompositeLit)
		sel, ok := val.Elts[0].(*ast.SelectorExpr)
		status, known := httpStatuses[sel.Sel.Name]
		if !ok || !known {
			t.Fatalf("kinds[%s]: status %v is not in this test's httpStatuses; add it", code, val.Elts[0])
		}
		title, err := strconv.Unquote(val.Elts[1].(*ast.BasicLit).Value)
		if err != nil {
			t.Fatal(err)
		}
		kinds[code] = problemKind{status, title}
	}
	for _, kv := range mapLiteral(t, files, "details") {
		val := kv.Value.(*ast.CompositeLit)
		for i, into := range []*[]string{&ru, &en} {
			s, err := strconv.Unquote(val.Elts[i].(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			*into = append(*into, s)
		}
	}
	if len(kinds) == 0 || len(ru) == 0 {
		t.Fatal("found no problem codes or texts in shared/httpapi")
	}
	return kinds, ru, en
}

// formatPattern turns a detail format into a regexp its renderings match.
func formatPattern(format string) *regexp.Regexp {
	p := regexp.QuoteMeta(format)
	p = strings.NewReplacer("%s", ".+", "%d", `-?\d+`, "%%", "%").Replace(p)
	return regexp.MustCompile("^" + p + "$")
}

func matchesAny(s string, formats []string) bool {
	for _, f := range formats {
		if formatPattern(f).MatchString(s) {
			return true
		}
	}
	return false
}

// otherStatuses are statuses a code is also sent with besides its own:
// invalid_request is 400 for a malformed body and 422 for a missing or
// unsupported value.
var otherStatuses = map[string][]int{"invalid_request": {422}}

// TestProblemCodesDocumented holds infra/openapi.yaml to the problems the
// service sends (shared/httpapi): the ProblemCode enum is exactly the
// service's codes; every code has a Russian and an English example
// (<code>_ru, <code>_en); every problem example has its code's type,
// title and status and a detail the service can actually produce in that
// language; and every example a response shows has that response's status.
func TestProblemCodesDocumented(t *testing.T) {
	kinds, ruTexts, enTexts := serviceProblems(t)
	doc := loadOpenAPI(t)
	schemas := m(m(doc["components"])["schemas"])
	examples := m(m(doc["components"])["examples"])

	var enum []string
	for _, c := range list(m(schemas["ProblemCode"])["enum"]) {
		enum = append(enum, str(c))
	}
	for code := range kinds {
		if !slices.Contains(enum, code) {
			t.Errorf("the service sends code %q; add it to ProblemCode in %s, with examples %s_ru and %s_en", code, openAPIPath, code, code)
		}
	}
	for _, code := range enum {
		if _, ok := kinds[code]; !ok {
			t.Errorf("ProblemCode lists %q, which shared/httpapi never sends", code)
		}
		for _, lang := range []string{"ru", "en"} {
			if examples[code+"_"+lang] == nil {
				t.Errorf("no example %s_%s in components/examples", code, lang)
			}
		}
	}

	problemExamples := 0
	for name, ex := range examples {
		v := m(m(ex)["value"])
		code := str(v["code"])
		if code == "" {
			continue // a success example
		}
		problemExamples++
		k, ok := kinds[code]
		if !ok {
			t.Errorf("example %s: unknown code %q", name, code)
			continue
		}
		if got := str(v["type"]); got != "urn:phonebind:problem:"+code {
			t.Errorf("example %s: type %q", name, got)
		}
		if got := str(v["title"]); got != k.title {
			t.Errorf("example %s: title %q, the service says %q", name, got, k.title)
		}
		status, _ := v["status"].(int)
		if status != k.status && !slices.Contains(otherStatuses[code], status) {
			t.Errorf("example %s: status %d, the service sends %s with %d", name, status, code, k.status)
		}
		detail := str(v["detail"])
		switch {
		case strings.HasSuffix(name, "_ru"):
			if !matchesAny(detail, ruTexts) {
				t.Errorf("example %s: detail %q is no Russian text of shared/httpapi/messages.go", name, detail)
			}
		case strings.HasSuffix(name, "_en"):
			if !matchesAny(detail, enTexts) {
				t.Errorf("example %s: detail %q is no English text of shared/httpapi/messages.go", name, detail)
			}
		default:
			t.Errorf("example %s: name it <…>_ru or <…>_en after its language", name)
		}
	}
	if problemExamples < 2*len(kinds) {
		t.Errorf("%d problem examples for %d codes", problemExamples, len(kinds))
	}

	// Every problem example a response shows has that response's status.
	responses := m(m(doc["components"])["responses"])
	for path, item := range m(doc["paths"]) {
		for _, method := range httpMethods {
			op := m(m(item)[method])
			for status, resp := range m(op["responses"]) {
				r := m(resp)
				if ref := str(r["$ref"]); ref != "" {
					r = m(responses[strings.TrimPrefix(ref, "#/components/responses/")])
					if r == nil {
						t.Errorf("%s %s %s: dangling %s", method, path, status, ref)
						continue
					}
				}
				problem := m(m(r["content"])["application/problem+json"])
				if problem == nil {
					continue
				}
				if len(m(problem["examples"])) == 0 {
					t.Errorf("%s %s %s: a problem response without examples", method, path, status)
				}
				for name, ex := range m(problem["examples"]) {
					ref := strings.TrimPrefix(str(m(ex)["$ref"]), "#/components/examples/")
					target := m(m(examples[ref])["value"])
					if target == nil {
						t.Errorf("%s %s %s: example %s refers to no component example", method, path, status, name)
						continue
					}
					if fmt.Sprint(target["status"]) != status {
						t.Errorf("%s %s answers %s with example %s of status %v", method, path, status, ref, target["status"])
					}
				}
			}
		}
	}
}

// TestProblemLimitsDocumented holds Problem.limit's enum to the limits the
// domain packages name (binding.Limit*, feedback.Limit*).
func TestProblemLimitsDocumented(t *testing.T) {
	var want []string
	for _, dir := range []string{"shared/binding", "shared/feedback"} {
		for name, v := range stringConsts(goPackage(t, dir)) {
			if strings.HasPrefix(name, "Limit") {
				want = append(want, v)
			}
		}
	}
	var got []string
	problem := m(m(m(loadOpenAPI(t)["components"])["schemas"])["Problem"])
	for _, v := range list(m(m(problem["properties"])["limit"])["enum"]) {
		got = append(got, str(v))
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("Problem.limit enum in %s = %v, the code names %v", openAPIPath, got, want)
	}
}
