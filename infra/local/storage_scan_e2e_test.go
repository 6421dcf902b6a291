package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/secure"
)

// Issue 6, storage: after every kind of flow, the table holds no number in
// plain text (in any of the forms people write it) and no code that was
// sent; and after an unbind no item keeps the number's ciphertext, the
// history keeping only the masked form.

// TestE2EStorageScan runs every flow that writes a number or a code (see
// runStorageFlows), then reads the whole table.
func TestE2EStorageScan(t *testing.T) {
	e := newE2E(t, nil)
	sc := e.runStorageFlows()
	items := e.scanRaw()
	if len(items) == 0 {
		t.Fatal("the flows left nothing in the table to check")
	}
	t.Logf("%d items, %d numbers, %d codes", len(items), len(sc.numbers), len(sc.codes))

	// Every attribute of every item, nested maps and lists included, for
	// every number used (in any form people write it) and every code sent.
	t.Run("no number or code in plain text", func(t *testing.T) {
		var leaks []string
		for _, it := range items {
			scanWalk(it, func(path, value string) {
				for _, n := range sc.numbers {
					if form := scanNumberIn(value, n); form != "" {
						leaks = append(leaks, fmt.Sprintf("%s: %s holds %s as %q", scanItemName(it), path, n, form))
					}
				}
				for _, c := range sc.codes {
					if scanDigitRuns(value)[c] {
						leaks = append(leaks, fmt.Sprintf("%s: %s holds the code %s", scanItemName(it), path, c))
					}
				}
			})
		}
		sort.Strings(leaks)
		for _, l := range leaks {
			t.Error(l)
		}
	})

	// Issue 6's deletion rule: after an unbind (by SMS, by support;
	// withdrawing consent is the same operation) no item keeps a
	// ciphertext of the unbound number, and history items hold the masked
	// form only. Every attribute whose name contains "ciphertext" is
	// opened with the development keys to see what it holds.
	t.Run("no ciphertext of an unbound number", func(t *testing.T) {
		keys := secure.DevKeyring()
		var violations []string
		for _, it := range items {
			if strings.HasPrefix(scanStr(it["sk"]), "HISTORY#") {
				for name := range it {
					if strings.Contains(name, "ciphertext") || strings.Contains(name, "hmac") || strings.Contains(name, "key_id") {
						violations = append(violations, fmt.Sprintf("%s: history item has %s", scanItemName(it), name))
					}
				}
				if m := scanStr(it["phone_masked"]); m != "" && !strings.Contains(m, "*") {
					violations = append(violations, fmt.Sprintf("%s: history phone_masked %q is not masked", scanItemName(it), m))
				}
			}
			scanWalk(it, func(path, value string) {
				if !strings.Contains(path, "ciphertext") || strings.HasSuffix(path, ")") {
					return // not a ciphertext, or the name of one
				}
				plain, err := scanOpen(keys, it, path, value)
				if err != nil {
					t.Logf("%s: %s does not open with the development keys: %v", scanItemName(it), path, err)
					return
				}
				if u, ok := sc.unbound[plain]; ok {
					msg := fmt.Sprintf("%s: %s still holds the ciphertext of %s (%s from %s)", scanItemName(it), path, plain, u.how, u.account)
					if otherAccountsPendingBind(it, u.account, path) {
						// Someone else's open request for the number, now
						// free: binding it needs the number.
						t.Logf("allowed: %s", msg)
						return
					}
					violations = append(violations, msg)
				}
				if plain == sc.changedAway {
					// SPEC names unbinds and consent withdrawal only; a
					// number changed away from is released too, so say
					// where it stays.
					t.Logf("note: %s: %s holds the ciphertext of %s (released by a change)", scanItemName(it), path, plain)
				}
			})
		}
		sort.Strings(violations)
		for _, v := range violations {
			t.Error(v)
		}
	})
}

// storageScenario is what runStorageFlows did: every number it used, every
// code that was sent, and which numbers ended unbound, by whom.
type storageScenario struct {
	numbers     []string // E.164
	codes       []string
	changedAway string // alice's first number, released by her change
	// unbound maps each unbound number to the account it was unbound
	// from and how.
	unbound map[string]unboundNumber
}

type unboundNumber struct{ account, how string }

// runStorageFlows drives the API through every flow that writes a number or
// a code, leaving the table as a day of real use would:
//
//   - alice binds (with Idempotency-Key, one wrong code first; a landline
//     refused on the way),
//     changes her number, then unbinds it by SMS;
//   - bob binds; mallory proves possession of bob's number too and is
//     refused (phone_taken); bob asks for an unbind code and, before using
//     it, support unbinds him;
//   - dave binds, asks to change to a new number and, before confirming,
//     support unbinds him;
//   - carol asks for a code, never enters it, and files a support ticket
//     with her number as the contact.
func (e *e2e) runStorageFlows() storageScenario {
	t := e.t
	t.Helper()
	run := time.Now().UnixNano()
	name := func(who string) string { return fmt.Sprintf("scan-%s-%d", who, run) }
	alice, bob, mallory, carol, dave := name("alice"), name("bob"), name("mallory"), name("carol"), name("dave")
	aliceFirst, aliceSecond, bobs, carols, daves, davesNext := uniqueNumber(), uniqueNumber(), uniqueNumber(), uniqueNumber(), uniqueNumber(), uniqueNumber()
	const landline = "+74951234567"
	sc := storageScenario{
		numbers:     []string{aliceFirst, aliceSecond, bobs, carols, daves, davesNext, landline},
		changedAway: aliceFirst,
		unbound: map[string]unboundNumber{
			aliceSecond: {alice, "unbound by SMS"},
			bobs:        {bob, "unbound by support, an unbind code pending"},
			daves:       {dave, "unbound by support, a change pending"},
		},
	}

	// Alice's bind goes with Idempotency-Key, so the idempotency records
	// (which see the number and the code in the bodies) are scanned too.
	r := e.call(alice, "POST", "/v1/phone/verification",
		fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, "+7 "+aliceFirst[2:5]+" "+aliceFirst[5:8]+"-"+aliceFirst[8:10]+"-"+aliceFirst[10:]),
		"Idempotency-Key", name("bind"))
	expect(t, r, 202, "")
	expect(t, e.confirm(alice, r.str("verification_id"), wrong(e.code(aliceFirst))), 422, "code_invalid")
	expect(t, e.call(alice, "POST", "/v1/phone/verification/confirm",
		fmt.Sprintf(`{"verification_id":%q,"code":%q}`, r.str("verification_id"), e.code(aliceFirst)),
		"Idempotency-Key", name("confirm")), 200, "")
	expect(t, e.requestCode(alice, "8 (495) 123-45-67"), 422, "invalid_phone")
	e.bind(dave, daves)

	// Changes, once the change cooldown has passed: alice's done, dave's
	// left pending.
	e.clock.Advance(31 * 24 * time.Hour)
	r = e.requestCode(alice, aliceSecond)
	expect(t, r, 202, "")
	expect(t, e.confirm(alice, r.str("verification_id"), e.code(aliceSecond)), 200, "")
	expect(t, e.requestCode(dave, davesNext), 202, "")

	e.clock.Advance(2 * time.Minute)
	r = e.requestUnbind(alice)
	expect(t, r, 202, "")
	expect(t, e.unbind(alice, r.str("verification_id"), e.code(aliceSecond)), 200, "")
	if st := e.status(alice); st.str("status") != "none" {
		t.Fatalf("alice after unbind: %s", st.raw)
	}

	e.bind(bob, bobs)
	r = e.requestCode(mallory, bobs)
	expect(t, r, 202, "")
	expect(t, e.confirm(mallory, r.str("verification_id"), e.code(bobs)), 409, "phone_taken")
	e.clock.Advance(2 * time.Minute)
	expect(t, e.requestUnbind(bob), 202, "")

	e.clock.Advance(time.Minute)
	for _, acc := range []string{bob, dave} {
		if out := e.supportUnbind(acc, "ivanova"); !strings.Contains(out, `"unbound":true`) {
			t.Fatalf("support unbind of %s: %s", acc, out)
		}
		if st := e.status(acc); st.str("status") != "none" {
			t.Fatalf("%s after support unbind: %s", acc, st.raw)
		}
	}

	expect(t, e.requestCode(carol, carols), 202, "")
	// Carol writes to support and leaves her number as the contact.
	expect(t, e.call(carol, "POST", "/v1/feedback",
		fmt.Sprintf(`{"category":"problem","message":"Код не приходит","contact":%q}`, "8"+carols[2:])), 201, "")

	sent := e.smsByNumber()
	for _, n := range sc.numbers {
		for _, msg := range sent[n] {
			sc.codes = append(sc.codes, codeRE.FindAllString(msg, -1)...)
		}
	}
	if len(sc.codes) < 9 {
		t.Fatalf("only %d codes were sent: %v", len(sc.codes), sc.codes)
	}
	return sc
}

// otherAccountsPendingBind reports whether the attribute at path is the
// destination of a pending bind by an account other than account.
func otherAccountsPendingBind(it map[string]types.AttributeValue, account, path string) bool {
	return scanStr(it["pk"]) != "ACCOUNT#"+account && scanStr(it["sk"]) == "VERIFICATION" &&
		scanStr(it["state"]) == "pending" && scanStr(it["purpose"]) == "bind" && path == "destination_ciphertext"
}

// scanRaw reads every item of the table with its attributes as stored.
func (e *e2e) scanRaw() []map[string]types.AttributeValue {
	e.t.Helper()
	var out []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: boolPtr(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

// scanWalk calls visit with every scalar in an item, however deep, as a
// string, and its path (attribute names, map keys, list indexes). Numbers
// are visited in their decimal form, binaries as raw bytes, and map keys
// as values too, since a key can hold data as well.
func scanWalk(item map[string]types.AttributeValue, visit func(path, value string)) {
	for name, v := range item {
		visit(name+" (name)", name)
		scanWalkValue(name, v, visit)
	}
}

func scanWalkValue(path string, v types.AttributeValue, visit func(path, value string)) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		visit(path, v.Value)
	case *types.AttributeValueMemberN:
		visit(path, v.Value)
	case *types.AttributeValueMemberB:
		visit(path, string(v.Value))
	case *types.AttributeValueMemberSS:
		for i, s := range v.Value {
			visit(path+"["+strconv.Itoa(i)+"]", s)
		}
	case *types.AttributeValueMemberNS:
		for i, s := range v.Value {
			visit(path+"["+strconv.Itoa(i)+"]", s)
		}
	case *types.AttributeValueMemberBS:
		for i, b := range v.Value {
			visit(path+"["+strconv.Itoa(i)+"]", string(b))
		}
	case *types.AttributeValueMemberL:
		for i, el := range v.Value {
			scanWalkValue(path+"["+strconv.Itoa(i)+"]", el, visit)
		}
	case *types.AttributeValueMemberM:
		for k, el := range v.Value {
			visit(path+"."+k+" (key)", k)
			scanWalkValue(path+"."+k, el, visit)
		}
	}
}

// scanNumberIn reports in which form value holds the E.164 number n: as typed
// with +7, 7 or 8 before the ten national digits, or the ten alone, with
// or without separators between them. It compares digits only, so
// "+7 (916) 123-45-67" and "8.916.123.45.67" are found too; a masked form
// shows at most five digits and is never found.
func scanNumberIn(value, n string) string {
	national := n[len(n)-10:]
	if !strings.Contains(scanDigits(value), national) {
		return ""
	}
	for _, form := range []string{n, n[1:], "8" + national, national} {
		if strings.Contains(value, form) {
			return form
		}
	}
	return "with separators"
}

func scanDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var scanDigitRunRE = regexp.MustCompile(`[0-9]+`)

// scanDigitRuns are the maximal runs of digits in s. A code is looked for as
// a whole run: any six digits inside a timestamp, an epoch or a random id
// would match by chance.
func scanDigitRuns(s string) map[string]bool {
	runs := map[string]bool{}
	for _, r := range scanDigitRunRE.FindAllString(s, -1) {
		runs[r] = true
	}
	return runs
}

// scanOpen opens a ciphertext attribute with the key id stored beside it
// (x_ciphertext next to x_key_id), or with any development key.
func scanOpen(keys *secure.Keyring, item map[string]types.AttributeValue, path, ciphertext string) (string, error) {
	ids := keys.KeyIDs()
	if id := scanStr(item[strings.Replace(path, "ciphertext", "key_id", 1)]); id != "" {
		ids = append([]string{id}, ids...)
	}
	var err error
	for _, id := range ids {
		var plain string
		if plain, err = keys.Open(id, ciphertext); err == nil {
			return plain, nil
		}
	}
	return "", err
}

// scanItemName names an item for a failure message: its keys, and its type
// and state when it has them.
func scanItemName(it map[string]types.AttributeValue) string {
	name := fmt.Sprintf("item pk=%s sk=%s", scanStr(it["pk"]), scanStr(it["sk"]))
	for _, a := range []string{"type", "purpose", "state", "reason"} {
		if v := scanStr(it[a]); v != "" {
			name += " " + a + "=" + v
		}
	}
	return name
}

// scanStr is a string attribute's value, or "".
func scanStr(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// TestStorageScanFindsWhatItLooksFor keeps the scan honest without an
// emulator: planted numbers and codes, however deep and in whatever form,
// are found, and what the table legitimately holds is not.
func TestStorageScanFindsWhatItLooksFor(t *testing.T) {
	const n, code = "+79161234567", "482913"
	item := map[string]types.AttributeValue{
		"pk":    &types.AttributeValueMemberS{Value: "ACCOUNT#a"},
		"plain": &types.AttributeValueMemberS{Value: "to 8 (916) 123-45-67"},
		"deep": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberN{Value: "79161234567"},
				&types.AttributeValueMemberSS{Value: []string{"x", "code " + code + "."}},
			}},
			"9161234567": &types.AttributeValueMemberNULL{Value: true},
		}},
		"bin": &types.AttributeValueMemberB{Value: []byte("+7 916 123 45 67")},
		// Legitimate: a masked form, times, an epoch, an HMAC.
		"phone_masked": &types.AttributeValueMemberS{Value: "+7 916 ***-**-67"},
		"at":           &types.AttributeValueMemberS{Value: "2026-11-23T12:48:29.000Z"},
		"ttl":          &types.AttributeValueMemberN{Value: "1795438819"},
		"hmac":         &types.AttributeValueMemberS{Value: "69dc6ef6a4285d92f08a7de9395f3c5a389e154fcbba381ac730d60678b7bceb"},
		"nearly":       &types.AttributeValueMemberS{Value: "1482913"},
	}
	found := map[string]string{}
	scanWalk(item, func(path, value string) {
		if form := scanNumberIn(value, n); form != "" {
			found[path] = form
		}
		if scanDigitRuns(value)[code] {
			found[path] = "code"
		}
	})
	want := map[string]string{
		"plain":                 "with separators",
		"deep.list[0]":          "79161234567",
		"deep.list[1][1]":       "code",
		"deep.9161234567 (key)": "9161234567",
		"bin":                   "with separators",
	}
	for path, form := range want {
		if found[path] != form {
			t.Errorf("%s: found %q, want %q", path, found[path], form)
		}
	}
	for path, form := range found {
		if _, ok := want[path]; !ok {
			t.Errorf("%s: found %q where nothing is", path, form)
		}
	}
}
