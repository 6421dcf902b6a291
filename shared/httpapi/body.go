package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// maxBodyBytes is the largest request body the API reads (decoded). Every
// body it expects is a few hundred bytes.
const maxBodyBytes = 16 << 10

// decodeBody reads the request body, base64-encoded or not, into dst: one
// JSON object sent as application/json, with no unknown fields and nothing
// after it. Its errors say which field was wrong and how.
func decodeBody(req events.APIGatewayV2HTTPRequest, dst any) error {
	if !jsonMediaType(header(req.Headers, "content-type")) {
		return &requestError{code: codeUnsupportedMediaType}
	}
	raw, err := bodyBytes(req)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return &requestError{code: codeInvalidJSON, detail: detailEmptyBody}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &requestError{code: codeInvalidJSON, detail: detailTrailingData}
	}
	return nil
}

// jsonMediaType reports whether a Content-Type header names JSON
// (application/json, parameters such as charset allowed). A body without
// one is not taken as JSON.
func jsonMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// bodyBytes decodes the body and enforces maxBodyBytes on what was sent, not
// on its base64 form.
func bodyBytes(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	tooLarge := &PayloadTooLargeError{Limit: maxBodyBytes}
	if !req.IsBase64Encoded {
		if len(req.Body) > maxBodyBytes {
			return nil, tooLarge
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > maxBodyBytes+2 {
		return nil, tooLarge
	}
	raw, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, &requestError{code: codeInvalidJSON, err: err}
	}
	if len(raw) > maxBodyBytes {
		return nil, tooLarge
	}
	return raw, nil
}

// jsonError explains a json.Decoder failure in terms of the request.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &requestError{code: codeInvalidRequest, detail: detailNotObject, err: err}
		}
		return &requestError{code: codeInvalidRequest, detail: detailWrongType, field: typeErr.Field,
			args: []any{typeErr.Field, jsonTypes[jsonTypeOf(typeErr.Type)]}, err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if unquoted, uerr := strconv.Unquote(field); uerr == nil {
			field = unquoted
		}
		e := unknownField(field)
		e.err = err
		return e
	default:
		// Syntax errors, truncated input and anything else the decoder
		// could not read as JSON.
		return &requestError{code: codeInvalidJSON, err: err}
	}
}

// jsonTypeOf names the JSON type a Go field accepts.
func jsonTypeOf(t reflect.Type) string {
	if t == nil {
		return "object"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// wrongType reports a member of the wrong JSON type (null included) as
// the decoder's own type errors are reported.
func wrongType(field, jsonType string) error {
	return &requestError{code: codeInvalidRequest, detail: detailWrongType, field: field,
		args: []any{field, jsonTypes[jsonType]}}
}

// unknownField reports a member the request does not take.
func unknownField(field string) *requestError {
	return &requestError{code: codeInvalidRequest, detail: detailUnknownField, field: field, args: []any{field}}
}

// notForPurpose reports a field of another purpose (SPEC §5: `phone` on an
// unbind, `channel:"email"` on a bind): refused like an unknown field, with
// a detail that says which purpose does not take it.
func notForPurpose(field string, purpose binding.Purpose) error {
	return &requestError{code: codeInvalidRequest, detail: detailOtherPurpose, field: field, args: []any{field, string(purpose)}}
}

// optional reads a member that may be absent but, when sent, must be of
// jsonType ("string", "boolean", as jsonTypes names them): null is
// refused, not taken for absent.
func optional[T any](field, jsonType string, raw json.RawMessage) (*T, error) {
	if raw == nil {
		return nil, nil
	}
	var v T
	if string(bytes.TrimSpace(raw)) == "null" || json.Unmarshal(raw, &v) != nil {
		return nil, wrongType(field, jsonType)
	}
	return &v, nil
}

// optionalString is optional for a string member.
func optionalString(field string, raw json.RawMessage) (*string, error) {
	return optional[string](field, "string", raw)
}

// optionalOneOf is optional for a string member that, when sent, must be
// one of allowed.
func optionalOneOf[T ~string](field string, raw json.RawMessage, allowed []T) (*T, error) {
	s, err := optionalString(field, raw)
	if err != nil || s == nil {
		return nil, err
	}
	v := T(*s)
	if !slices.Contains(allowed, v) {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		return nil, notOneOf(field, names...)
	}
	return &v, nil
}

// missing reports a required field that was absent or null.
func missing(field string) error {
	return &requestError{code: codeInvalidRequest, status: http.StatusUnprocessableEntity,
		detail: detailRequired, field: field, args: []any{field}}
}

// badFormat reports a field whose value cannot be what it names (too long,
// or not digits where digits are asked for); detail says what it must be.
func badFormat(field, detail string) error {
	return &requestError{code: codeInvalidRequest, status: http.StatusUnprocessableEntity,
		detail: detail, field: field}
}

// notOneOf reports a field whose value is not among those allowed.
func notOneOf(field string, allowed ...string) error {
	return &requestError{code: codeInvalidRequest, status: http.StatusUnprocessableEntity,
		detail: detailOneOf, field: field, args: []any{field, strings.Join(allowed, ", ")}}
}
