package contract

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// httpMethods are the keys of an OpenAPI path item that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIRoutes lists "METHOD /path" for every operation in the contract.
func openAPIRoutes(t *testing.T) []string {
	t.Helper()
	var out []string
	for path, item := range m(loadOpenAPI(t)["paths"]) {
		for _, method := range httpMethods {
			if m(item)[method] != nil {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

var pathParam = regexp.MustCompile(`\{[^}/]+\}`)

// TestRoutesAgree holds the three places a route lives to the same set:
// template.yaml's HttpApi events (what API Gateway serves once deployed),
// infra/openapi.yaml (what frontends are told), and the local runner
// (`make run`: the template's routes whose function app.Handlers wires).
// A route the runner knows but cannot serve answers 500 there, so "served"
// means: routed (401 without a token, not the runner's 404) and handled
// (with a token, anything but that 500).
func TestRoutesAgree(t *testing.T) {
	tpl := loadTemplate(t)
	var fromTemplate []string
	for _, r := range tpl.Routes() {
		fromTemplate = append(fromTemplate, r.Key())
	}
	fromOpenAPI := openAPIRoutes(t)

	local := startLocal(t, map[string]string{}, nil)
	served := func(key string) bool {
		method, path, _ := strings.Cut(key, " ")
		path = pathParam.ReplaceAllString(path, "FB-23456789")
		if status, _ := local.do("", method, path, ""); status != 401 {
			return false
		}
		status, _ := local.do("contract-routes", method, path, "")
		return status != 500
	}

	all := map[string]bool{}
	for _, k := range slices.Concat(fromTemplate, fromOpenAPI) {
		all[k] = true
	}
	keys := slices.Sorted(maps.Keys(all))
	if len(keys) == 0 {
		t.Fatal("no routes anywhere")
	}
	var report []string
	for _, k := range keys {
		inTpl, inAPI, inRunner := slices.Contains(fromTemplate, k), slices.Contains(fromOpenAPI, k), served(k)
		if inTpl && inAPI && inRunner {
			continue
		}
		report = append(report, fmt.Sprintf("  %-36s template.yaml=%-5v %s=%-5v local runner serves it=%v", k, inTpl, openAPIPath, inAPI, inRunner))
	}
	if len(report) > 0 {
		t.Errorf("routes differ between template.yaml, %s and the local runner:\n%s", openAPIPath, strings.Join(report, "\n"))
	}
}
