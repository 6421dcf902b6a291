package runner

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"
)

// ReferencePath is where the runner serves the API reference: an HTML page
// rendered from the OpenAPI document, with no script and nothing fetched
// from elsewhere, so it opens offline and in any browser.
const ReferencePath = "/reference"

// serveReference renders the OpenAPI document as it is on disk now.
func (s *server) serveReference(w http.ResponseWriter, req *events.APIGatewayV2HTTPRequest) int {
	doc, status := s.openAPIDoc(w)
	if doc == nil {
		return status
	}
	page, err := RenderReference(doc)
	if err != nil {
		s.logger.Error("render the API reference", "error", err.Error())
		return writeMessage(w, http.StatusInternalServerError, "the OpenAPI document cannot be rendered: "+err.Error())
	}
	return s.write(w, req, okResponse(page, map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-cache",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
	}))
}

// reference is what the page shows of an OpenAPI document.
type reference struct {
	Title, Version, Summary string
	Description             []textPart
	Operations              []operation
	Problems                []string
	ProblemsText            []textPart
}

type operation struct {
	Method, Path, ID, Summary string
	Description               []textPart
	Parameters                []field
	Bodies                    []body
	Responses                 []response
}

// body is one request body schema: its name and fields; a oneOf gives one
// body per alternative.
type body struct {
	ContentType, Schema string
	Fields              []field
}

type field struct {
	Name, In, Type string
	Required       bool
	Description    []textPart
}

type response struct {
	Status      string
	Description []textPart
	ContentType string
	Schema      string
	Headers     []string
	Codes       []string
}

// textPart is a run of description text, Code for what was in backticks.
type textPart struct {
	Text string
	Code bool
}

func prose(s string) []textPart {
	var out []textPart
	for i, part := range strings.Split(strings.TrimSpace(s), "`") {
		if part != "" {
			out = append(out, textPart{Text: part, Code: i%2 == 1})
		}
	}
	return out
}

// RenderReference renders an OpenAPI 3.1 document as an HTML page: every
// path and method with its summary, parameters, request body fields and
// responses (status, schema, headers and the problem codes its examples
// show), and the list of problem codes.
func RenderReference(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("openapi: the document is empty")
	}
	d := openapiDoc{root: root.Content[0]}
	info := d.at(d.root, "info")
	ref := reference{
		Title:       d.str(info, "title"),
		Version:     d.str(info, "version"),
		Summary:     d.str(info, "summary"),
		Description: prose(d.str(info, "description")),
	}
	for _, p := range pairs(d.at(d.root, "paths")) {
		for _, m := range pairs(p.value) {
			if !slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, m.key) {
				continue
			}
			ref.Operations = append(ref.Operations, d.operation(p.key, m.key, m.value, d.at(p.value, "parameters")))
		}
	}
	codes := d.resolve(d.at(d.at(d.at(d.root, "components"), "schemas"), "ProblemCode"))
	ref.ProblemsText = prose(d.str(codes, "description"))
	for _, c := range d.at(codes, "enum").Content {
		ref.Problems = append(ref.Problems, c.Value)
	}
	var out bytes.Buffer
	if err := referencePage.Execute(&out, ref); err != nil {
		return nil, fmt.Errorf("reference page: %w", err)
	}
	return out.Bytes(), nil
}

// openapiDoc reads a parsed document, following local $refs.
type openapiDoc struct{ root *yaml.Node }

type pair struct {
	key   string
	value *yaml.Node
}

// pairs lists a mapping's entries in document order.
func pairs(n *yaml.Node) []pair {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, pair{n.Content[i].Value, n.Content[i+1]})
	}
	return out
}

// at is a mapping's value at key, its $ref followed; nil when absent.
func (d openapiDoc) at(n *yaml.Node, key string) *yaml.Node {
	n = d.resolve(n)
	for _, p := range pairs(n) {
		if p.key == key {
			return d.resolve(p.value)
		}
	}
	return nil
}

func (d openapiDoc) str(n *yaml.Node, key string) string {
	if v := d.at(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// refName is the last part of a node's $ref ("" for none).
func refName(n *yaml.Node) string {
	for _, p := range pairs(n) {
		if p.key == "$ref" {
			return p.value.Value[strings.LastIndex(p.value.Value, "/")+1:]
		}
	}
	return ""
}

// resolve follows a "#/…" $ref (up to a few levels); other nodes are
// returned as they are.
func (d openapiDoc) resolve(n *yaml.Node) *yaml.Node {
	for range 8 {
		var ref string
		for _, p := range pairs(n) {
			if p.key == "$ref" {
				ref = p.value.Value
			}
		}
		path, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			return n
		}
		target := d.root
		for _, key := range strings.Split(path, "/") {
			var next *yaml.Node
			for _, p := range pairs(target) {
				if p.key == key {
					next = p.value
				}
			}
			if next == nil {
				return n
			}
			target = next
		}
		n = target
	}
	return n
}

func (d openapiDoc) operation(path, method string, n, shared *yaml.Node) operation {
	op := operation{
		Method:      strings.ToUpper(method),
		Path:        path,
		ID:          d.str(n, "operationId"),
		Summary:     d.str(n, "summary"),
		Description: prose(d.str(n, "description")),
	}
	params := []*yaml.Node{}
	if shared != nil {
		params = append(params, shared.Content...)
	}
	if own := d.at(n, "parameters"); own != nil {
		params = append(params, own.Content...)
	}
	for _, p := range params {
		op.Parameters = append(op.Parameters, field{
			Name:        d.str(p, "name"),
			In:          d.str(p, "in"),
			Type:        d.typeOf(d.at(p, "schema")),
			Required:    d.str(p, "required") == "true",
			Description: prose(d.str(p, "description")),
		})
	}
	for _, c := range pairs(d.at(d.at(n, "requestBody"), "content")) {
		// The schema as written (not resolved), so that its $ref names it.
		var schema *yaml.Node
		for _, p := range pairs(c.value) {
			if p.key == "schema" {
				schema = p.value
			}
		}
		alternatives := d.at(schema, "oneOf")
		if alternatives == nil {
			op.Bodies = append(op.Bodies, body{ContentType: c.key, Schema: refName(schema), Fields: d.fields(schema)})
			continue
		}
		for _, alt := range alternatives.Content {
			op.Bodies = append(op.Bodies, body{ContentType: c.key, Schema: refName(alt), Fields: d.fields(alt)})
		}
	}
	for _, r := range pairs(d.at(n, "responses")) {
		resp := response{Status: r.key, Description: prose(d.str(r.value, "description"))}
		for _, h := range pairs(d.at(r.value, "headers")) {
			resp.Headers = append(resp.Headers, h.key)
		}
		for _, c := range pairs(d.at(r.value, "content")) {
			resp.ContentType = c.key
			for _, p := range pairs(c.value) {
				if p.key == "schema" {
					resp.Schema = refName(p.value)
				}
			}
			for _, e := range pairs(d.at(c.value, "examples")) {
				if code := d.str(d.at(e.value, "value"), "code"); code != "" && !slices.Contains(resp.Codes, code) {
					resp.Codes = append(resp.Codes, code)
				}
			}
		}
		op.Responses = append(op.Responses, resp)
	}
	return op
}

// fields lists an object schema's properties, the required ones marked.
func (d openapiDoc) fields(schema *yaml.Node) []field {
	var required []string
	if r := d.at(schema, "required"); r != nil {
		for _, c := range r.Content {
			required = append(required, c.Value)
		}
	}
	var out []field
	for _, p := range pairs(d.at(schema, "properties")) {
		out = append(out, field{
			Name:        p.key,
			Type:        d.typeOf(p.value),
			Required:    slices.Contains(required, p.key),
			Description: prose(d.str(p.value, "description")),
		})
	}
	return out
}

// typeOf says in a few words what a schema allows: its type and format, a
// const or enum, or the name of the schema it refers to.
func (d openapiDoc) typeOf(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if name := refName(n); name != "" {
		return name
	}
	if c := d.at(n, "const"); c != nil {
		return fmt.Sprintf("%q", c.Value)
	}
	t := d.str(n, "type")
	if t == "array" {
		t = "array of " + d.typeOf(d.at(n, "items"))
	}
	if f := d.str(n, "format"); f != "" {
		t += " (" + f + ")"
	}
	if e := d.at(n, "enum"); e != nil {
		var vals []string
		for _, c := range e.Content {
			vals = append(vals, c.Value)
		}
		t += ": " + strings.Join(vals, " | ")
	}
	return strings.TrimSpace(t)
}

var referencePage = template.Must(template.New("reference").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
code { font: 13px ui-monospace, monospace; background: #f3f3f3; padding: 0 .2em; }
.text { white-space: pre-line; }
section.op { border-top: 1px solid #ccc; margin-top: 2rem; }
.method { font: bold 14px ui-monospace, monospace; padding: .1em .4em; border-radius: 3px; background: #245; color: #fff; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .2rem .6rem; border-bottom: 1px solid #eee; }
nav li { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
<p>{{.Summary}} The contract: <a href="/openapi.yaml">/openapi.yaml</a>.</p>
<nav><ul>{{range .Operations}}<li><a href="#{{.ID}}">{{.Method}} {{.Path}}</a> {{.Summary}}</li>{{end}}<li><a href="#problems">Problem codes</a></li></ul></nav>
<details><summary>About this API</summary><p class="text">{{template "text" .Description}}</p></details>
{{range .Operations}}
<section class="op" id="{{.ID}}">
<h2><span class="method">{{.Method}}</span> <code>{{.Path}}</code></h2>
<p><strong>{{.Summary}}</strong>{{if .ID}} <small>({{.ID}})</small>{{end}}</p>
<p class="text">{{template "text" .Description}}</p>
{{if .Parameters}}<h3>Parameters</h3>
<table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>
{{range .Parameters}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{if .Required}}yes{{end}}</td><td class="text">{{template "text" .Description}}</td></tr>
{{end}}</table>{{end}}
{{range .Bodies}}<h3>Request body{{if .Schema}} {{.Schema}}{{end}} <small>({{.ContentType}})</small></h3>
<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{if .Required}}yes{{end}}</td><td class="text">{{template "text" .Description}}</td></tr>
{{end}}</table>{{end}}
<h3>Responses</h3>
<table><tr><th>status</th><th>body</th><th>description</th></tr>
{{range .Responses}}<tr><td><strong>{{.Status}}</strong></td><td>{{if .ContentType}}<code>{{.ContentType}}</code>{{if .Schema}} {{.Schema}}{{end}}{{end}}{{range .Headers}}<br>header <code>{{.}}</code>{{end}}</td>
<td><span class="text">{{template "text" .Description}}</span>{{if .Codes}}<br>codes: {{range $i, $c := .Codes}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}}{{end}}</td></tr>
{{end}}</table>
</section>
{{end}}
<section class="op" id="problems">
<h2>Problem codes</h2>
<p class="text">{{template "text" .ProblemsText}}</p>
<ul>{{range .Problems}}<li><code>{{.}}</code></li>{{end}}</ul>
</section>
</body>
</html>
{{define "text"}}{{range .}}{{if .Code}}<code>{{.Text}}</code>{{else}}{{.Text}}{{end}}{{end}}{{end}}`))
