package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// settingsBody is PATCH /v1/phone/settings, a JSON merge patch (RFC 7396)
// of settingsView: members sent are set, members left out are kept. Each
// member is read raw so that null, which RFC 7396 reads as "remove", is
// refused like any wrong type: a setting always has a value.
type settingsBody struct {
	Notifications json.RawMessage `json:"notifications"`
	Autofill      json.RawMessage `json:"autofill"`
	ThirdParty    json.RawMessage `json:"third_party"`
	DisplayFormat json.RawMessage `json:"display_format"`
}

// notificationsBody is the notifications member of a settings patch.
type notificationsBody struct {
	SMS   json.RawMessage `json:"sms"`
	Email json.RawMessage `json:"email"`
	Push  json.RawMessage `json:"push"`
}

// settingsView is GET and PATCH /v1/phone/settings (SPEC §4.7): always the
// whole object, defaults included.
type settingsView struct {
	Notifications notificationsView `json:"notifications"`
	Autofill      bool              `json:"autofill"`
	ThirdParty    string            `json:"third_party"`
	DisplayFormat string            `json:"display_format"`
}

type notificationsView struct {
	SMS   bool `json:"sms"`
	Email bool `json:"email"`
	Push  bool `json:"push"`
}

// Settings is the handler of both settings routes: GET /v1/phone/settings
// reads them, PATCH /v1/phone/settings changes them (step-up).
func (a *API) Settings(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if req.RequestContext.HTTP.Method == http.MethodPatch {
		return a.serve(ctx, req, routeChangeSettings, a.changeSettings)
	}
	return a.serve(ctx, req, routeSettings, a.settings)
}

func (a *API) settings(ctx context.Context, _ events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	set, err := a.svc.Settings(ctx, c.accountID)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return jsonResponse(http.StatusOK, settingsViewOf(set)), nil
}

func (a *API) changeSettings(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	var body settingsBody
	if err := decodeBody(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	patch, err := settingsPatch(body)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	set, err := a.svc.ChangeSettings(ctx, binding.SettingsUpdate{
		AccountID: c.accountID, Patch: patch, Session: c.session, SourceIP: c.sourceIP,
	})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return jsonResponse(http.StatusOK, settingsViewOf(set)), nil
}

// settingsPatch checks every member sent: its type, and for the enums its
// value. The first fault is reported with its field.
func settingsPatch(body settingsBody) (binding.SettingsPatch, error) {
	var p binding.SettingsPatch
	var err error
	if body.Notifications != nil {
		if p, err = notificationsPatch(body.Notifications); err != nil {
			return binding.SettingsPatch{}, err
		}
	}
	if p.Autofill, err = optionalBool("autofill", body.Autofill); err != nil {
		return binding.SettingsPatch{}, err
	}
	if p.ThirdParty, err = optionalOneOf("third_party", body.ThirdParty, binding.ThirdParties); err != nil {
		return binding.SettingsPatch{}, err
	}
	if p.DisplayFormat, err = optionalOneOf("display_format", body.DisplayFormat, binding.DisplayFormats); err != nil {
		return binding.SettingsPatch{}, err
	}
	return p, nil
}

// notificationsPatch reads the notifications member: an object of
// booleans, no other members, fields named with their path.
func notificationsPatch(raw json.RawMessage) (binding.SettingsPatch, error) {
	const field = "notifications"
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return binding.SettingsPatch{}, wrongType(field, "object")
	}
	var n notificationsBody
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		if re, ok := jsonError(err).(*requestError); ok && re.field != "" {
			re.field = field + "." + re.field
			re.args[0] = re.field
			return binding.SettingsPatch{}, re
		}
		return binding.SettingsPatch{}, wrongType(field, "object")
	}
	var p binding.SettingsPatch
	var err error
	if p.SMSNotices, err = optionalBool(field+".sms", n.SMS); err != nil {
		return binding.SettingsPatch{}, err
	}
	if p.EmailNotices, err = optionalBool(field+".email", n.Email); err != nil {
		return binding.SettingsPatch{}, err
	}
	if p.PushNotices, err = optionalBool(field+".push", n.Push); err != nil {
		return binding.SettingsPatch{}, err
	}
	return p, nil
}

// optionalBool is optional for a true-or-false member.
func optionalBool(field string, raw json.RawMessage) (*bool, error) {
	return optional[bool](field, "boolean", raw)
}

func settingsViewOf(s binding.Settings) settingsView {
	return settingsView{
		Notifications: notificationsView{SMS: s.Notifications.SMS, Email: s.Notifications.Email, Push: s.Notifications.Push},
		Autofill:      s.Autofill,
		ThirdParty:    string(s.ThirdParty),
		DisplayFormat: string(s.DisplayFormat),
	}
}
