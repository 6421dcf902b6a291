package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// silentSMS takes the texts a test number never gets.
type silentSMS struct{}

func (silentSMS) SendSMS(context.Context, string, string) error { return nil }

// accessWorld is the access routes over a real service and memory store,
// with alice's number bound and third_party: ask, at the instant the
// event helper's token was signed in (so step-up holds).
type accessWorld struct {
	api   *API
	svc   *binding.Service
	store *store.Memory
	clock *testenv.Clock
}

func newAccessWorld(t *testing.T) *accessWorld {
	t.Helper()
	w := &accessWorld{store: store.NewMemory(), clock: testenv.NewClock(time.Unix(1764838800, 0).Add(time.Minute))}
	cfg := binding.Config{
		CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: time.Minute,
		CodesPerAccountHour: 5, CodesPerPhoneDay: 10, CodesPerIPHour: 20, MaxFailuresDay: 15, CodesPerPrefixDay: 50, CodesGlobalDay: 1000,
		TestNumbers: map[string]string{"+79990000001": "123456", "+79990000002": "123456"}, ConsentVersion: "2026-01", HistoryRetention: time.Hour,
		StepUp:           binding.StepUp{AMR: []string{"mfa"}, MaxAge: 15 * time.Minute},
		ShareApprovalTTL: 720 * time.Hour, AccessLogRetention: 8760 * time.Hour,
	}
	w.svc = binding.New(cfg, w.store, binding.Senders{SMS: silentSMS{}}, secure.DevKeyring(), w.clock.Now, nil)
	w.api = New(w.svc, phone.NewParser([]string{"RU"}), nil)
	w.api.SetAccess(w.svc)
	w.bindAndAsk(t, "alice", "+79990000001")
	return w
}

func (w *accessWorld) session() binding.Session {
	return binding.Session{AMR: []string{"pwd", "mfa"}, AuthTime: w.clock.Now()}
}

// bindAndAsk binds a test number to account and sets third_party: ask.
func (w *accessWorld) bindAndAsk(t *testing.T, account, number string) {
	t.Helper()
	ctx := context.Background()
	n, err := phone.NewParser([]string{"RU"}).Parse(number)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := w.svc.RequestCode(ctx, binding.CodeRequest{AccountID: account, Purpose: binding.PurposeBind, Phone: n, Consent: true, Session: w.session()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Confirm(ctx, binding.Confirmation{AccountID: account, VerificationID: sent.VerificationID, Code: "123456", Session: w.session()}); err != nil {
		t.Fatal(err)
	}
	ask := binding.ThirdPartyAsk
	if _, err := w.svc.ChangeSettings(ctx, binding.SettingsUpdate{AccountID: account, Patch: binding.SettingsPatch{ThirdParty: &ask}, Session: w.session()}); err != nil {
		t.Fatal(err)
	}
}

// ask is a partner's read, which creates its request.
func (w *accessWorld) ask(t *testing.T, account, client string) {
	t.Helper()
	res, err := w.svc.ReadPhone(context.Background(), binding.ReadRequest{AccountID: account, Purpose: binding.ReadThirdParty, ClientID: client, ClientName: "Банк " + client})
	if err != nil || res.Refusal != binding.ReadApprovalRequired {
		t.Fatalf("read: %+v, %v", res, err)
	}
}

// requestJSON and logJSON read the views back as a client does.
type requestJSON struct {
	RequestID  string `json:"request_id"`
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
	Purpose    string `json:"purpose"`
	State      string `json:"state"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at"`
}

type logJSON struct {
	Items []struct {
		At         string `json:"at"`
		ClientID   string `json:"client_id"`
		ClientName string `json:"client_name"`
		Purpose    string `json:"purpose"`
		Result     string `json:"result"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (w *accessWorld) pending(t *testing.T, req events.APIGatewayV2HTTPRequest) []requestJSON {
	t.Helper()
	resp, _ := w.api.AccessRequests(context.Background(), req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
	}
	var v struct {
		Items []requestJSON `json:"items"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatal(err)
	}
	return v.Items
}

func (w *accessWorld) decide(id, body string, opts ...func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
	req := event("POST", AccessRequestsPath+"/"+id, body, opts...)
	req.RouteKey = routeDecideAccess
	req.PathParameters = map[string]string{"request_id": id}
	resp, _ := w.api.DecideAccessRequest(context.Background(), req)
	return resp
}

func TestAccessRequestsListAndApprove(t *testing.T) {
	w := newAccessWorld(t)
	if items := w.pending(t, event("GET", AccessRequestsPath, "")); len(items) != 0 {
		t.Fatalf("before any read: %+v", items)
	}
	w.ask(t, "alice", "bank")
	w.clock.Advance(time.Second)
	w.ask(t, "alice", "shop")
	items := w.pending(t, event("GET", AccessRequestsPath, ""))
	if len(items) != 2 || items[0].ClientID != "shop" || items[1].ClientID != "bank" || items[1].ClientName != "Банк bank" ||
		items[1].State != "pending" || items[1].Purpose != "third_party" || items[1].RequestID == "" ||
		items[1].ExpiresAt != timestamp(w.clock.Now().Add(-time.Second).Add(720*time.Hour)) {
		t.Fatalf("items = %+v, want shop then bank, pending", items)
	}
	resp := w.decide(items[1].RequestID, `{"decision":"approve"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	until := timestamp(w.clock.Now().Add(720 * time.Hour))
	if got["state"] != "approved" || got["approved_until"] != until || got["decided_at"] != timestamp(w.clock.Now()) || got["client_id"] != "bank" {
		t.Fatalf("approved = %s", resp.Body)
	}
	if items := w.pending(t, event("GET", AccessRequestsPath, "")); len(items) != 2 || items[0].ClientID != "shop" || items[0].State != "pending" ||
		items[1].ClientID != "bank" || items[1].State != "approved" {
		t.Fatalf("listed after the approval = %+v, want shop pending and bank approved (it may be withdrawn)", items)
	}
	res, err := w.svc.ReadPhone(context.Background(), binding.ReadRequest{AccountID: "alice", Purpose: binding.ReadThirdParty, ClientID: "bank", ClientName: "Банк"})
	if err != nil || res.Phone != "+79990000001" {
		t.Fatalf("the approved partner's read: %+v, %v", res, err)
	}
	// Approved already: 409 with the reason; the request stays approved.
	resp = w.decide(items[1].RequestID, `{"decision":"approve"}`, withLang("en"))
	p := decodeProblem(t, resp)
	if resp.StatusCode != http.StatusConflict || p["code"] != "access_request_closed" || p["reason"] != "decided" ||
		p["detail"] != "This access request has already been decided." {
		t.Fatalf("second approval: %d %v", resp.StatusCode, p)
	}
	// A decline withdraws the approval: declined now, no approval end, the
	// partner's reads refused, the list without it; once more is 409.
	w.clock.Advance(time.Minute)
	resp = w.decide(items[1].RequestID, `{"decision":"decline"}`)
	got = nil
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("withdraw: %d %s", resp.StatusCode, resp.Body)
	}
	if _, ok := got["approved_until"]; ok || got["state"] != "declined" || got["decided_at"] != timestamp(w.clock.Now()) {
		t.Fatalf("withdrawn = %s", resp.Body)
	}
	res, err = w.svc.ReadPhone(context.Background(), binding.ReadRequest{AccountID: "alice", Purpose: binding.ReadThirdParty, ClientID: "bank", ClientName: "Банк"})
	if err != nil || res.Phone != "" || res.Refusal != binding.ReadNotAllowed {
		t.Fatalf("the partner's read after the withdrawal: %+v, %v", res, err)
	}
	if items := w.pending(t, event("GET", AccessRequestsPath, "")); len(items) != 1 || items[0].ClientID != "shop" {
		t.Fatalf("listed after the withdrawal = %+v", items)
	}
	resp = w.decide(items[1].RequestID, `{"decision":"decline"}`)
	if p := decodeProblem(t, resp); resp.StatusCode != http.StatusConflict || p["reason"] != "decided" {
		t.Fatalf("withdrawing twice: %d %v", resp.StatusCode, p)
	}
	// Lapsed: 409, reason expired.
	w.clock.Advance(720 * time.Hour)
	fresh := withClaims(map[string]string{"sub": "alice", "amr": "[pwd mfa]", "auth_time": strconv.FormatInt(w.clock.Now().Unix(), 10)})
	resp = w.decide(items[0].RequestID, `{"decision":"approve"}`, fresh)
	if p := decodeProblem(t, resp); resp.StatusCode != http.StatusConflict || p["reason"] != "expired" {
		t.Fatalf("lapsed: %d %v", resp.StatusCode, p)
	}
}

// Another account's request id and an unknown one are both 404, and
// nothing changes; a decision without step-up is 401.
func TestAccessRequestNotFoundAndStepUp(t *testing.T) {
	w := newAccessWorld(t)
	w.bindAndAsk(t, "bob", "+79990000002")
	w.ask(t, "bob", "bank")
	bobs := w.pending(t, event("GET", AccessRequestsPath, "", withClaims(map[string]string{"sub": "bob"})))
	if len(bobs) != 1 {
		t.Fatalf("bob's = %+v", bobs)
	}
	for _, id := range []string{bobs[0].RequestID, "no-such-request"} {
		resp := w.decide(id, `{"decision":"approve"}`)
		if p := decodeProblem(t, resp); resp.StatusCode != http.StatusNotFound || p["code"] != "access_request_not_found" {
			t.Fatalf("alice deciding %s: %d %v", id, resp.StatusCode, p)
		}
	}
	weak := withClaims(map[string]string{"sub": "bob", "amr": "[pwd]", "auth_time": "1764838800"})
	resp := w.decide(bobs[0].RequestID, `{"decision":"approve"}`, weak)
	if p := decodeProblem(t, resp); resp.StatusCode != http.StatusUnauthorized || p["code"] != "insufficient_authentication" ||
		!strings.Contains(resp.Headers["WWW-Authenticate"], "insufficient_user_authentication") {
		t.Fatalf("without a second factor: %d %v", resp.StatusCode, p)
	}
	if still := w.pending(t, event("GET", AccessRequestsPath, "", withClaims(map[string]string{"sub": "bob"}))); len(still) != 1 || still[0].State != "pending" {
		t.Fatalf("bob's request after refused decisions = %+v", still)
	}
}

func TestAccessDecisionBadBodies(t *testing.T) {
	w := newAccessWorld(t)
	w.ask(t, "alice", "bank")
	id := w.pending(t, event("GET", AccessRequestsPath, ""))[0].RequestID
	tests := []struct {
		body   string
		status int
		code   string
		field  string
	}{
		{`{}`, 422, "invalid_request", "decision"},
		{`{"decision":"maybe"}`, 422, "invalid_request", "decision"},
		{`{"decision":true}`, 400, "invalid_request", "decision"},
		{`{"decision":"approve","until":"never"}`, 400, "invalid_request", "until"},
		{`not json`, 400, "invalid_json", ""},
	}
	for _, tt := range tests {
		resp := w.decide(id, tt.body)
		p := decodeProblem(t, resp)
		if resp.StatusCode != tt.status || p["code"] != tt.code || (tt.field != "" && p["field"] != tt.field) {
			t.Errorf("%s: %d %v", tt.body, resp.StatusCode, p)
		}
	}
	if items := w.pending(t, event("GET", AccessRequestsPath, "")); len(items) != 1 {
		t.Fatalf("a refused body decided: %+v", items)
	}
}

func TestAccessLogPages(t *testing.T) {
	w := newAccessWorld(t)
	for _, client := range []string{"a", "b", "c"} {
		w.clock.Advance(time.Second)
		if _, err := w.svc.ReadPhone(context.Background(), binding.ReadRequest{AccountID: "alice", Purpose: binding.ReadAutofill, ClientID: client, ClientName: "Форма " + client}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(query map[string]string) (events.APIGatewayV2HTTPResponse, logJSON) {
		req := event("GET", AccessLogPath, "")
		req.QueryStringParameters = query
		resp, _ := w.api.AccessLog(context.Background(), req)
		var v logJSON
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
				t.Fatal(err)
			}
		}
		return resp, v
	}
	resp, first := get(map[string]string{"limit": "2"})
	if resp.StatusCode != http.StatusOK || len(first.Items) != 2 || first.Items[0].ClientID != "c" || first.Items[1].ClientID != "b" ||
		first.Items[0].Result != "allowed" || first.Items[0].Purpose != "autofill" || first.Items[0].ClientName != "Форма c" ||
		first.Items[0].At != timestamp(w.clock.Now()) || first.NextCursor == "" {
		t.Fatalf("first page: %d %s", resp.StatusCode, resp.Body)
	}
	if strings.Contains(resp.Body, "+7999") {
		t.Fatalf("the log shows the number: %s", resp.Body)
	}
	resp, second := get(map[string]string{"limit": "2", "cursor": first.NextCursor})
	if resp.StatusCode != http.StatusOK || len(second.Items) != 1 || second.Items[0].ClientID != "a" || second.NextCursor != "" {
		t.Fatalf("second page: %d %s", resp.StatusCode, resp.Body)
	}
	for _, q := range []map[string]string{{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "!!"}, {"cursor": "bm90LWEtY3Vyc29y"}} {
		resp, _ := get(q)
		if p := decodeProblem(t, resp); resp.StatusCode != http.StatusBadRequest || p["code"] != "invalid_request" {
			t.Errorf("%v: %d %v", q, resp.StatusCode, p)
		}
	}
	// Another account sees its own log only.
	req := event("GET", AccessLogPath, "", withClaims(map[string]string{"sub": "carol"}))
	if resp, _ := w.api.AccessLog(context.Background(), req); resp.Body != `{"items":[]}` {
		t.Fatalf("carol's log: %s", resp.Body)
	}
}

// The routes are reached through the functions' path routing as the
// runner and API Gateway deliver them: a request id below the list's path
// goes to the decision.
func TestAccessRoutesByPath(t *testing.T) {
	w := newAccessWorld(t)
	w.ask(t, "alice", "bank")
	id := w.pending(t, event("GET", AccessRequestsPath, ""))[0].RequestID
	unreachable := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		t.Fatal("reached the primary handler")
		return events.APIGatewayV2HTTPResponse{}, nil
	}
	h := ByPath(unreachable, map[string]Handler{AccessRequestsPath + "/": w.api.DecideAccessRequest, AccessLogPath: w.api.AccessLog})
	resp, _ := h(context.Background(), event("POST", AccessRequestsPath+"/"+id, `{"decision":"decline"}`))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"state":"declined"`) {
		t.Fatalf("decline by path: %d %s", resp.StatusCode, resp.Body)
	}
	if resp, _ := h(context.Background(), event("GET", AccessLogPath, "")); resp.StatusCode != http.StatusOK {
		t.Fatalf("log by path: %d %s", resp.StatusCode, resp.Body)
	}
}
