package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestE2EIdempotencyKeys retries request-code and confirm with the same
// Idempotency-Key over HTTP on DynamoDB Local: one SMS, one transaction, the
// first answer each time.
func TestE2EIdempotencyKeys(t *testing.T) {
	e := newE2E(t, nil)
	num := uniqueNumber()
	body := fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, num)
	first := e.call("idem", "POST", "/v1/phone/verification", body, "Idempotency-Key", "req-1")
	expect(t, first, 202, "")
	again := e.call("idem", "POST", "/v1/phone/verification", body, "Idempotency-Key", "req-1")
	expect(t, again, 202, "")
	if again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs: %s vs %s", again.raw, first.raw)
	}
	if sms := e.sms(num); len(sms) != 1 {
		t.Fatalf("%d SMS for one idempotent request", len(sms))
	}
	// The same key with another body is refused, and sends nothing.
	other := e.call("idem", "POST", "/v1/phone/verification", strings.Replace(body, "true", "false", 1), "Idempotency-Key", "req-1")
	expect(t, other, 422, "idempotency_key_reused")

	confirm := fmt.Sprintf(`{"verification_id":%q,"code":%q}`, first.str("verification_id"), e.code(num))
	c1 := e.call("idem", "POST", "/v1/phone/verification/confirm", confirm, "Idempotency-Key", "conf-1")
	expect(t, c1, 200, "")
	c2 := e.call("idem", "POST", "/v1/phone/verification/confirm", confirm, "Idempotency-Key", "conf-1")
	expect(t, c2, 200, "") // without the key this would be 404: the code is used
	if c2.raw != c1.raw {
		t.Fatalf("confirm replay differs")
	}
	if h, _ := e.status("idem").body["history"].([]any); len(h) != 1 {
		t.Fatalf("history has %d entries after one idempotent confirm", len(h))
	}
	expect(t, e.call("idem", "POST", "/v1/phone/verification/confirm", confirm, "Idempotency-Key", "conf-2"), 404, "verification_not_found")
	// Nothing of the body is kept in plain: the record holds the answer only.
	for _, it := range e.scanItems() {
		if strings.Contains(it["_raw"].(string), num) || strings.Contains(it["_raw"].(string), num[1:]) {
			t.Fatalf("an item holds the number: %s", it["_raw"])
		}
	}
}
