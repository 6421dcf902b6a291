package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
)

// maxBodyBytes is the largest request body the API reads (decoded). Every
// body it expects is a few hundred bytes.
const maxBodyBytes = 16 << 10

// decodeBody reads the request body, base64-encoded or not, into dst: one
// JSON object with no unknown fields and nothing after it. Its errors say
// which field was wrong and how.
func decodeBody(req events.APIGatewayV2HTTPRequest, dst any) error {
	if f, ok := dst.(plainDecoder); ok && !req.IsBase64Encoded && len(req.Body) <= maxBodyBytes {
		// The bodies clients send, read without reflection or copies.
		if f.parsePlain(req.Body) {
			return nil
		}
		f.reset()
	}
	return decodeJSON(req, dst)
}

// decodeJSON is decodeBody through encoding/json alone.
func decodeJSON(req events.APIGatewayV2HTTPRequest, dst any) error {
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

// plainDecoder is a body that can read itself from a plain JSON object:
// parsePlain gives up (returns false) on anything it does not read exactly
// as decodeJSON would, wrong types and unknown fields included, and reset
// then clears what it read, so that decodeJSON reads it instead, and says
// what is wrong with it.
type plainDecoder interface {
	parsePlain(body string) bool
	reset()
}

// parseObject reads an object whose members are all among names (each
// once, named exactly) and nothing but white space after it, calling one
// with each member's index.
func parseObject(p *jsonx.Parser, names []string, one func(i int) bool) bool {
	other := false
	return p.Object(names, &other, one) && !other && p.End()
}

// stringPtr reads a string member into *slot and points *dst at it; null
// makes *dst nil, as encoding/json does.
func stringPtr(p *jsonx.Parser, dst **string, slot *string) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	if p.Peek() != '"' {
		return false
	}
	v, ok := p.Str()
	*slot, *dst = v, slot
	return ok
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
		return &requestError{code: codeInvalidRequest, detail: detailUnknownField, field: field,
			args: []any{field}, err: err}
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

// missing reports a required field that was absent or null.
func missing(field string) error {
	return &requestError{code: codeInvalidRequest, status: http.StatusUnprocessableEntity,
		detail: detailRequired, field: field, args: []any{field}}
}

// notOneOf reports a field whose value is not among those allowed.
func notOneOf(field string, allowed ...string) error {
	return &requestError{code: codeInvalidRequest, status: http.StatusUnprocessableEntity,
		detail: detailOneOf, field: field, args: []any{field, strings.Join(allowed, ", ")}}
}
