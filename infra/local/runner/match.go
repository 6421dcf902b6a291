package runner

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/httpapi"
)

// route is a template route ready to match requests.
type route struct {
	template.Route
	segments []segment
	handler  httpapi.Handler // nil when no function was wired for it
}

// segment is one piece of a route path: a literal, a {param} or the
// greedy {param+} that takes the rest of the path.
type segment struct {
	literal string
	param   string
	greedy  bool
}

// specificity ranks a segment: literals beat parameters beat greedy ones,
// as API Gateway prefers the most specific route.
func (s segment) specificity() int {
	switch {
	case s.param == "":
		return 2
	case !s.greedy:
		return 1
	default:
		return 0
	}
}

// compile splits a route path into segments.
func compile(r template.Route) (route, error) {
	out := route{Route: r}
	if r.Path == template.DefaultPath {
		return out, nil
	}
	if !strings.HasPrefix(r.Path, "/") {
		return out, fmt.Errorf("route %s: path must start with /", r.Key())
	}
	parts := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") {
			out.segments = append(out.segments, segment{literal: p})
			continue
		}
		name := p[1 : len(p)-1]
		greedy := strings.HasSuffix(name, "+")
		name = strings.TrimSuffix(name, "+")
		if name == "" {
			return out, fmt.Errorf("route %s: empty path parameter", r.Key())
		}
		if greedy && i != len(parts)-1 {
			return out, fmt.Errorf("route %s: {%s+} must be the last segment", r.Key(), name)
		}
		out.segments = append(out.segments, segment{param: name, greedy: greedy})
	}
	return out, nil
}

// match reports whether the route takes method and the escaped path, and
// with which path parameters.
func (r route) match(method string, path []string) (map[string]string, bool) {
	if r.Method != "ANY" && r.Method != method {
		return nil, false
	}
	if r.Path == template.DefaultPath {
		return nil, true
	}
	var params map[string]string
	for i, s := range r.segments {
		if s.greedy {
			if i >= len(path) {
				return nil, false
			}
			rest, err := url.PathUnescape(strings.Join(path[i:], "/"))
			if err != nil || rest == "" {
				return nil, false
			}
			params = setParam(params, s.param, rest)
			return params, true
		}
		if i >= len(path) {
			return nil, false
		}
		seg, err := url.PathUnescape(path[i])
		if err != nil {
			return nil, false
		}
		if s.param == "" {
			if seg != s.literal {
				return nil, false
			}
			continue
		}
		if seg == "" {
			return nil, false
		}
		params = setParam(params, s.param, seg)
	}
	if len(path) != len(r.segments) {
		return nil, false
	}
	return params, true
}

func setParam(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// moreSpecific reports whether a should win over b when both match.
func moreSpecific(a, b route) bool {
	if (a.Path == template.DefaultPath) != (b.Path == template.DefaultPath) {
		return b.Path == template.DefaultPath
	}
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		if sa, sb := a.segments[i].specificity(), b.segments[i].specificity(); sa != sb {
			return sa > sb
		}
	}
	if len(a.segments) != len(b.segments) {
		return len(a.segments) > len(b.segments)
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

// lookup finds the most specific route for a request.
func lookup(routes []route, method, escapedPath string) (route, map[string]string, bool) {
	path := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	var (
		best   route
		params map[string]string
		found  bool
	)
	for _, r := range routes {
		p, ok := r.match(method, path)
		if ok && (!found || moreSpecific(r, best)) {
			best, params, found = r, p, true
		}
	}
	return best, params, found
}
