package runner

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokenRoute(t *testing.T) {
	s := start(t, nil)
	resp, body := s.do(t, "POST", TokenPath, "", `{"sub":"alice","email":"alice@example.ru","amr":["pwd"],"signed_in_seconds_ago":3600}`,
		"Content-Type", "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got TokenResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	claims, err := verifyHS256(secret, got.Token, now)
	if err != nil {
		t.Fatalf("the minted token does not verify with the runner's secret: %v", err)
	}
	if claims["sub"] != "alice" || claims["email"] != "alice@example.ru" || claims["email_verified"] != true {
		t.Errorf("claims %v", claims)
	}
	if at := fmt.Sprint(claims["auth_time"]); at != fmt.Sprint(now.Add(-time.Hour).Unix()) {
		t.Errorf("auth_time %v, want an hour before now", claims["auth_time"])
	}
	if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
		t.Errorf("amr %v", claims["amr"])
	}

	// The token opens the API as any dev token does.
	resp, body = s.do(t, "GET", "/v1/phone", got.Token, "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/phone with the minted token: %d %s", resp.StatusCode, body)
	}
	if sub := s.fns["StatusFunction"].last(t).RequestContext.Authorizer.JWT.Claims["sub"]; sub != "alice" {
		t.Errorf("the function saw sub %q", sub)
	}
}

func TestTokenRouteRefuses(t *testing.T) {
	s := start(t, nil)
	for _, c := range []struct {
		name, body string
		headers    []string
		status     int
	}{
		{"no sub", `{"amr":["pwd"]}`, []string{"Content-Type", "application/json"}, http.StatusBadRequest},
		{"unknown field", `{"sub":"a","acr":"x"}`, []string{"Content-Type", "application/json"}, http.StatusBadRequest},
		{"negative age", `{"sub":"a","signed_in_seconds_ago":-5}`, []string{"Content-Type", "application/json"}, http.StatusBadRequest},
		{"text/plain, no preflight", `{"sub":"a"}`, []string{"Content-Type", "text/plain"}, http.StatusForbidden},
		{"another site", `{"sub":"a"}`, []string{"Content-Type", "application/json", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"foreign Host", `{"sub":"a"}`, []string{"Content-Type", "application/json", "Host", "rebind.example"}, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", s.srv.URL+TokenPath, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(c.headers); i += 2 {
				if c.headers[i] == "Host" {
					req.Host = c.headers[i+1]
					continue
				}
				req.Header.Set(c.headers[i], c.headers[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
		})
	}
}

func TestWebPage(t *testing.T) {
	dir := t.TempDir()
	s := start(t, func(o *Options) { o.WebDir = dir })

	// Not built yet: "/" says how to build it; the API still answers.
	resp, body := s.do(t, "GET", "/", "", "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "make web") {
		t.Errorf("unbuilt / = %d %q", resp.StatusCode, body)
	}

	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>page</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.js"), []byte("console.log(1)"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body = s.do(t, "GET", "/", "", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<title>page</title>") {
		t.Errorf("/ = %d %q", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache (a rebuild shows at the next reload)", cc)
	}
	resp, body = s.do(t, "GET", "/app.js", "", "")
	if resp.StatusCode != http.StatusOK || body != "console.log(1)" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("/app.js = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for _, p := range []string{"/.secret", "/missing.js", "/sub/app.js", "/..%2f..%2fetc%2fpasswd"} {
		if resp, body := s.do(t, "GET", p, "", ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d %q, want 404", p, resp.StatusCode, body)
		}
	}
	// The API's routes still win, and need their token.
	if resp, _ := s.do(t, "GET", "/v1/phone", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/phone without a token = %d", resp.StatusCode)
	}
}
