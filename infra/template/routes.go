package template

import (
	"cmp"
	"slices"
	"strings"
)

// Route is one HTTP API route and the function behind it, as a function's
// HttpApi event declares it.
type Route struct {
	FunctionID string // logical id of the AWS::Serverless::Function
	Method     string // upper case, or "ANY"
	Path       string // e.g. /v1/feedback/{ticket_id}, or $default
}

// Key is the route key API Gateway uses: "POST /v1/phone/verification", or
// "$default" for the catch-all route.
func (r Route) Key() string {
	if r.Path == DefaultPath {
		return DefaultPath
	}
	return r.Method + " " + r.Path
}

// DefaultPath is the path of the catch-all route, which SAM creates for an
// HttpApi event without Path and Method.
const DefaultPath = "$default"

// Routes lists the HttpApi routes of every serverless function, sorted by
// path, then method, then function. Events whose path or method is an
// intrinsic function are skipped: only the deployed API can know them.
func (t *Template) Routes() []Route {
	var routes []Route
	for id, res := range t.resources {
		if res.typ != "AWS::Serverless::Function" {
			continue
		}
		events := field(res.properties, "Events")
		if events == nil {
			continue
		}
		for i := 0; i+1 < len(events.Content); i += 2 {
			ev := resolve(events.Content[i+1])
			if scalar(field(ev, "Type")) != "HttpApi" {
				continue
			}
			props := field(ev, "Properties")
			methodNode, pathNode := field(props, "Method"), field(props, "Path")
			if methodNode == nil && pathNode == nil {
				routes = append(routes, Route{FunctionID: id, Method: "ANY", Path: DefaultPath})
				continue
			}
			method, path := scalar(methodNode), scalar(pathNode)
			if method == "" || path == "" {
				continue
			}
			method = strings.ToUpper(method)
			if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
				method = "ANY"
			}
			routes = append(routes, Route{FunctionID: id, Method: method, Path: path})
		}
	}
	slices.SortFunc(routes, func(a, b Route) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Method, b.Method),
			cmp.Compare(a.FunctionID, b.FunctionID))
	})
	return routes
}
