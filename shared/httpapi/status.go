package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// statusView is GET /v1/phone exactly as SPEC §4.4 shows it. Optional
// values are omitted rather than sent empty; history is always an array.
type statusView struct {
	Status             string         `json:"status"`
	StatusText         string         `json:"status_text"`
	Phone              string         `json:"phone,omitempty"`
	VerifiedAt         stamp          `json:"verified_at,omitzero"`
	ChangeAllowedAfter stamp          `json:"change_allowed_after,omitzero"`
	Consent            *consentView   `json:"consent,omitempty"`
	Request            *requestView   `json:"request,omitempty"`
	History            []historyEntry `json:"history"`
}

type consentView struct {
	Version string `json:"version"`
	GivenAt stamp  `json:"given_at,omitzero"`
}

type requestView struct {
	VerificationID string `json:"verification_id,omitempty"`
	Purpose        string `json:"purpose"`
	Channel        string `json:"channel,omitempty"`
	State          string `json:"state"`
	StateText      string `json:"state_text"`
	Reason         string `json:"reason,omitempty"`
	Destination    string `json:"destination,omitempty"`
	ExpiresAt      stamp  `json:"expires_at,omitzero"`
	ResendAfter    stamp  `json:"resend_after,omitzero"`
	AttemptsLeft   *int   `json:"attempts_left,omitempty"`
	EffectiveAt    stamp  `json:"effective_at,omitzero"`
}

// historyEntry is one history entry as the status and the data report
// show it (historyEntryOf).
type historyEntry struct {
	At      stamp  `json:"at"`
	Event   string `json:"event"`
	Phone   string `json:"phone,omitempty"`
	Actor   string `json:"actor,omitempty"`
	Channel string `json:"channel,omitempty"`
	// SourceIP is where a user's own action came from, so a citizen can
	// spot one that was not theirs; support actions have none.
	SourceIP string `json:"source_ip,omitempty"`
	// Fields are the settings a settings_changed entry set.
	Fields []string `json:"fields,omitempty"`
	// ClientID is the partner an access_approved or access_declined entry
	// decided on.
	ClientID string `json:"client_id,omitempty"`
}

func historyEntryOf(h binding.HistoryEntry) historyEntry {
	return historyEntry{
		At:       stamp(h.At),
		Event:    h.Event,
		Phone:    h.Phone,
		Actor:    h.Actor,
		Channel:  string(h.Channel),
		SourceIP: h.SourceIP,
		Fields:   h.Fields,
		ClientID: h.ClientID,
	}
}

// Status is GET /v1/phone: where the caller's number stands, the latest
// request and the history of changes.
func (a *API) Status(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeStatus, a.status)
}

func (a *API) status(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	st, err := a.svc.Status(ctx, c.accountID)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return statusResponse(st, req), nil
}

// statusResponse is the 200 answer of both status and confirm.
func statusResponse(st binding.Status, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	l := preferredLang(header(req.Headers, "accept-language"))
	resp := jsonResponse(http.StatusOK, statusViewOf(st, l))
	resp.Headers["Content-Language"] = l.String()
	return resp
}

// statusViewOf words a status in l.
func statusViewOf(st binding.Status, l lang) statusView {
	v := statusView{
		Status:             string(st.State),
		StatusText:         stateTexts[st.State].in(l),
		Phone:              st.Phone,
		VerifiedAt:         stamp(st.VerifiedAt),
		ChangeAllowedAfter: stamp(st.ChangeAllowedAfter),
		History:            make([]historyEntry, 0, len(st.History)),
	}
	if st.Consent != nil {
		v.Consent = &consentView{Version: st.Consent.Version, GivenAt: stamp(st.Consent.GivenAt)}
	}
	if r := st.Request; r != nil {
		v.Request = &requestView{
			VerificationID: r.VerificationID,
			Purpose:        string(r.Purpose),
			State:          string(r.State),
			StateText:      requestStateTexts[r.State].in(l),
			Reason:         r.Reason,
			Destination:    r.Destination,
			ExpiresAt:      stamp(r.ExpiresAt),
			ResendAfter:    stamp(r.ResendAfter),
			Channel:        string(r.Channel),
			EffectiveAt:    stamp(r.EffectiveAt),
		}
		if r.State != binding.RequestScheduled {
			// A scheduled removal has no code to try.
			left := r.AttemptsLeft
			v.Request.AttemptsLeft = &left
		}
	}
	for _, h := range st.History {
		v.History = append(v.History, historyEntryOf(h))
	}
	return v
}
