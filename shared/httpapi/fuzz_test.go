package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/store"
)

// FuzzHandlers feeds the four phone routes arbitrary bodies, encodings,
// headers and claims over a fake service that answers with every outcome the
// real one has. Whatever comes in: no panic, no Go error, no 500, and always
// a JSON body (success) or problem+json with a known code whose status is
// the response's. `go test` runs the seeds only; `make fuzz` explores.
//
// route picks the handler (RequestCode, ConfirmCode, Unbind, Status);
// enc how the body travels (plain, base64, or flagged base64 but sent
// plain); auth which authorizer the event carries (and, bit 2, header
// names in canonical rather than lower case); idemKey, when set, puts the
// handler behind Idempotent with that Idempotency-Key and sends the
// request twice; outcome what the fake service answers (fuzzOutcomes).
func FuzzHandlers(f *testing.F) {
	for _, s := range []struct {
		route   uint8
		body    string
		enc     uint8
		ct, al  string
		sub     string
		auth    uint8
		outcome uint8
	}{
		{0, `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`, 0, "application/json", "ru", "alice", 0, 0},
		{0, `{"purpose":"bind","phone":"8 (912) 345 67 89","consent":true}`, 1, "application/json", "en", "alice", 0, 3},
		{0, `{"purpose":"unbind","channel":"email"}`, 0, "application/json", "en-US,en;q=0.9", "alice", 0, 14},
		{0, `{"purpose":"unbind","channel":"carrier pigeon"}`, 0, "", "", "alice", 0, 0},
		{0, `{"purpose":"bind","phone":79123456789,"consent":"yes"}`, 0, "text/plain", "*;q=0.5", "alice", 0, 0},
		{0, `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true,"admin":true}`, 0, "", "", "alice", 0, 0},
		{0, `{"purpose":"bind",`, 0, "application/json", "", "alice", 0, 0},
		{0, `[{"purpose":"bind"}]`, 0, "", "", "alice", 0, 0},
		{0, `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true} {}`, 0, "", "", "alice", 0, 0},
		{0, `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`, 2, "", "", "alice", 0, 0},
		{0, `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`, 0, "", "", "", 0, 0},
		{0, `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`, 0, "", "", "alice", 1, 0},
		{0, `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`, 0, "", "", "alice", 0, 7},
		{1, `{"verification_id":"v-1","code":" 123456 "}`, 0, "application/json", "ru-RU", "alice", 0, 0},
		{1, `{"verification_id":"v-1","code":"123456"}`, 0, "application/json", "en", "alice", 0, 9},
		{1, `{"verification_id":"","code":"123456"}`, 0, "", "", "alice", 0, 0},
		{1, `{"verification_id":null,"code":123456}`, 0, "", "", "alice", 0, 0},
		{2, `{"verification_id":"v-1","code":"123456"}`, 1, "application/json", "en;q=0.1, ru;q=0.9", "alice", 0, 0},
		{2, `{"verification_id":"v-1","code":"123456"}`, 0, "", "en", "alice", 0, 12},
		{3, ``, 0, "", "en", "alice", 0, 0},
		{3, ``, 0, "", "ru;q=abc", "  ", 2, 15},
		{3, `ignored`, 0, "", "", "bob", 0, 19},
		{4, `{"notifications":{"email":false},"display_format":"national"}`, 0, "application/json", "en", "alice", 0, 0},
		{4, `{"notifications":{"fax":true},"third_party":"maybe","autofill":null}`, 0, "application/json", "", "alice", 0, 0},
		{5, ``, 0, "", "ru", "alice", 0, 3},
	} {
		f.Add(s.route, s.body, s.enc, s.ct, s.al, s.sub, s.sub+"@example.org", "", s.auth, s.outcome)
		f.Add(s.route, s.body, s.enc, s.ct, s.al, s.sub, s.sub+"@example.org", "key-1", s.auth, s.outcome)
	}
	f.Add(uint8(0), strings.Repeat(" ", maxBodyBytes)+`{}`, uint8(0), "", "", "alice", "", "k", uint8(0), uint8(0))
	f.Add(uint8(0), `{"purpose":"`+strings.Repeat("x", maxBodyBytes)+`"}`, uint8(1), "", "", "alice", "Alice <a@b.ru>", "", uint8(0), uint8(0))
	f.Add(uint8(0), `{"purpose":"unbind","channel":"sms"}`, uint8(0), "", "", "alice", "", "ключ с пробелом", uint8(0), uint8(0))
	f.Add(uint8(1), `{"verification_id":"v-1","code":"123456"}`, uint8(0), "", "", "alice", "", strings.Repeat("k", 256), uint8(4), uint8(0))

	f.Fuzz(func(t *testing.T, route uint8, body string, enc uint8, contentType, acceptLang, sub, email, idemKey string, auth, outcome uint8) {
		svc := &fuzzBinding{t: t, outcome: fuzzOutcomes[int(outcome)%len(fuzzOutcomes)]}
		api := New(svc, phone.NewParser([]string{"RU", "KZ"}), nil)
		api.SetMetrics(metrics.NewEMF(io.Discard, nil))
		handlers := []struct {
			name string
			h    Handler
		}{
			{routeRequestCode, api.RequestCode},
			{routeConfirmCode, api.ConfirmCode},
			{routeUnbind, api.Unbind},
			{routeStatus, api.Status},
			{routeChangeSettings, api.Settings},
			{routeSettings, api.Settings},
		}
		hd := handlers[int(route)%len(handlers)]
		method, path, _ := strings.Cut(hd.name, " ")
		req := event(method, path, body)
		req.Headers = map[string]string{}
		// Header names as API Gateway sends them (lower case) or as a
		// hand-made event might.
		if auth&4 == 0 {
			req.Headers["content-type"], req.Headers["accept-language"] = contentType, acceptLang
		} else {
			req.Headers["Content-Type"], req.Headers["Accept-Language"] = contentType, acceptLang
		}
		switch enc % 3 {
		case 1:
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		case 2:
			req.IsBase64Encoded = true // claims base64 but is not
		}
		switch auth % 4 {
		case 1:
			req.RequestContext.Authorizer = nil
		case 2:
			req.RequestContext.Authorizer.JWT = nil
		case 3:
			req.RequestContext.Authorizer.JWT.Claims = nil
		default:
			req.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": sub, "email": email}
		}

		h := hd.h
		if idemKey != "" {
			// As the functions are wired (app.Handlers): every route behind
			// the Idempotency-Key wrapper, which passes GETs through.
			h = Idempotent(store.NewMemoryIdempotency(), h, nil, nil)
			if auth&4 == 0 {
				req.Headers["idempotency-key"] = idemKey
			} else {
				req.Headers[IdempotencyHeader] = idemKey
			}
		}

		resp, err := h(context.Background(), req)
		if err != nil {
			t.Fatalf("%s returned a Go error (API Gateway would answer a bare 500): %v", hd.name, err)
		}
		checkResponse(t, hd.name, resp, svc)
		if idemKey == "" {
			return
		}
		// The same request again: either replayed exactly, without the
		// service being called, or answered afresh under the same rules.
		svc.calls = 0
		again, err := h(context.Background(), req)
		if err != nil {
			t.Fatalf("%s, sent again, returned a Go error: %v", hd.name, err)
		}
		if again.Headers[ReplayedHeader] != "true" {
			checkResponse(t, hd.name, again, svc)
			return
		}
		if again.StatusCode != resp.StatusCode || again.Body != resp.Body || svc.calls != 0 {
			t.Fatalf("%s: replay %d %s (service called %d times), first answer %d %s",
				hd.name, again.StatusCode, again.Body, svc.calls, resp.StatusCode, resp.Body)
		}
	})
}

// fuzzOutcomes are what the fake service answers: success, then every
// domain error the real one returns, bare and wrapped as the service wraps
// them. None is an internal error, so none may become a 500.
var fuzzOutcomes = []error{
	nil,
	binding.ErrConsentRequired,
	binding.ErrSamePhone,
	binding.ErrPhoneTaken,
	binding.ErrVerificationNotFound,
	binding.ErrVerificationUsed,
	binding.ErrCodeExpired,
	binding.ErrAttemptsExceeded,
	binding.ErrStale,
	binding.ErrNoPhoneBound,
	binding.ErrInvalidPurpose,
	binding.ErrEmailUnavailable,
	binding.ErrUnbindPending,
	binding.ErrNoUnbindPending,
	binding.ErrOptedOut,
	&binding.CodeInvalidError{AttemptsLeft: 3},
	&binding.CodeInvalidError{AttemptsLeft: 0},
	&binding.RateLimitError{Limit: binding.LimitCooldown, RetryAfter: 59500 * time.Millisecond},
	&binding.RateLimitError{Limit: binding.LimitIPHour, RetryAfter: 0},
	&binding.RateLimitError{Limit: binding.LimitGlobalDay, RetryAfter: -time.Second},
	&binding.ChangeTooSoonError{AllowedAfter: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
	&binding.ChangeTooSoonError{},
	&binding.DeliveryError{Channel: binding.ChannelSMS, RetryAfter: 30 * time.Second, Err: errors.New("sns down")},
	&binding.DeliveryError{Channel: binding.ChannelEmail, Err: errors.New("ses down")},
	&phone.InvalidError{Reason: phone.ReasonNotMobile},
	fmt.Errorf("confirm: %w", binding.ErrCodeExpired),
	fmt.Errorf("request code: %w", &binding.RateLimitError{Limit: binding.LimitPhoneDay, RetryAfter: time.Hour}),
}

// fuzzBinding answers every call with its outcome, and checks that the
// handler gave it only typed, validated values: a raw body must never reach
// the domain.
type fuzzBinding struct {
	t       *testing.T
	outcome error
	calls   int
}

func (f *fuzzBinding) account(id string) {
	f.t.Helper()
	f.calls++
	if strings.TrimSpace(id) == "" {
		f.t.Fatalf("the service was called for account %q", id)
	}
}

func (f *fuzzBinding) RequestCode(_ context.Context, req binding.CodeRequest) (binding.CodeSent, error) {
	f.account(req.AccountID)
	switch req.Purpose {
	case binding.PurposeBind:
		if req.Phone.IsZero() {
			f.t.Fatalf("bind request without a number: %+v", req)
		}
	case binding.PurposeUnbind:
		if req.Channel != binding.ChannelSMS && req.Channel != binding.ChannelEmail {
			f.t.Fatalf("unbind request to channel %q", req.Channel)
		}
	default:
		f.t.Fatalf("request with purpose %q", req.Purpose)
	}
	if f.outcome != nil {
		return binding.CodeSent{}, f.outcome
	}
	now := time.Now()
	channel := req.Channel
	if channel == "" {
		channel = binding.ChannelSMS
	}
	return binding.CodeSent{VerificationID: "v-1", Purpose: req.Purpose, Channel: channel,
		Destination: req.Phone.Masked(), ExpiresAt: now.Add(5 * time.Minute), ResendAfter: now.Add(time.Minute), AttemptsLeft: 5}, nil
}

func (f *fuzzBinding) confirmation(c binding.Confirmation) (binding.Status, error) {
	f.account(c.AccountID)
	for name, v := range map[string]string{"verification_id": c.VerificationID, "code": c.Code} {
		if v == "" || v != strings.TrimSpace(v) {
			f.t.Fatalf("confirmation with %s %q", name, v)
		}
	}
	return f.status()
}

func (f *fuzzBinding) Confirm(_ context.Context, c binding.Confirmation) (binding.Status, error) {
	return f.confirmation(c)
}

func (f *fuzzBinding) Unbind(_ context.Context, c binding.Confirmation) (binding.Status, error) {
	return f.confirmation(c)
}

func (f *fuzzBinding) CancelUnbind(_ context.Context, accountID, _ string) (binding.Status, error) {
	f.account(accountID)
	return f.status()
}

func (f *fuzzBinding) Settings(_ context.Context, accountID string) (binding.Settings, error) {
	f.account(accountID)
	if f.outcome != nil {
		return binding.Settings{}, f.outcome
	}
	return binding.DefaultSettings(), nil
}

func (f *fuzzBinding) ChangeSettings(_ context.Context, u binding.SettingsUpdate) (binding.Settings, error) {
	f.account(u.AccountID)
	if p := u.Patch; (p.ThirdParty != nil && !slices.Contains(binding.ThirdParties, *p.ThirdParty)) ||
		(p.DisplayFormat != nil && !slices.Contains(binding.DisplayFormats, *p.DisplayFormat)) {
		f.t.Fatalf("settings patch with a value out of its choices: %+v", p)
	}
	if f.outcome != nil {
		return binding.Settings{}, f.outcome
	}
	return u.Patch.Applied(), nil
}

func (f *fuzzBinding) Status(_ context.Context, accountID string) (binding.Status, error) {
	f.account(accountID)
	return f.status()
}

// status is a full one: every optional part set, so every field is encoded.
func (f *fuzzBinding) status() (binding.Status, error) {
	if f.outcome != nil {
		return binding.Status{}, f.outcome
	}
	now := time.Now()
	return binding.Status{
		State: binding.StateVerified, Phone: "+7 912 ***-**-89", VerifiedAt: now, ChangeAllowedAfter: now.Add(720 * time.Hour),
		Consent: &binding.Consent{Version: "2024-01", GivenAt: now},
		Request: &binding.RequestView{VerificationID: "v-1", Purpose: binding.PurposeBind, State: binding.RequestCompleted,
			Destination: "+7 912 ***-**-89", ExpiresAt: now, AttemptsLeft: 4},
		History: []binding.HistoryEntry{{At: now, Event: "bound", Phone: "+7 912 ***-**-89", Actor: "user", Channel: binding.ChannelSMS, SourceIP: "203.0.113.7"}},
	}, nil
}

// successKeys are the top-level keys each route's success body may have.
var successKeys = map[string]map[string]bool{
	routeRequestCode: setOf("verification_id", "purpose", "channel", "destination", "expires_at", "resend_after", "attempts_left"),
	routeConfirmCode: setOf(statusKeys...),
	routeUnbind:      setOf(statusKeys...),
	routeStatus:      setOf(statusKeys...),
	// Both settings routes answer the whole object.
	routeSettings:       setOf(settingsKeys...),
	routeChangeSettings: setOf(settingsKeys...),
}

var settingsKeys = []string{"notifications", "autofill", "third_party", "display_format"}

var statusKeys = []string{"status", "status_text", "phone", "verified_at", "change_allowed_after", "consent", "request", "history"}

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// checkResponse holds one answer to what every answer of the API promises.
func checkResponse(t *testing.T, route string, resp events.APIGatewayV2HTTPResponse, svc *fuzzBinding) {
	t.Helper()
	if resp.StatusCode == http.StatusInternalServerError {
		t.Fatalf("%s answered 500: %s", route, resp.Body)
	}
	if resp.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("%s: Cache-Control %q", route, resp.Headers["Cache-Control"])
	}
	if !utf8.ValidString(resp.Body) {
		t.Fatalf("%s: body is not UTF-8: %q", route, resp.Body)
	}
	var body map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(resp.Body)))
	if err := dec.Decode(&body); err != nil || body == nil || dec.More() {
		t.Fatalf("%s: body is not one JSON object (%v): %q", route, err, resp.Body)
	}
	ct := resp.Headers["Content-Type"]

	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted {
		want := http.StatusOK
		if route == routeRequestCode {
			want = http.StatusAccepted
		}
		if resp.StatusCode != want || svc.outcome != nil || svc.calls != 1 {
			t.Fatalf("%s: %d with the service answering %v after %d calls", route, resp.StatusCode, svc.outcome, svc.calls)
		}
		if !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s: success with Content-Type %q", route, ct)
		}
		for k := range body {
			if !successKeys[route][k] {
				t.Fatalf("%s: unexpected key %q in %s", route, k, resp.Body)
			}
		}
		return
	}

	var p struct {
		Type, Title, Detail, Code, Field string
		Status                           int
		RetryAfter                       int `json:"retry_after"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("%s: problem body does not decode (%v): %s", route, err, resp.Body)
	}
	k, known := kinds[p.Code]
	switch {
	case ct != "application/problem+json":
		t.Fatalf("%s: %d with Content-Type %q: %s", route, resp.StatusCode, ct, resp.Body)
	case !known || p.Code == codeInternal:
		t.Fatalf("%s: %d with code %q: %s", route, resp.StatusCode, p.Code, resp.Body)
	case p.Status != resp.StatusCode || p.Type != "urn:phonebind:problem:"+p.Code || p.Title != k.title || p.Detail == "":
		t.Fatalf("%s: problem fields disagree with status %d: %s", route, resp.StatusCode, resp.Body)
	case resp.StatusCode != k.status && !(p.Code == codeInvalidRequest && resp.StatusCode == http.StatusUnprocessableEntity):
		t.Fatalf("%s: code %s with status %d, want %d", route, p.Code, resp.StatusCode, k.status)
	case resp.Headers["Content-Language"] != "ru" && resp.Headers["Content-Language"] != "en":
		t.Fatalf("%s: Content-Language %q", route, resp.Headers["Content-Language"])
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if ra := resp.Headers["Retry-After"]; ra == "" || ra == "0" || strings.HasPrefix(ra, "-") ||
			p.RetryAfter != 0 && strconv.Itoa(p.RetryAfter) != ra {
			t.Fatalf("%s: %d with Retry-After %q: %s", route, resp.StatusCode, ra, resp.Body)
		}
	}
	// The detail is a sentence for people: never Go's own error text.
	for _, leak := range []string{"json:", "%!", "illegal base64", "<nil>", "sns down", "ses down"} {
		if strings.Contains(p.Detail, leak) && !strings.Contains(p.Field, leak) {
			t.Fatalf("%s: detail shows internals (%q): %s", route, leak, resp.Body)
		}
	}
}

// TestFuzzSuccessKeysCoverViews keeps successKeys in step with the views: a
// field added to a response must be added there too, or the fuzz target
// would report it as unexpected.
func TestFuzzSuccessKeysCoverViews(t *testing.T) {
	for route, v := range map[string]any{routeRequestCode: codeSentView{}, routeStatus: statusView{}} {
		var missing []string
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if !successKeys[route][name] {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: successKeys lacks %v", route, missing)
		}
	}
}
