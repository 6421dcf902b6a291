package contract

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gosuslugi/phonebind/infra/local/runner"
	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// root is the module root, where template.yaml lives.
func root(t *testing.T) string {
	t.Helper()
	dir, err := template.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadTemplate parses the project's template.yaml.
func loadTemplate(t *testing.T) *template.Template {
	t.Helper()
	tpl, _, err := template.LoadProject()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// openAPIPath is the API contract, relative to the module root.
const openAPIPath = "infra/openapi.yaml"

// loadOpenAPI reads infra/openapi.yaml as plain values.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), openAPIPath))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIPath, err)
	}
	return doc
}

// m and list read nested plain values without a type switch at every step.
func m(v any) map[string]any {
	out, _ := v.(map[string]any)
	return out
}

func list(v any) []any {
	out, _ := v.([]any)
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// jwtSecret signs the tokens the test runner accepts.
var jwtSecret = []byte("contract-test-secret")

// localAPI is the whole API as `make run` serves it: the template's routes,
// the handlers app.New assembles from env (a map standing in for the
// environment), the runner's HS256 tokens. extra adjusts the assembly.
type localAPI struct {
	app *core.App
	url string
	t   *testing.T
	now func() time.Time // the service's clock, for auth_time
}

func startLocal(t *testing.T, env map[string]string, extra func(*core.Options)) *localAPI {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	opts := core.Options{Local: true, Logger: logger, Outbox: notify.NewOutbox(io.Discard, nil)}
	if extra != nil {
		extra(&opts)
	}
	a, err := app.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	h, err := runner.New(runner.Options{
		Routes:    loadTemplate(t).Routes(),
		Handlers:  a.Handlers(),
		JWTSecret: jwtSecret,
		Logger:    logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock
	}
	return &localAPI{app: a, url: srv.URL, t: t, now: now}
}

// do sends one request, as account sub ("" sends no token), and returns
// the status and body.
func (l *localAPI) do(sub, method, path, body string) (int, []byte) {
	l.t.Helper()
	res := l.send(l.request(sub, method, path, body))
	return res.status, res.body
}

// request builds what do sends: a JSON body, and a token for sub.
func (l *localAPI) request(sub, method, path, body string) *http.Request {
	l.t.Helper()
	req, err := http.NewRequest(method, l.url+path, strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if sub != "" {
		req.Header.Set("Authorization", "Bearer "+l.token(map[string]any{"sub": sub, "email": sub + "@example.org", "email_verified": true,
			"amr": []string{"pwd", "mfa"}, "auth_time": l.now().Unix()}))
	}
	return req
}

// token signs claims as the runner's issuer, valid for an hour.
func (l *localAPI) token(claims map[string]any) string {
	l.t.Helper()
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	tok, err := runner.SignHS256(jwtSecret, claims)
	if err != nil {
		l.t.Fatal(err)
	}
	return tok
}

// answer is one response, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send sends req and reads its answer.
func (l *localAPI) send(req *http.Request) answer {
	l.t.Helper()
	a := testenv.Do(l.t, req)
	return answer{status: a.Status, header: a.Header, body: a.Body}
}
