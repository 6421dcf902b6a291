// Package lambdaio is the functions' entry from the Lambda runtime without
// aws-lambda-go's reflection: lambda.Start takes any lambda.Handler
// (Invoke(ctx, payload []byte) ([]byte, error)) as it is, so these read the
// API Gateway HTTP API event with a hand-written parser and write the
// response by appending, where lambda.Start(func) would decode the whole
// event and encode the answer through encoding/json's reflection.
//
// What a handler receives and what Lambda gets back are the same as with
// lambda.Start(func): DecodeRequest yields the request encoding/json would
// (and its error for a payload it refuses), and AppendResponse writes the
// bytes aws-lambda-go's encoder would. Tests hold both to encoding/json on
// the sample events and on fuzzed ones.
//
//	lambda.Start(lambdaio.HTTP(handler))      // func(ctx, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
//	lambda.Start(lambdaio.Raw(ops.Function(…))) // func(ctx, json.RawMessage) (any, error)
package lambdaio

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
)

// HTTPHandler is an HTTP API function's handler (httpapi.Handler's shape).
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// RawHandler takes any event as its JSON (ops.Handler's shape).
type RawHandler = func(context.Context, json.RawMessage) (any, error)

// HTTP is h as a lambda.Handler: the event decoded by DecodeRequest, the
// response written by AppendResponse. A payload aws-lambda-go would refuse
// fails the invocation with the error it would give, and so does an error h
// returns.
func HTTP(h HTTPHandler) lambda.Handler { return httpHandler(h) }

type httpHandler HTTPHandler

// Invoke implements lambda.Handler.
func (h httpHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := DecodeRequest(payload)
	if err != nil {
		return nil, err
	}
	resp, err := h(ctx, req)
	if err != nil {
		return nil, err
	}
	return encodeResponse(resp), nil
}

// Raw is h as a lambda.Handler, for a function that takes more than HTTP
// API events (ops.Function): h gets the payload's first JSON value as
// aws-lambda-go would hand it a json.RawMessage (a payload that has none
// fails the invocation with the same error), and what it returns is written
// as aws-lambda-go would write it, an events.APIGatewayV2HTTPResponse by
// AppendResponse. The json.RawMessage is a piece of the payload, valid until
// Invoke returns: h must not keep it.
func Raw(h RawHandler) lambda.Handler { return rawHandler(h) }

type rawHandler RawHandler

// Invoke implements lambda.Handler.
func (h rawHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	raw, ok := firstValue(payload)
	if !ok {
		var m json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&m); err != nil {
			return nil, err
		}
		raw = m
	}
	out, err := h(ctx, raw)
	if err != nil {
		return nil, err
	}
	if resp, ok := out.(events.APIGatewayV2HTTPResponse); ok {
		return encodeResponse(resp), nil
	}
	return encodeAny(out)
}

// firstValue is the JSON value a json.Decoder would read first from
// payload, when the parser can tell.
func firstValue(payload []byte) (json.RawMessage, bool) {
	i := 0
	for i < len(payload) && jsonx.IsSpace(payload[i]) {
		i++
	}
	if i == len(payload) {
		return nil, false
	}
	// Only checked, nothing kept: the parser may look at the payload's
	// bytes as a string without copying them.
	p := jsonx.NewParser(unsafe.String(&payload[0], len(payload)), i)
	if !p.Skip(0) {
		return nil, false
	}
	return payload[i:p.Pos()], true
}

// bufPool holds the buffers responses are written in before their copy is
// handed to the runtime.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled is the largest buffer put back in bufPool.
const maxPooled = 64 << 10

func encodeResponse(resp events.APIGatewayV2HTTPResponse) []byte {
	bp := bufPool.Get().(*[]byte)
	b := AppendResponse((*bp)[:0], resp)
	out := bytes.Clone(b)
	if cap(b) <= maxPooled {
		*bp = b
		bufPool.Put(bp)
	}
	return out
}

// encodeAny writes v as aws-lambda-go does: a json.Encoder without HTML
// escaping, its final newline cut; an io.Reader that does not encode, or
// encodes as an empty object, is read instead.
func encodeAny(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		if r, ok := v.(io.Reader); ok {
			return readAll(r)
		}
		return nil, err
	}
	if r, ok := v.(io.Reader); ok && strings.HasPrefix(buf.String(), "{}") {
		return readAll(r)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// readAll reads a response that is a reader, closing it when it closes.
func readAll(r io.Reader) ([]byte, error) {
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	return io.ReadAll(r)
}
