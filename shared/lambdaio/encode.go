package lambdaio

import (
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
)

// AppendResponse appends r as aws-lambda-go writes a handler's response:
// the bytes of a json.Encoder with SetEscapeHTML(false), without its final
// newline (fields in declaration order, map keys sorted, nil maps and slices
// as null, isBase64Encoded only when true).
func AppendResponse(dst []byte, r events.APIGatewayV2HTTPResponse) []byte {
	dst = append(dst, `{"statusCode":`...)
	dst = strconv.AppendInt(dst, int64(r.StatusCode), 10)
	dst = append(dst, `,"headers":`...)
	dst = appendHeaders(dst, r.Headers)
	dst = append(dst, `,"multiValueHeaders":`...)
	dst = appendMultiValueHeaders(dst, r.MultiValueHeaders)
	dst = append(dst, `,"body":`...)
	dst = jsonx.AppendString(dst, r.Body, false)
	if r.IsBase64Encoded {
		dst = append(dst, `,"isBase64Encoded":true`...)
	}
	dst = append(dst, `,"cookies":`...)
	dst = appendStrings(dst, r.Cookies)
	return append(dst, '}')
}

// sortedKeys returns m's keys in order, in arr when they fit.
func sortedKeys[V any](arr *[16]string, m map[string]V) []string {
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendHeaders(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var arr [16]string
	dst = append(dst, '{')
	for i, k := range sortedKeys(&arr, m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonx.AppendString(dst, k, false)
		dst = append(dst, ':')
		dst = jsonx.AppendString(dst, m[k], false)
	}
	return append(dst, '}')
}

func appendMultiValueHeaders(dst []byte, m map[string][]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var arr [16]string
	dst = append(dst, '{')
	for i, k := range sortedKeys(&arr, m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonx.AppendString(dst, k, false)
		dst = append(dst, ':')
		dst = appendStrings(dst, m[k])
	}
	return append(dst, '}')
}

func appendStrings(dst []byte, s []string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonx.AppendString(dst, v, false)
	}
	return append(dst, ']')
}
