// Package runner serves the HTTP API on a laptop the way API Gateway would
// in front of the deployed functions: routes come from template.yaml, a JWT
// is checked before any function runs, and each function gets a real-shaped
// payload 2.0 event and has its response written back as API Gateway would.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/phone"
)

// MaxBodyBytes is the largest request body the runner reads. API Gateway
// allows 10 MB; no route of this API needs more than a few kilobytes, and the
// functions' own limits are lower still.
const MaxBodyBytes = 1 << 20

// OutboxPath is where the runner lists messages sent during a local run
// (GET, ?to= for one destination) and forgets them (DELETE).
const OutboxPath = "/_local/outbox"

// RunnerPath answers GET with a RunnerInfo: how `make invoke` (and anyone
// else) tells a running runner from another server on the port.
const RunnerPath = "/_local/runner"

// RunnerService is RunnerInfo.Service.
const RunnerService = "phonebind local runner"

// RunnerInfo is the body of GET /_local/runner.
type RunnerInfo struct {
	// Service is RunnerService.
	Service string `json:"service"`
	// About is Options.About: what the API runs on.
	About string `json:"about,omitempty"`
}

// InvokePath prefixes POST /_local/invoke/{function}: the body is a raw
// Lambda event run through the function as a direct invocation would (sam
// local invoke, the console's Test tab), on the runner's own store.
const InvokePath = "/_local/invoke/"

// Invoker runs a raw event through a function named by logical id or
// directory; a returned error is the function's failure.
type Invoker func(ctx context.Context, function string, event json.RawMessage) (any, error)

// Options configures a runner.
type Options struct {
	// Routes are the template's routes (template.Template.Routes).
	Routes []template.Route
	// Handlers are the functions by logical id (Route.FunctionID). A route
	// whose function is missing answers 500, as an unwired integration would.
	Handlers map[string]httpapi.Handler
	// JWTSecret is the HS256 key tokens must be signed with.
	JWTSecret []byte
	// TrustForwardedFor takes the source IP from the right-most
	// X-Forwarded-For entry (the one the proxy appended), for a runner
	// behind a local proxy.
	TrustForwardedFor bool
	// Outbox, when set, is served at GET /_local/outbox (?to= keeps the
	// messages to one number or address) and cleared by
	// DELETE /_local/outbox.
	Outbox *notify.Outbox
	// Phones reads the number in ?to= as the API reads numbers; nil reads
	// them as phone.NewParser(nil) does (Russian numbers).
	Phones *phone.Parser
	// CORS, when set, is answered as API Gateway answers the HttpApi's
	// CorsConfiguration; on /_local/* only to the origins it names (not
	// "*"), with DELETE allowed too.
	CORS *CORS
	// OpenAPIFile, when set, is served at GET /openapi.yaml and rendered
	// as HTML at GET /reference, read on each request.
	OpenAPIFile string
	// WebDir, when set, holds the built citizen's page (infra/web/dist):
	// GET / serves its index.html (or says how to build it), GET /<file>
	// its top-level files. Routes of the API win over it.
	WebDir string
	// Invoke, when set, is served at POST /_local/invoke/{function}.
	Invoke Invoker
	// About says what the API runs on (store, senders), at GET
	// /_local/runner.
	About string
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Now is the clock for token expiry and event times; nil is time.Now.
	Now func() time.Time
}

// server is the http.Handler New returns.
type server struct {
	routes            []route
	secret            []byte
	trustForwardedFor bool
	outbox            *notify.Outbox
	phones            *phone.Parser
	cors              *cors
	openAPIFile       string
	webDir            string
	invoke            Invoker
	about             string
	logger            *slog.Logger
	now               func() time.Time
}

// New checks the options and returns the handler serving the API.
func New(opts Options) (http.Handler, error) {
	if len(opts.JWTSecret) == 0 {
		return nil, errors.New("runner: JWTSecret is empty")
	}
	s := &server{
		secret:            opts.JWTSecret,
		trustForwardedFor: opts.TrustForwardedFor,
		outbox:            opts.Outbox,
		phones:            opts.Phones,
		openAPIFile:       opts.OpenAPIFile,
		webDir:            opts.WebDir,
		invoke:            opts.Invoke,
		about:             opts.About,
		logger:            opts.Logger,
		now:               opts.Now,
	}
	if s.phones == nil {
		s.phones = phone.NewParser(nil)
	}
	c, err := newCORS(opts.CORS)
	if err != nil {
		return nil, err
	}
	s.cors = c
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	seen := map[string]bool{}
	for _, r := range opts.Routes {
		if seen[r.Key()] {
			return nil, fmt.Errorf("runner: route %s declared twice", r.Key())
		}
		seen[r.Key()] = true
		compiled, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
		compiled.handler = opts.Handlers[r.FunctionID]
		if compiled.handler == nil {
			s.logger.Warn("route has no handler; it will answer 500",
				slog.String("route", r.Key()), slog.String("function", r.FunctionID))
		}
		s.routes = append(s.routes, compiled)
	}
	return s, nil
}
