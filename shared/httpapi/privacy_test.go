package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/privacy"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// lastCodes keeps the last code sent to each number or address.
type lastCodes struct {
	mu    sync.Mutex
	codes map[string]string
}

var sixDigitCode = regexp.MustCompile(`\b\d{6}\b`)

func (b *lastCodes) SendSMS(_ context.Context, to, body string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.codes[to] = sixDigitCode.FindString(body)
	return nil
}

func (b *lastCodes) SendEmail(_ context.Context, to, _, body string) error {
	return b.SendSMS(nil, to, body)
}

// TestPersonalDataReport: GET /v1/phone/data with step-up answers the whole
// account as an attachment no cache keeps: the bound number in full, the
// ticket and its contact, the settings, every history entry (an approval's
// with the partner's client_id), the pending request, the partner's read
// and request; and never a code, an HMAC, a key id or a ciphertext. Without a
// second factor it is 401 insufficient_authentication and shows nothing.
func TestPersonalDataReport(t *testing.T) {
	ctx := context.Background()
	// The events' auth_time is 2025-12-04T09:00:00Z.
	clock := testenv.NewClock(time.Date(2025, 12, 4, 9, 5, 0, 0, time.UTC))
	box := &lastCodes{codes: map[string]string{}}
	cfg := binding.Config{CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, CodesPerAccountHour: 5, CodesPerPhoneDay: 10,
		CodesPerIPHour: 20, MaxFailuresDay: 15, CodesPerPrefixDay: 50, CodesGlobalDay: 1000, UnbindEmailHold: 24 * time.Hour,
		HistoryRetention: 24 * time.Hour, StepUp: binding.StepUp{AMR: []string{"mfa"}, MaxAge: 15 * time.Minute},
		ShareApprovalTTL: 24 * time.Hour, AccessLogRetention: 24 * time.Hour}
	mem, tickets, idem := store.NewMemory(), store.NewFeedbackMemory(), store.NewMemoryIdempotency()
	keys := secure.DevKeyring()
	svc := binding.New(cfg, mem, binding.Senders{SMS: box, Email: box}, keys, clock.Now, nil)
	parser := phone.NewParser([]string{"RU"})
	n, err := parser.Parse("+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	session := binding.Session{AMR: []string{"mfa"}, AuthTime: clock.Now()}
	sent, err := svc.RequestCode(ctx, binding.CodeRequest{AccountID: "alice", Purpose: binding.PurposeBind, Phone: n, Consent: true, SourceIP: "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Confirm(ctx, binding.Confirmation{AccountID: "alice", VerificationID: sent.VerificationID, Code: box.codes["+79123456789"], SourceIP: "203.0.113.7"}); err != nil {
		t.Fatal(err)
	}
	national, ask := binding.DisplayNational, binding.ThirdPartyAsk
	if _, err := svc.ChangeSettings(ctx, binding.SettingsUpdate{AccountID: "alice", Patch: binding.SettingsPatch{DisplayFormat: &national, ThirdParty: &ask}, Session: session}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	if res, err := svc.ReadPhone(ctx, binding.ReadRequest{AccountID: "alice", Purpose: binding.ReadThirdParty, ClientID: "bank", ClientName: "Банк"}); err != nil || !res.RequestCreated {
		t.Fatalf("partner's read = %+v, %v", res, err)
	}
	asked, err := svc.CurrentAccessRequests(ctx, "alice")
	if err != nil || len(asked) != 1 {
		t.Fatalf("requests = %+v, %v", asked, err)
	}
	if _, err := svc.DecideAccessRequest(ctx, binding.AccessDecision{AccountID: "alice", RequestID: asked[0].ID, Approve: true, Session: session}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	pending, err := svc.RequestCode(ctx, binding.CodeRequest{AccountID: "alice", Purpose: binding.PurposeUnbind, Channel: binding.ChannelEmail, Email: "alice@example.org", Session: session})
	if err != nil {
		t.Fatal(err)
	}
	contact, err := feedback.ParseContact("+7 916 123-45-67", parser)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := feedback.New(feedback.Config{}, tickets, keys, nil, clock.Now, nil).Create(ctx, feedback.NewTicket{
		AccountID: "alice", Category: feedback.CategoryQuestion, Message: "Как сменить номер?", Contact: contact})
	if err != nil {
		t.Fatal(err)
	}

	api := NewPrivacy(privacy.New(store.MemoryPrivacy{Binding: mem, Tickets: tickets, Idempotency: idem}, keys, svc, nil, clock.Now, nil), nil)
	resp, err := api.Data(ctx, event("GET", DataPath, ""))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v: %s", resp.StatusCode, err, resp.Body)
	}
	for name, want := range map[string]string{
		"Content-Type":        "application/json; charset=utf-8",
		"Content-Disposition": `attachment; filename="phone-data-2025-12-04.json"`,
		"Cache-Control":       "no-store",
	} {
		if got := resp.Headers[name]; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	var doc struct {
		AccountID string `json:"account_id"`
		Profile   struct {
			Status      string
			Phone       string
			PhoneMasked string `json:"phone_masked"`
		} `json:"profile"`
		Consent  *struct{ Version string } `json:"consent"`
		Settings struct {
			DisplayFormat string `json:"display_format"`
		} `json:"settings"`
		History []struct {
			Event, Phone string
			ClientID     string `json:"client_id"`
		} `json:"history"`
		Verification *struct {
			VerificationID string `json:"verification_id"`
			Purpose        string
			Channel        string
			Destination    string
			State          string
		} `json:"verification"`
		Tickets []struct {
			TicketID    string `json:"ticket_id"`
			Message     string
			Contact     string
			ContactKind string `json:"contact_kind"`
		} `json:"tickets"`
		AccessLog      []json.RawMessage `json:"access_log"`
		AccessRequests []json.RawMessage `json:"access_requests"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AccountID != "alice" || doc.Profile.Status != "verified" || doc.Profile.Phone != "+79123456789" || doc.Profile.PhoneMasked != "8 (912) ***-**-89" ||
		doc.Consent == nil || doc.Settings.DisplayFormat != "national" {
		t.Fatalf("report: %s", resp.Body)
	}
	if len(doc.History) != 3 || doc.History[0].Event != binding.EventAccessApproved || doc.History[0].ClientID != "bank" ||
		doc.History[1].Event != binding.EventSettingsChanged || doc.History[2].Phone != "8 (912) ***-**-89" {
		t.Fatalf("history: %+v", doc.History)
	}
	if v := doc.Verification; v == nil || v.VerificationID != pending.VerificationID || v.Purpose != "unbind" || v.Channel != "email" ||
		v.Destination != "a***@example.org" || v.State != "pending" {
		t.Fatalf("verification: %+v", doc.Verification)
	}
	if len(doc.Tickets) != 1 || doc.Tickets[0].TicketID != tk.ID || doc.Tickets[0].Message != "Как сменить номер?" ||
		doc.Tickets[0].Contact != "+79161234567" || doc.Tickets[0].ContactKind != "phone" {
		t.Fatalf("tickets: %+v", doc.Tickets)
	}
	if len(doc.AccessLog) != 1 || len(doc.AccessRequests) != 1 {
		t.Fatalf("access_log and access_requests: want the partner's read and its request: %s", resp.Body)
	}

	held, err := store.MemoryPrivacy{Binding: mem, Tickets: tickets, Idempotency: idem}.Held(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"the code e-mailed":            box.codes["alice@example.org"],
		"the code's HMAC":              held.Verification.CodeHMAC,
		"the number's HMAC":            held.Profile.Phone.HMAC,
		"the number's ciphertext":      held.Profile.Phone.Ciphertext,
		"the request's ciphertext":     held.Verification.Destination.Ciphertext,
		"the contact's HMAC":           held.Tickets[0].Contact.HMAC,
		"the contact's ciphertext":     held.Tickets[0].Contact.Ciphertext,
		"the key id":                   `"` + held.Profile.Phone.KeyID + `"`,
		"an hmac or ciphertext member": "hmac",
	}
	for what, secret := range secrets {
		if secret == "" || secret == `""` {
			t.Fatalf("%s is empty: the check would prove nothing", what)
		}
		if strings.Contains(strings.ToLower(resp.Body), strings.ToLower(secret)) {
			t.Errorf("the report holds %s (%s)", what, secret)
		}
	}
	if strings.Contains(resp.Body, "ciphertext") || strings.Contains(resp.Body, "key_id") {
		t.Errorf("the report names sealed fields: %s", resp.Body)
	}

	// No second factor: refused, nothing shown.
	weak := event("GET", DataPath, "", func(r *events.APIGatewayV2HTTPRequest) {
		r.RequestContext.Authorizer.JWT.Claims["amr"] = "[pwd]"
	})
	resp, _ = api.Data(ctx, weak)
	if resp.StatusCode != http.StatusUnauthorized || decodeProblem(t, resp)["code"] != "insufficient_authentication" ||
		strings.Contains(resp.Body, "79123456789") || resp.Headers["Content-Disposition"] != "" {
		t.Fatalf("without step-up: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
}
