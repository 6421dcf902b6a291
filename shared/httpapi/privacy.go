package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/privacy"
)

// DataPath is the personal-data report's route (SPEC §4.9), served by
// UnbindFunction, which holds the key ring it opens the number with.
const DataPath = "/v1/phone/data"

const routeData = "GET " + DataPath

// Privacy is the part of the privacy service the HTTP route calls.
type Privacy interface {
	Report(ctx context.Context, accountID string, sess binding.Session) (privacy.Report, error)
}

// PrivacyAPI holds GET /v1/phone/data.
type PrivacyAPI struct {
	base *API
	svc  Privacy
}

// NewPrivacy builds the route over the service. A nil logger discards logs.
func NewPrivacy(svc Privacy, logger *slog.Logger) *PrivacyAPI {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &PrivacyAPI{base: &API{logger: logger, now: time.Now}, svc: svc}
}

// dataView is GET /v1/phone/data: everything held about the account, as
// one document to download. Numbers other than the bound one are masked;
// there is never a code, an HMAC, a key id or a ciphertext in it.
type dataView struct {
	AccountID    string           `json:"account_id"`
	GeneratedAt  stamp            `json:"generated_at"`
	Profile      dataProfileView  `json:"profile"`
	Consent      *consentView     `json:"consent"`
	Settings     settingsView     `json:"settings"`
	History      []dataEntryView  `json:"history"`
	Verification *dataRequestView `json:"verification"`
	Tickets      []dataTicketView `json:"tickets"`
	// AccessLog and AccessRequests are the reads of the number by portal
	// services and partners' requests (SPEC §4.8).
	AccessLog      []accessLogEntryView `json:"access_log"`
	AccessRequests []accessRequestView  `json:"access_requests"`
}

type dataProfileView struct {
	Status      string `json:"status"`
	Phone       string `json:"phone,omitempty"`
	PhoneMasked string `json:"phone_masked,omitempty"`
	VerifiedAt  stamp  `json:"verified_at,omitzero"`
	BoundAt     stamp  `json:"bound_at,omitzero"`
	// UnbindAt is when a removal by e-mail code takes effect.
	UnbindAt stamp `json:"unbind_at,omitzero"`
	// Email is the verified address kept for removal letters, in full.
	Email string `json:"email,omitempty"`
}

type dataEntryView struct {
	historyEntry
	TicketID string `json:"ticket_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

type dataRequestView struct {
	VerificationID string `json:"verification_id"`
	Purpose        string `json:"purpose"`
	Channel        string `json:"channel"`
	Destination    string `json:"destination,omitempty"`
	State          string `json:"state"`
	Reason         string `json:"reason,omitempty"`
	CreatedAt      stamp  `json:"created_at,omitzero"`
	ExpiresAt      stamp  `json:"expires_at,omitzero"`
}

type dataTicketView struct {
	TicketID    string `json:"ticket_id"`
	Category    string `json:"category"`
	Message     string `json:"message"`
	ContactKind string `json:"contact_kind,omitempty"`
	Contact     string `json:"contact,omitempty"`
	Status      string `json:"status"`
	Answer      string `json:"answer,omitempty"`
	CreatedAt   stamp  `json:"created_at"`
	UpdatedAt   stamp  `json:"updated_at,omitzero"`
	AnsweredAt  stamp  `json:"answered_at,omitzero"`
}

// Data is GET /v1/phone/data (step-up): the report as an attachment.
func (p *PrivacyAPI) Data(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return p.base.serve(ctx, req, routeData, p.data)
}

func (p *PrivacyAPI) data(ctx context.Context, _ events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	r, err := p.svc.Report(ctx, c.accountID, c.session)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	resp := jsonResponse(http.StatusOK, dataViewOf(r))
	resp.Headers["Content-Disposition"] = `attachment; filename="phone-data-` + r.GeneratedAt.UTC().Format(time.DateOnly) + `.json"`
	return resp, nil
}

func dataViewOf(r privacy.Report) dataView {
	v := dataView{
		AccountID: r.AccountID, GeneratedAt: stamp(r.GeneratedAt),
		Profile:        dataProfileView{Status: string(binding.StateNone)},
		Settings:       settingsViewOf(r.Settings),
		History:        make([]dataEntryView, 0, len(r.History)),
		Tickets:        make([]dataTicketView, 0, len(r.Tickets)),
		AccessLog:      make([]accessLogEntryView, 0, len(r.AccessLog)),
		AccessRequests: make([]accessRequestView, 0, len(r.AccessRequests)),
	}
	if ph := r.Phone; ph != nil {
		v.Profile = dataProfileView{
			Status: string(binding.StateVerified), Phone: ph.Number, PhoneMasked: ph.Masked,
			VerifiedAt: stamp(ph.VerifiedAt), BoundAt: stamp(ph.BoundAt), UnbindAt: stamp(ph.UnbindAt),
		}
	}
	v.Profile.Email = r.Email
	if c := r.Consent; c != nil {
		v.Consent = &consentView{Version: c.Version, GivenAt: stamp(c.GivenAt)}
	}
	for _, h := range r.History {
		v.History = append(v.History, dataEntryView{
			historyEntry: historyEntryOf(h),
			TicketID:     h.TicketID, Reason: h.Reason,
		})
	}
	if q := r.Verification; q != nil {
		v.Verification = &dataRequestView{
			VerificationID: q.ID, Purpose: string(q.Purpose), Channel: string(q.Channel), Destination: q.Destination,
			State: string(q.State), Reason: q.Reason, CreatedAt: stamp(q.CreatedAt), ExpiresAt: stamp(q.ExpiresAt),
		}
	}
	for _, t := range r.Tickets {
		v.Tickets = append(v.Tickets, dataTicketView{
			TicketID: t.ID, Category: string(t.Category), Message: t.Message, ContactKind: string(t.ContactKind),
			Contact: t.Contact, Status: string(t.Status), Answer: t.Answer,
			CreatedAt: stamp(t.CreatedAt), UpdatedAt: stamp(t.UpdatedAt), AnsweredAt: stamp(t.AnsweredAt),
		})
	}
	for _, e := range r.AccessLog {
		v.AccessLog = append(v.AccessLog, accessLogEntryViewOf(e))
	}
	for _, a := range r.AccessRequests {
		v.AccessRequests = append(v.AccessRequests, accessRequestViewOf(a))
	}
	return v
}
