package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
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
	VerificationID string `json:"verification_id"`
	Purpose        string `json:"purpose"`
	State          string `json:"state"`
	StateText      string `json:"state_text"`
	Reason         string `json:"reason,omitempty"`
	Destination    string `json:"destination,omitempty"`
	ExpiresAt      stamp  `json:"expires_at,omitzero"`
	ResendAfter    stamp  `json:"resend_after,omitzero"`
	AttemptsLeft   int    `json:"attempts_left"`
}

type historyEntry struct {
	At      stamp  `json:"at"`
	Event   string `json:"event"`
	Phone   string `json:"phone,omitempty"`
	Actor   string `json:"actor,omitempty"`
	Channel string `json:"channel,omitempty"`
	// SourceIP is where a user's own action came from, so a citizen can
	// spot one that was not theirs; support actions have none.
	SourceIP string `json:"source_ip,omitempty"`
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
	var parts viewParts // the view and its parts stay on the stack
	v := statusViewOf(st, l, &parts)
	resp := viewResponse(http.StatusOK, v.appendJSON)
	resp.Headers["Content-Language"] = l.String()
	return resp
}

// viewParts is where a statusView's parts are kept: with the view, on its
// caller's stack (a history longer than 8 entries grows onto the heap).
type viewParts struct {
	consent consentView
	request requestView
	history [8]historyEntry
}

// statusViewOf words a status in l, its parts kept in parts.
func statusViewOf(st binding.Status, l lang, parts *viewParts) statusView {
	v := statusView{
		Status:             string(st.State),
		StatusText:         stateTexts[st.State].in(l),
		Phone:              st.Phone,
		VerifiedAt:         stamp(st.VerifiedAt),
		ChangeAllowedAfter: stamp(st.ChangeAllowedAfter),
		History:            parts.history[:0],
	}
	if st.Consent != nil {
		parts.consent = consentView{Version: st.Consent.Version, GivenAt: stamp(st.Consent.GivenAt)}
		v.Consent = &parts.consent
	}
	if r := st.Request; r != nil {
		parts.request = requestView{
			VerificationID: r.VerificationID,
			Purpose:        string(r.Purpose),
			State:          string(r.State),
			StateText:      requestStateTexts[r.State].in(l),
			Reason:         r.Reason,
			Destination:    r.Destination,
			ExpiresAt:      stamp(r.ExpiresAt),
			ResendAfter:    stamp(r.ResendAfter),
			AttemptsLeft:   r.AttemptsLeft,
		}
		v.Request = &parts.request
	}
	for _, h := range st.History {
		v.History = append(v.History, historyEntry{
			At:       stamp(h.At),
			Event:    h.Event,
			Phone:    h.Phone,
			Actor:    h.Actor,
			Channel:  string(h.Channel),
			SourceIP: h.SourceIP,
		})
	}
	return v
}

// appendJSON appends v as json.Marshal writes it.
func (v *statusView) appendJSON(b []byte) []byte {
	b = append(b, `{"status":`...)
	b = jsonx.AppendString(b, v.Status, true)
	b = append(b, `,"status_text":`...)
	b = jsonx.AppendString(b, v.StatusText, true)
	b = appendOptional(b, `,"phone":`, v.Phone)
	if !v.VerifiedAt.IsZero() {
		b = v.VerifiedAt.appendJSON(append(b, `,"verified_at":`...))
	}
	if !v.ChangeAllowedAfter.IsZero() {
		b = v.ChangeAllowedAfter.appendJSON(append(b, `,"change_allowed_after":`...))
	}
	if c := v.Consent; c != nil {
		b = append(b, `,"consent":{"version":`...)
		b = jsonx.AppendString(b, c.Version, true)
		if !c.GivenAt.IsZero() {
			b = c.GivenAt.appendJSON(append(b, `,"given_at":`...))
		}
		b = append(b, '}')
	}
	if r := v.Request; r != nil {
		b = append(b, `,"request":{"verification_id":`...)
		b = jsonx.AppendString(b, r.VerificationID, true)
		b = append(b, `,"purpose":`...)
		b = jsonx.AppendString(b, r.Purpose, true)
		b = append(b, `,"state":`...)
		b = jsonx.AppendString(b, r.State, true)
		b = append(b, `,"state_text":`...)
		b = jsonx.AppendString(b, r.StateText, true)
		b = appendOptional(b, `,"reason":`, r.Reason)
		b = appendOptional(b, `,"destination":`, r.Destination)
		if !r.ExpiresAt.IsZero() {
			b = r.ExpiresAt.appendJSON(append(b, `,"expires_at":`...))
		}
		if !r.ResendAfter.IsZero() {
			b = r.ResendAfter.appendJSON(append(b, `,"resend_after":`...))
		}
		b = append(b, `,"attempts_left":`...)
		b = strconv.AppendInt(b, int64(r.AttemptsLeft), 10)
		b = append(b, '}')
	}
	b = append(b, `,"history":`...)
	if v.History == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range v.History {
			h := &v.History[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = h.At.appendJSON(append(b, `{"at":`...))
			b = append(b, `,"event":`...)
			b = jsonx.AppendString(b, h.Event, true)
			b = appendOptional(b, `,"phone":`, h.Phone)
			b = appendOptional(b, `,"actor":`, h.Actor)
			b = appendOptional(b, `,"channel":`, h.Channel)
			b = appendOptional(b, `,"source_ip":`, h.SourceIP)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendOptional appends an omitempty string member: key (with its comma
// and colon) and value, or nothing when value is empty.
func appendOptional(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	return jsonx.AppendString(append(b, key...), value, true)
}
