package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TokenPath answers POST with a development token signed with the runner's
// JWT secret: the citizen's page (infra/web) mints one from its side panel
// for a chosen account and session strength, as `make token` does.
const TokenPath = "/_local/token"

// TokenRequest is the body of POST /_local/token.
type TokenRequest struct {
	// Sub is the account id; required.
	Sub string `json:"sub"`
	// Email, when set, becomes the email claim with email_verified true.
	Email string `json:"email,omitempty"`
	// AMR are the sign-in methods (RFC 8176): ["pwd"] is a session without
	// a second factor, ["pwd","mfa"] one with it.
	AMR []string `json:"amr,omitempty"`
	// SignedInSecondsAgo sets auth_time that long before now (0: now), so a
	// session too old for a step-up can be tried.
	SignedInSecondsAgo int64 `json:"signed_in_seconds_ago,omitempty"`
}

// TokenResponse is the answer of POST /_local/token.
type TokenResponse struct {
	Token  string         `json:"token"`
	Claims map[string]any `json:"claims"`
}

// tokenTTL is how long a minted token is valid: one sitting at the page.
const tokenTTL = 8 * time.Hour

// serveToken mints a token from a TokenRequest (400 with a message when the
// body is not one).
func (s *server) serveToken(w http.ResponseWriter, r *http.Request, req *events.APIGatewayV2HTTPRequest) int {
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
	dec.DisallowUnknownFields()
	var in TokenRequest
	if err := dec.Decode(&in); err != nil {
		return writeMessage(w, http.StatusBadRequest, "the body is not a token request: "+err.Error())
	}
	in.Sub = strings.TrimSpace(in.Sub)
	switch {
	case in.Sub == "" || len(in.Sub) > 128:
		return writeMessage(w, http.StatusBadRequest, "sub: 1 to 128 characters required")
	case in.SignedInSecondsAgo < 0:
		return writeMessage(w, http.StatusBadRequest, "signed_in_seconds_ago: must not be negative")
	}
	now := s.now()
	claims := map[string]any{
		"sub":       in.Sub,
		"iat":       now.Unix(),
		"exp":       now.Add(tokenTTL).Unix(),
		"auth_time": now.Add(-time.Duration(in.SignedInSecondsAgo) * time.Second).Unix(),
	}
	if len(in.AMR) > 0 {
		claims["amr"] = in.AMR
	}
	if e := strings.TrimSpace(in.Email); e != "" {
		claims["email"] = e
		claims["email_verified"] = true
	}
	tok, err := SignHS256(s.secret, claims)
	if err != nil {
		return writeMessage(w, http.StatusInternalServerError, err.Error())
	}
	return s.write(w, req, jsonResult(http.StatusOK, TokenResponse{Token: tok, Claims: claims}))
}

// webPageCSP lets the page load only its own files and call only its own
// origin.
const webPageCSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// webFile names the file of WebDir a GET path asks for: "/" is index.html,
// "/app.js" is app.js; anything nested, hidden or absent is "" (the API's
// 404 answers it).
func (s *server) webFile(path string) string {
	if s.webDir == "" {
		return ""
	}
	if path == "/" {
		return "index.html"
	}
	name := strings.TrimPrefix(path, "/")
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return ""
	}
	if fi, err := os.Stat(filepath.Join(s.webDir, name)); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	return name
}

// serveWeb sends a built file of the page; "/" before the page is built
// says how to build it.
func (s *server) serveWeb(w http.ResponseWriter, r *http.Request, name string) int {
	f, err := os.Open(filepath.Join(s.webDir, name))
	if err != nil {
		if name == "index.html" && errors.Is(err, os.ErrNotExist) {
			var page bytes.Buffer
			_ = notBuiltPage.Execute(&page, s.webDir)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(page.Bytes())
			return http.StatusNotFound
		}
		return writeMessage(w, http.StatusNotFound, "Not Found")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return writeMessage(w, http.StatusInternalServerError, err.Error())
	}
	ct := mime.TypeByExtension(filepath.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if name == "index.html" {
		h.Set("Content-Security-Policy", webPageCSP)
	}
	http.ServeContent(w, r, name, fi.ModTime(), f)
	return http.StatusOK
}

var notBuiltPage = template.Must(template.New("not built").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Page not built</title></head>
<body style="font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>The citizen's page is not built</h1>
<p>Nothing is in <code>{{.}}</code> yet. Build it with <code>make web</code> (Node 20 and npm;
it runs <code>npm ci</code> in infra/web), or start the runner with <code>make run-dev</code>,
which builds it first. Then reload.</p>
<p>The API itself works: see the <a href="/reference">API reference</a>.</p>
</body></html>
`))
