package stack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// DynamoDB Local reports ConsumedCapacity, but not as AWS bills it: a
// TransactWriteItems of one to nine small items reports 4 units (AWS bills 2
// per item), and an empty Query 0 (AWS bills at least one unit). So the
// Meter also applies AWS's published on-demand rules itself, to the items
// the call touched as they were before and after it:
//
//   - a write (PutItem, UpdateItem, DeleteItem) bills 1 write request unit
//     per KB of the larger of the item before and after, rounded up per
//     item, at least 1; "DynamoDB performs two underlying reads or writes of
//     every item in the transaction", so each TransactWriteItems item (a
//     ConditionCheck too) bills twice that;
//   - a strongly consistent read bills 1 read request unit per 4 KB, an
//     eventually consistent one half; GetItem and BatchGetItem per item
//     (a key not found bills the minimum), Query on the total size of what
//     it read, at least one unit per request.
//
// Sources: docs.aws.amazon.com/amazondynamodb/latest/developerguide/
// read-write-operations.html and transaction-apis.html ("Capacity
// management for transactions").

// itemRef is one item a call touches.
type itemRef struct {
	table string
	key   map[string]json.RawMessage
	// put is the item a Put writes, nil otherwise.
	put map[string]json.RawMessage
	// check is true for a ConditionCheck: read, not written.
	check bool
}

// writeRefs lists the items a write call touches, or nil for other calls.
func (m *Meter) writeRefs(ctx context.Context, op string, body []byte) ([]itemRef, bool, error) {
	type target struct {
		TableName string                     `json:"TableName"`
		Key       map[string]json.RawMessage `json:"Key"`
		Item      map[string]json.RawMessage `json:"Item"`
	}
	ref := func(t target, check bool) (itemRef, error) {
		r := itemRef{table: t.TableName, key: t.Key, put: t.Item, check: check}
		if r.key == nil && r.put != nil {
			names, err := m.keyNames(ctx, t.TableName)
			if err != nil {
				return r, err
			}
			r.key = map[string]json.RawMessage{}
			for _, n := range names {
				r.key[n] = t.Item[n]
			}
		}
		return r, nil
	}
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		var t target
		if err := json.Unmarshal(body, &t); err != nil {
			return nil, false, err
		}
		r, err := ref(t, false)
		return []itemRef{r}, false, err
	case "TransactWriteItems":
		var in struct {
			TransactItems []struct {
				Put, Update, Delete, ConditionCheck *target
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, false, err
		}
		var refs []itemRef
		for _, ti := range in.TransactItems {
			var r itemRef
			var err error
			switch {
			case ti.Put != nil:
				r, err = ref(*ti.Put, false)
			case ti.Update != nil:
				r, err = ref(*ti.Update, false)
			case ti.Delete != nil:
				r, err = ref(*ti.Delete, false)
			case ti.ConditionCheck != nil:
				r, err = ref(*ti.ConditionCheck, true)
			}
			if err != nil {
				return nil, false, err
			}
			refs = append(refs, r)
		}
		return refs, true, nil
	}
	return nil, false, nil
}

// sizes reads each item's current size (0 when it does not exist).
func (m *Meter) sizes(ctx context.Context, refs []itemRef) ([]int, error) {
	out := make([]int, len(refs))
	for i, r := range refs {
		var resp struct {
			Item map[string]json.RawMessage `json:"Item"`
		}
		if err := m.upstreamCall(ctx, "GetItem", map[string]any{"TableName": r.table, "Key": r.key, "ConsistentRead": true}, &resp); err != nil {
			return nil, err
		}
		out[i] = ItemSize(resp.Item)
	}
	return out, nil
}

// writeUnits bills a write call from its items' sizes before and after.
func writeUnits(refs []itemRef, before, after []int, transaction bool) float64 {
	total := 0.0
	for i, r := range refs {
		size := max(before[i], after[i])
		if r.put != nil {
			size = max(size, ItemSize(r.put))
		}
		units := math.Max(1, math.Ceil(float64(size)/1024))
		if transaction {
			units *= 2
		}
		total += units
	}
	return total
}

// readUnits bills a read call from its response.
func readUnits(op string, req, resp []byte) float64 {
	var in struct {
		ConsistentRead bool `json:"ConsistentRead"`
	}
	_ = json.Unmarshal(req, &in)
	factor := 0.5
	if in.ConsistentRead {
		factor = 1
	}
	var out struct {
		Item  map[string]json.RawMessage   `json:"Item"`
		Items []map[string]json.RawMessage `json:"Items"`
	}
	if json.Unmarshal(resp, &out) != nil {
		return 0
	}
	if op == "BatchGetItem" {
		return batchReadUnits(req, resp)
	}
	switch op {
	case "GetItem":
		return factor * math.Max(1, math.Ceil(float64(ItemSize(out.Item))/4096))
	case "Query", "Scan":
		size := 0
		for _, it := range out.Items {
			size += ItemSize(it)
		}
		return factor * math.Max(1, math.Ceil(float64(size)/4096))
	}
	return 0
}

// batchReadUnits bills a BatchGetItem per key asked for: an item found by
// its size, a missing one the minimum, each halved when the table's reads
// are eventually consistent.
func batchReadUnits(req, resp []byte) float64 {
	var in struct {
		RequestItems map[string]struct {
			Keys           []json.RawMessage `json:"Keys"`
			ConsistentRead bool              `json:"ConsistentRead"`
		} `json:"RequestItems"`
	}
	var out struct {
		Responses map[string][]map[string]json.RawMessage `json:"Responses"`
	}
	if json.Unmarshal(req, &in) != nil || json.Unmarshal(resp, &out) != nil {
		return 0
	}
	total := 0.0
	for table, ask := range in.RequestItems {
		factor := 0.5
		if ask.ConsistentRead {
			factor = 1
		}
		found := out.Responses[table]
		for _, it := range found {
			total += factor * math.Max(1, math.Ceil(float64(ItemSize(it))/4096))
		}
		if missing := len(ask.Keys) - len(found); missing > 0 {
			total += factor * float64(missing)
		}
	}
	return total
}

// keyNames is a table's key attributes (cached).
func (m *Meter) keyNames(ctx context.Context, table string) ([]string, error) {
	m.mu.Lock()
	names, ok := m.keys[table]
	m.mu.Unlock()
	if ok {
		return names, nil
	}
	var resp struct {
		Table struct {
			KeySchema []struct {
				AttributeName string `json:"AttributeName"`
			} `json:"KeySchema"`
		} `json:"Table"`
	}
	if err := m.upstreamCall(ctx, "DescribeTable", map[string]any{"TableName": table}, &resp); err != nil {
		return nil, err
	}
	for _, k := range resp.Table.KeySchema {
		names = append(names, k.AttributeName)
	}
	m.mu.Lock()
	m.keys[table] = names
	m.mu.Unlock()
	return names, nil
}

// upstreamCall makes a DynamoDB call the Meter does not count.
func (m *Meter) upstreamCall(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.upstream+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	// DynamoDB Local wants a credential, not a valid signature.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/"+Region+"/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	res, err := m.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("meter: %s: %s: %s", op, res.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

// ItemSize is an item's size as DynamoDB counts it for capacity: the
// lengths of its attribute names plus the sizes of their values (strings
// and binaries by their bytes, numbers by their digits, 1 byte for a
// boolean or null, 3 bytes plus 1 per element for a list or map).
func ItemSize(item map[string]json.RawMessage) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(raw json.RawMessage) int {
	var v map[string]json.RawMessage
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	for typ, val := range v {
		switch typ {
		case "S":
			var s string
			_ = json.Unmarshal(val, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(val, &s)
			return numberSize(s)
		case "B":
			var s string
			_ = json.Unmarshal(val, &s)
			b, _ := base64.StdEncoding.DecodeString(s)
			return len(b)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			var set []string
			_ = json.Unmarshal(val, &set)
			n := 0
			for _, s := range set {
				switch typ {
				case "SS":
					n += len(s)
				case "NS":
					n += numberSize(s)
				default:
					b, _ := base64.StdEncoding.DecodeString(s)
					n += len(b)
				}
			}
			return n
		case "L":
			var list []json.RawMessage
			_ = json.Unmarshal(val, &list)
			n := 3
			for _, e := range list {
				n += 1 + valueSize(e)
			}
			return n
		case "M":
			var m map[string]json.RawMessage
			_ = json.Unmarshal(val, &m)
			n := 3
			for k, e := range m {
				n += 1 + len(k) + valueSize(e)
			}
			return n
		}
	}
	return 0
}

// numberSize is about one byte per two significant digits, plus one.
func numberSize(s string) int {
	s = strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	digits = max(digits, 1)
	return (digits+1)/2 + 1
}
