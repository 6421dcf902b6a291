package stack

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Call is one DynamoDB request that went through a Meter.
type Call struct {
	// Op is the operation, e.g. "TransactWriteItems".
	Op string
	// Status is the HTTP status DynamoDB answered with.
	Status int
	// Items is how many items a transaction or batch carried (0 for
	// single-item operations and queries).
	Items int
	// Checks is how many of a transaction's items are ConditionChecks,
	// billed as writes in WriteUnits (every item of a transaction is "two
	// underlying reads or writes"); 2 WRU each when small.
	Checks int
	// ReadUnits and WriteUnits are the on-demand read and write request
	// units AWS bills for the call, by its published rules applied to the
	// items as they were before and after it (units.go).
	ReadUnits, WriteUnits float64
	// LocalRead and LocalWrite are what DynamoDB Local reported
	// (ConsumedCapacity with ReturnConsumedCapacity=TOTAL), for comparison.
	LocalRead, LocalWrite float64
	// Unbilled says why ReadUnits and WriteUnits could not be worked out
	// (empty when they were).
	Unbilled string
}

// Meter is an HTTP proxy in front of DynamoDB Local that counts every call
// and what it costs. It adds "ReturnConsumedCapacity":"TOTAL" to each
// request (DynamoDB Local checks no signature, so the body may change) and
// reads ConsumedCapacity back, leaving the response untouched; since
// DynamoDB Local's figures are not AWS's for transactions and empty
// queries, it also reads the items a write touches before and after it and
// bills the call by AWS's rules (units.go). A function pointed at it
// (DYNAMODB_ENDPOINT) runs unchanged: this measures the deployed artifact,
// not a test double of its store. Calls must not overlap for the item
// sizes to be exact, which holds for one function invoked at a time.
type Meter struct {
	upstream string
	client   *http.Client
	srv      *http.Server
	ln       net.Listener

	mu    sync.Mutex
	calls []Call
	keys  map[string][]string
}

// NewMeter starts a Meter on a loopback port in front of upstream.
func NewMeter(upstream string) (*Meter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &Meter{upstream: strings.TrimRight(upstream, "/"), client: &http.Client{}, ln: ln, keys: map[string][]string{}}
	m.srv = &http.Server{Handler: m}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

// URL is the Meter's endpoint, for DYNAMODB_ENDPOINT.
func (m *Meter) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops the Meter.
func (m *Meter) Close() error { return m.srv.Close() }

// Take returns the calls since the previous Take, oldest first.
func (m *Meter) Take() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.calls
	m.calls = nil
	return out
}

// ServeHTTP forwards one request.
func (m *Meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	items := itemCount(body)
	ctx := r.Context()
	refs, transaction, refErr := m.writeRefs(ctx, op, body)
	var before []int
	if refErr == nil && len(refs) > 0 {
		before, refErr = m.sizes(ctx, refs)
	}
	body = withConsumedCapacity(body)
	req, err := http.NewRequestWithContext(r.Context(), r.Method, m.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Accept-Encoding", "Connection":
			continue
		}
		req.Header[k] = vs
	}
	res, err := m.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	call := Call{Op: op, Status: res.StatusCode, Items: items}
	call.LocalRead, call.LocalWrite = consumed(op, out)
	switch {
	case refErr != nil:
		call.Unbilled = refErr.Error()
	case len(refs) > 0:
		for _, ref := range refs {
			if ref.check {
				call.Checks++
			}
		}
		// Failed conditional writes and cancelled transactions are billed
		// too; the sizes after are then the sizes before.
		after, err := m.sizes(ctx, refs)
		if err != nil {
			call.Unbilled = err.Error()
			break
		}
		call.WriteUnits = writeUnits(refs, before, after, transaction)
	case readOps[op] && res.StatusCode == http.StatusOK:
		call.ReadUnits = readUnits(op, body, out)
	}
	m.mu.Lock()
	m.calls = append(m.calls, call)
	m.mu.Unlock()

	for k, vs := range res.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Content-Encoding", "Connection":
			continue
		}
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(out)
}

// withConsumedCapacity asks for ConsumedCapacity in a JSON request body.
func withConsumedCapacity(body []byte) []byte {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return body
	}
	in["ReturnConsumedCapacity"] = json.RawMessage(`"TOTAL"`)
	out, err := json.Marshal(in)
	if err != nil {
		return body
	}
	return out
}

// itemCount counts a transaction's TransactItems or a batch's RequestItems.
func itemCount(body []byte) int {
	var in struct {
		TransactItems []json.RawMessage            `json:"TransactItems"`
		RequestItems  map[string][]json.RawMessage `json:"RequestItems"`
	}
	if json.Unmarshal(body, &in) != nil {
		return 0
	}
	n := len(in.TransactItems)
	for _, reqs := range in.RequestItems {
		n += len(reqs)
	}
	return n
}

type capacity struct {
	CapacityUnits      float64 `json:"CapacityUnits"`
	ReadCapacityUnits  float64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits float64 `json:"WriteCapacityUnits"`
}

// readOps are the operations whose units are read units; the rest write.
var readOps = map[string]bool{
	"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true,
}

// consumed sums a response's ConsumedCapacity (an object, or a list for
// transactions and batches) into read and write units.
func consumed(op string, body []byte) (read, write float64) {
	var out struct {
		ConsumedCapacity json.RawMessage `json:"ConsumedCapacity"`
	}
	if json.Unmarshal(body, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return 0, 0
	}
	var list []capacity
	if out.ConsumedCapacity[0] == '[' {
		_ = json.Unmarshal(out.ConsumedCapacity, &list)
	} else {
		var one capacity
		_ = json.Unmarshal(out.ConsumedCapacity, &one)
		list = []capacity{one}
	}
	for _, c := range list {
		switch {
		case c.ReadCapacityUnits != 0 || c.WriteCapacityUnits != 0:
			read += c.ReadCapacityUnits
			write += c.WriteCapacityUnits
		case readOps[op]:
			read += c.CapacityUnits
		default:
			write += c.CapacityUnits
		}
	}
	return read, write
}
