package runner

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gosuslugi/phonebind/infra/template"
)

// CORS is an HTTP API's CorsConfiguration, answered as API Gateway answers
// it: a preflight (OPTIONS with Origin and Access-Control-Request-Method) on
// any path is 204 and reaches no function; every other answer carries
// Access-Control-Allow-Origin and Access-Control-Expose-Headers when the
// Origin is allowed, in place of any Access-Control-* the function set; a
// disallowed origin gets no CORS headers at all, so the browser refuses.
type CORS struct {
	// AllowOrigins are origins as a browser writes them
	// (https://www.gosuslugi.ru), "*" for any, or patterns with "*" for the
	// port (http://localhost:*) or a leading subdomain
	// (https://*.example.org).
	AllowOrigins []string
	// AllowMethods, AllowHeaders and ExposeHeaders are sent as they are
	// listed; "*" in AllowMethods allows any method, in AllowHeaders any
	// requested header.
	AllowMethods  []string
	AllowHeaders  []string
	ExposeHeaders []string
	// MaxAge is how long, in seconds, a browser may keep a preflight's
	// answer; 0 sends no Access-Control-Max-Age.
	MaxAge int
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool
}

// TemplateCORS reads the CorsConfiguration of the template's
// AWS::Serverless::HttpApi (or of Globals.HttpApi). It returns nil when the
// API has none. AllowOrigins is filled only when the template lists the
// origins literally: a !Ref to a parameter (CorsAllowedOrigins) is the
// deployer's to choose, and the caller's.
func TemplateCORS(t *template.Template) (*CORS, error) {
	var conf any
	for _, r := range t.Resources() {
		if r.Type != "AWS::Serverless::HttpApi" || r.Properties["CorsConfiguration"] == nil {
			continue
		}
		if conf != nil {
			return nil, errors.New("CorsConfiguration: more than one HttpApi declares one")
		}
		conf = r.Properties["CorsConfiguration"]
	}
	if conf == nil {
		if api, ok := t.Section("Globals")["HttpApi"].(map[string]any); ok {
			conf = api["CorsConfiguration"]
		}
	}
	if conf == nil {
		return nil, nil
	}
	m, ok := conf.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("CorsConfiguration: %s is not a mapping", template.Render(conf))
	}
	var (
		c   CORS
		err error
	)
	if _, isRef := m["AllowOrigins"].(map[string]any); !isRef && m["AllowOrigins"] != nil {
		if c.AllowOrigins, err = stringList(m, "AllowOrigins"); err != nil {
			return nil, err
		}
	}
	if c.AllowMethods, err = stringList(m, "AllowMethods"); err != nil {
		return nil, err
	}
	if c.AllowHeaders, err = stringList(m, "AllowHeaders"); err != nil {
		return nil, err
	}
	if c.ExposeHeaders, err = stringList(m, "ExposeHeaders"); err != nil {
		return nil, err
	}
	if c.MaxAge, err = optionalScalar[int](m, "MaxAge", "a number of seconds"); err != nil {
		return nil, err
	}
	if c.AllowCredentials, err = optionalScalar[bool](m, "AllowCredentials", "true or false"); err != nil {
		return nil, err
	}
	return &c, nil
}

// optionalScalar reads m[key], absent or of type T; what says what it must
// be when it is not.
func optionalScalar[T any](m map[string]any, key, what string) (T, error) {
	var zero T
	switch v := m[key].(type) {
	case nil:
		return zero, nil
	case T:
		return v, nil
	default:
		return zero, fmt.Errorf("CorsConfiguration.%s: %s is not %s", key, template.Render(v), what)
	}
}

func stringList(m map[string]any, key string) ([]string, error) {
	items, ok := m[key].([]any)
	if !ok && m[key] != nil {
		return nil, fmt.Errorf("CorsConfiguration.%s: %s is not a list", key, template.Render(m[key]))
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("CorsConfiguration.%s: %s is not a literal string", key, template.Render(it))
		}
		out = append(out, s)
	}
	return out, nil
}

// DefaultLocalOrigins are the origins the runner allows when
// CORS_ALLOWED_ORIGINS is not set: a front end's development server on any
// port of this machine.
var DefaultLocalOrigins = []string{"http://localhost:*", "http://127.0.0.1:*"}

// ParseOrigins reads a comma-separated list of origins or patterns, as
// CORS_ALLOWED_ORIGINS and the CorsAllowedOrigins parameter take them.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if _, err := parseOriginPattern(o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// originPattern is an allowed origin taken apart: "*" in host or port
// matches any (a host "*.x" any subdomain of x), anyOrigin matches all.
type originPattern struct {
	anyOrigin            bool
	scheme, host, port   string
	anyPort, anySubLevel bool
}

func parseOriginPattern(p string) (originPattern, error) {
	if p == "*" {
		return originPattern{anyOrigin: true}, nil
	}
	scheme, rest, ok := strings.Cut(p, "://")
	if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "/?#@") {
		return originPattern{}, fmt.Errorf("allowed origin %q: want scheme://host[:port], e.g. http://localhost:5173 or http://localhost:*", p)
	}
	op := originPattern{scheme: scheme, host: rest}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.HasSuffix(rest, "]") {
		op.host, op.port = rest[:i], rest[i+1:]
		if op.port == "*" {
			op.anyPort, op.port = true, ""
		} else if _, err := strconv.ParseUint(op.port, 10, 16); err != nil {
			return originPattern{}, fmt.Errorf("allowed origin %q: the port is not a number or *", p)
		}
	}
	if sub, ok := strings.CutPrefix(op.host, "*."); ok {
		op.host, op.anySubLevel = sub, true
	}
	if op.host == "" || strings.Contains(op.host, "*") {
		return originPattern{}, fmt.Errorf("allowed origin %q: * may stand only for the port or a leading subdomain", p)
	}
	op.host = strings.ToLower(op.host)
	return op, nil
}

// matches reports whether a browser's Origin header is allowed.
func (op originPattern) matches(origin string) bool {
	if op.anyOrigin {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != op.scheme || u.Host == "" || u.Path != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.HasPrefix(u.Host, "[") {
		host = "[" + host + "]"
	}
	if !op.anyPort && port != op.port {
		return false
	}
	if op.anySubLevel {
		return strings.HasSuffix(host, "."+op.host)
	}
	return host == op.host
}

// cors is a CORS ready to answer requests.
type cors struct {
	origins []originPattern
	conf    CORS
}

func newCORS(c *CORS) (*cors, error) {
	if c == nil {
		return nil, nil
	}
	out := &cors{conf: *c}
	for _, o := range c.AllowOrigins {
		p, err := parseOriginPattern(o)
		if err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
		out.origins = append(out.origins, p)
	}
	return out, nil
}

// localMethods are what a preflight to /_local/* allows: the outbox's GET
// and DELETE, invoke's POST.
var localMethods = []string{"GET", "POST", "DELETE", "OPTIONS"}

// allowedOrigin is the Access-Control-Allow-Origin value for a request's
// Origin, "" when there is none or it is not allowed. For a /_local/
// route (local) "*" allows nothing: only origins named or matched by a
// pattern.
func (c *cors) allowedOrigin(origin string, local bool) string {
	if origin == "" {
		return ""
	}
	for _, p := range c.origins {
		if local && p.anyOrigin {
			continue
		}
		if p.matches(origin) {
			if p.anyOrigin && !c.conf.AllowCredentials {
				return "*"
			}
			return origin
		}
	}
	return ""
}

// isPreflight reports whether a request is a CORS preflight.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight: 204, with the allowed methods and headers
// when the origin and the requested method are allowed, with no CORS
// headers otherwise. local is for a /_local/ route.
func (c *cors) preflight(w http.ResponseWriter, r *http.Request, local bool) int {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := c.allowedOrigin(r.Header.Get("Origin"), local)
	method := r.Header.Get("Access-Control-Request-Method")
	methods := c.conf.AllowMethods
	if local {
		methods = localMethods
	}
	if origin != "" && (slices.Contains(methods, "*") || slices.ContainsFunc(methods, func(m string) bool { return strings.EqualFold(m, method) })) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", strings.Join(methods, ","))
		allowHeaders := strings.Join(c.conf.AllowHeaders, ",")
		if slices.Contains(c.conf.AllowHeaders, "*") {
			allowHeaders = r.Header.Get("Access-Control-Request-Headers")
		}
		if allowHeaders != "" {
			h.Set("Access-Control-Allow-Headers", allowHeaders)
		}
		if c.conf.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.conf.MaxAge))
		}
		if c.conf.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// corsWriter puts the API's CORS headers on whatever answer is written
// through it, over any Access-Control-* header the function set: API
// Gateway ignores a function's own CORS headers when the API configures
// CORS.
type corsWriter struct {
	http.ResponseWriter
	headers     http.Header
	wroteHeader bool
}

func (c *cors) writer(w http.ResponseWriter, r *http.Request, local bool) *corsWriter {
	h := http.Header{"Vary": {"Origin"}}
	if origin := c.allowedOrigin(r.Header.Get("Origin"), local); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		if len(c.conf.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(c.conf.ExposeHeaders, ","))
		}
		if c.conf.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	return &corsWriter{ResponseWriter: w, headers: h}
}

func (cw *corsWriter) WriteHeader(status int) {
	if !cw.wroteHeader {
		cw.wroteHeader = true
		h := cw.ResponseWriter.Header()
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				delete(h, k)
			}
		}
		for k, v := range cw.headers {
			h[k] = append(h[k], v...)
		}
	}
	cw.ResponseWriter.WriteHeader(status)
}

func (cw *corsWriter) Write(b []byte) (int, error) {
	if !cw.wroteHeader {
		cw.WriteHeader(http.StatusOK)
	}
	return cw.ResponseWriter.Write(b)
}
