package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// Issue 13, SPEC §4.9 end to end on DynamoDB Local and moto: an account
// with everything a citizen can leave behind downloads its report, is
// erased by the ops event, and then the whole table, read page by page,
// holds nothing of it: no account id, no HMAC of any of its numbers, no
// ciphertext of its numbers or contacts. Its tickets stay, stripped, where
// operators' status index finds them; a neighbour is untouched.

// scanPaged reads the whole table in small pages (LastEvaluatedKey), so
// that paging is exercised whatever the table's size.
func (e *e2e) scanPaged() []map[string]types.AttributeValue {
	e.t.Helper()
	var out []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for pages := 0; ; pages++ {
		page, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{
			TableName: &e.table, ConsistentRead: aws.Bool(true), Limit: aws.Int32(7), ExclusiveStartKey: start,
		})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			if pages == 0 {
				e.t.Fatal("the scan took one page: paging was not exercised")
			}
			return out
		}
		start = page.LastEvaluatedKey
	}
}

func (e *e2e) eraseAccount(account string) (string, map[string]any) {
	e.t.Helper()
	ev := fmt.Sprintf(`{"action":"erase_account","account_id":%q,"operator":"ivanova","reason":"the portal deleted the account"}`, account)
	out, err := e.srv.app.Unbind()(context.Background(), json.RawMessage(ev))
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	var res struct {
		OK     bool `json:"ok"`
		Result struct {
			Erased map[string]any `json:"erased"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &res); err != nil || !res.OK {
		e.t.Fatalf("erase_account: %s", b)
	}
	return string(b), res.Result.Erased
}

// itemsNaming are the items any value of which contains s.
func itemsNaming(items []map[string]types.AttributeValue, s string) []string {
	var out []string
	for _, it := range items {
		hit := false
		scanWalk(it, func(_, value string) { hit = hit || strings.Contains(value, s) })
		if hit {
			out = append(out, scanItemName(it))
		}
	}
	sort.Strings(out)
	return out
}

func TestE2EEraseAccountWholeTable(t *testing.T) {
	e := newE2E(t, map[string]string{"SES_ENDPOINT": testenv.MotoEndpoint(t), "EMAIL_FROM": emailSender, "UNBIND_EMAIL_HOLD": "24h"})
	verifySender(t, e.moto)
	run := time.Now().UnixNano()
	account, neighbour := fmt.Sprintf("erase-%d", run), fmt.Sprintf("keep-%d", run)
	first, second, neighbours := uniqueNumber(), uniqueNumber(), uniqueNumber()
	address := uniqueAddress()

	// A bind with an Idempotency-Key (its stored answers are the account's
	// too), a wrong code first; the neighbour binds.
	r := e.call(account, "POST", "/v1/phone/verification", fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, first),
		"Idempotency-Key", fmt.Sprintf("bind-%d", run))
	expect(t, r, 202, "")
	expect(t, e.confirm(account, r.str("verification_id"), wrong(e.code(first))), 422, "code_invalid")
	expect(t, e.call(account, "POST", "/v1/phone/verification/confirm",
		fmt.Sprintf(`{"verification_id":%q,"code":%q}`, r.str("verification_id"), e.code(first)), "Idempotency-Key", fmt.Sprintf("confirm-%d", run)), 200, "")
	e.bind(neighbour, neighbours)
	expect(t, e.call(account, "PATCH", "/v1/phone/settings", `{"display_format":"national","notifications":{"email":false},"third_party":"ask"}`), 200, "")
	expect(t, e.call(neighbour, "PATCH", "/v1/phone/settings", `{"third_party":"ask"}`), 200, "")

	// A change, once CHANGE_COOLDOWN has passed: the first number is now
	// a previous one.
	e.clock.Advance(31 * 24 * time.Hour)
	r = e.requestCode(account, second)
	expect(t, r, 202, "")
	expect(t, e.confirm(account, r.str("verification_id"), e.code(second)), 200, "")

	// Tickets: one with the number as its contact, answered; one with the
	// e-mail address, filed with an Idempotency-Key. The neighbour's too.
	r = e.fileTicket(account, fmt.Sprintf(`{"category":"problem","message":"Сменил номер, старый %s","contact":%q}`, first, second))
	expect(t, r, 201, "")
	answered := r.str("ticket_id")
	if out := e.updateTicket(answered, "answered", "Номер "+second+" сохранён", "ivanova"); !strings.Contains(out, `"ok":true`) {
		t.Fatalf("answer: %s", out)
	}
	r = e.call(account, "POST", "/v1/feedback", fmt.Sprintf(`{"category":"question","message":"Вопрос","contact":%q}`, address),
		"Idempotency-Key", fmt.Sprintf("ticket-%d", run))
	expect(t, r, 201, "")
	mailTicket := r.str("ticket_id")
	neighboursTicket := e.newTicketID(neighbour, "Сосед")

	// A removal by e-mail code, held for UNBIND_EMAIL_HOLD.
	e.clock.Advance(2 * time.Minute)
	r = e.requestUnbindByEmail(account, address)
	expect(t, r, 202, "")
	mails := e.emails(address)
	code := codeRE.FindString(mails[len(mails)-1].Body)
	r = e.unbind(account, r.str("verification_id"), code)
	expect(t, r, 202, "")

	// A partner asks to read the number: an access request and an entry
	// in the access log, both in the account's partition.
	read := fmt.Sprintf(`{"action":"read_phone","account_id":%q,"purpose":"third_party","client_id":"partner.bank-example","client_name":"Банк «Пример»"}`, account)
	if r := e.invokeLocal("phone-read", read); r.str("error") != "approval_required" {
		t.Fatalf("partner's read: %d %s", r.status, r.raw)
	}

	// The report, downloaded before the erasure.
	report := e.call(account, "GET", "/v1/phone/data", "")
	expect(t, report, 200, "")
	if cd := report.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="phone-data-`) || !strings.HasSuffix(cd, `.json"`) ||
		report.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(report.header.Get("Content-Type"), "application/json") {
		t.Fatalf("report headers: %v", report.header)
	}
	if p, _ := report.body["profile"].(map[string]any); p["phone"] != second || p["unbind_at"] == nil {
		t.Fatalf("report profile: %s", report.raw)
	}
	if h, _ := report.body["history"].([]any); len(h) < 4 {
		t.Fatalf("report history: %s", report.raw)
	}
	if tk, _ := report.body["tickets"].([]any); len(tk) != 2 || !strings.Contains(report.raw, address) {
		t.Fatalf("report tickets: %s", report.raw)
	}
	if l, _ := report.body["access_log"].([]any); len(l) != 1 {
		t.Fatalf("report access log: %s", report.raw)
	}
	if q, _ := report.body["access_requests"].([]any); len(q) != 1 || !strings.Contains(report.raw, "partner.bank-example") {
		t.Fatalf("report access requests: %s", report.raw)
	}

	// What must be gone: the account id, every number's HMAC, every
	// ciphertext of its numbers and contacts (opened with the development
	// keys the runner uses, to find them whatever attribute holds them).
	keys := secure.DevKeyring()
	secrets := map[string]string{
		"the account id":            account,
		"the first number's HMAC":   keys.PhoneMAC(first),
		"the second number's HMAC":  keys.PhoneMAC(second),
		"the first number in full":  first,
		"the second number in full": second,
		"the e-mail address":        address,
		"the kept address's HMAC":   keys.PhoneMAC("mailto:" + strings.ToLower(address)),
	}
	before := e.scanPaged()
	for _, it := range before {
		scanWalk(it, func(path, value string) {
			if !strings.Contains(path, "ciphertext") || strings.HasSuffix(path, ")") {
				return
			}
			if plain, err := scanOpen(keys, it, path, value); err == nil && (plain == first || plain == second || plain == address) {
				secrets[fmt.Sprintf("%s's %s (of %s)", scanItemName(it), path, plain)] = value
			}
		})
	}
	if len(itemsNaming(before, secrets["the kept address's HMAC"])) == 0 || len(itemsNaming(before, "ACCESSLOG#")) == 0 {
		t.Fatal("the table kept no address or no access log before the erasure: the check would prove little")
	}
	if len(secrets) < 9 {
		t.Fatalf("found only %d secrets before the erasure: the check would prove little", len(secrets))
	}
	for _, report := range []string{report.raw} {
		for what, s := range secrets {
			if strings.HasPrefix(what, "the ") && !strings.Contains(what, "HMAC") {
				continue // the report holds the account id, the numbers, the address
			}
			if strings.Contains(report, s) {
				t.Errorf("the report holds %s", what)
			}
		}
	}
	neighbourBefore := e.itemsOf(before, neighbour)

	out, erased := e.eraseAccount(account)
	for _, kind := range []string{"profile", "verification", "settings", "claims", "idempotency"} {
		if n, _ := erased[kind].(float64); n < 1 {
			t.Errorf("erased %s = %v: %s", kind, erased[kind], out)
		}
	}
	if n, _ := erased["tickets_stripped"].(float64); n != 2 {
		t.Errorf("tickets stripped = %v: %s", erased["tickets_stripped"], out)
	}
	if n, _ := erased["counters"].(float64); n < 3 {
		t.Errorf("counters = %v: %s", erased["counters"], out)
	}

	after := e.scanPaged()
	for what, s := range secrets {
		if found := itemsNaming(after, s); len(found) > 0 {
			t.Errorf("after the erasure the table still holds %s in %v", what, found)
		}
	}
	if got := e.itemsOf(after, neighbour); !reflect.DeepEqual(got, neighbourBefore) {
		t.Errorf("the neighbour's items changed:\nbefore %v\nafter  %v", neighbourBefore, got)
	}

	// The tickets stay for support: stripped, under no account, in the
	// status index.
	for _, id := range []string{answered, mailTicket} {
		ref := e.item(fmt.Sprintf("TICKET#%s", id), "TICKET")
		owner := scanStr(ref["account_id"])
		if !strings.HasPrefix(owner, "erased#") {
			t.Fatalf("ticket %s ref: %v", id, ref)
		}
		kept := e.item("TICKETS#"+owner, scanStr(ref["ticket_sk"]))
		for _, gone := range []string{"message", "contact_kind", "contact_hmac", "contact_ciphertext", "contact_masked", "answer", "account_id"} {
			if _, ok := kept[gone]; ok {
				t.Errorf("kept ticket %s still has %s", id, gone)
			}
		}
		if scanStr(kept["ticket_status"]) == "" || scanStr(kept["created_at"]) == "" {
			t.Errorf("kept ticket %s lost its status or date: %v", id, kept)
		}
	}
	if !e.statusIndexLists("answered", answered) || !e.statusIndexLists("new", mailTicket) || !e.statusIndexLists("new", neighboursTicket) {
		t.Error("the status index lost a ticket")
	}
	if got := e.updateTicket(mailTicket, "closed", "", "ivanova"); !strings.Contains(got, `"ok":true`) {
		t.Errorf("operators can no longer close a kept ticket: %s", got)
	}

	// The account reads as new; the number is free; nothing is left.
	if st := e.status(account); st.str("status") != "none" || len(st.body["history"].([]any)) != 0 {
		t.Fatalf("status after erasure: %s", st.raw)
	}
	r = e.requestCode(neighbour+"-2", second)
	expect(t, r, 202, "")
	expect(t, e.confirm(neighbour+"-2", r.str("verification_id"), e.code(second)), 200, "")
	out, erased = e.eraseAccount(account)
	for kind, v := range erased {
		if n, ok := v.(float64); ok && n != 0 {
			t.Errorf("second erasure: %s = %v: %s", kind, v, out)
		}
	}
	if !strings.Contains(out, "nothing left") {
		t.Errorf("second erasure: %s", out)
	}
}

// itemsOf are the items naming account, as comparable text.
func (e *e2e) itemsOf(items []map[string]types.AttributeValue, account string) []string {
	var out []string
	for _, it := range items {
		hit := false
		scanWalk(it, func(_, value string) { hit = hit || strings.Contains(value, account) })
		if !hit {
			continue
		}
		var fields []string
		scanWalk(it, func(path, value string) { fields = append(fields, path+"="+value) })
		sort.Strings(fields)
		out = append(out, strings.Join(fields, " "))
	}
	sort.Strings(out)
	return out
}

func (e *e2e) item(pk, sk string) map[string]types.AttributeValue {
	e.t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil || len(out.Item) == 0 {
		e.t.Fatalf("get %s %s: %v (found %d attributes)", pk, sk, err, len(out.Item))
	}
	return out.Item
}

// statusIndexLists reports whether the TicketsByStatus index lists the
// ticket under status, as operators query it in the console.
func (e *e2e) statusIndexLists(status, ticketID string) bool {
	e.t.Helper()
	p := dynamodb.NewQueryPaginator(e.db, &dynamodb.QueryInput{
		TableName: &e.table, IndexName: aws.String("TicketsByStatus"),
		KeyConditionExpression:    aws.String("ticket_status = :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: status}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range page.Items {
			if scanStr(it["ticket_id"]) == ticketID {
				return true
			}
		}
	}
	return false
}
