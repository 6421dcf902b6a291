package httpapi

import (
	"encoding/json"
	"net/mail"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// The hand-written paths (bodies read without reflection, views written
// without it, plain e-mail addresses taken as they are) are held here to
// what encoding/json and net/mail make of the same input.

var plainBodySeeds = []string{
	`{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`, `{"purpose":"unbind","channel":"sms"}`,
	`{"verification_id":"v-1","code":" 123456 "}`, ` {"code":null,"verification_id":"\u0076"} ` + "\n\t",
	`null`, `{}`, ``, ` `, `[]`, `"x"`, `{"purpose":"bind"} {}`, `{"purpose":"bind"}x`, `{"purpose":"bind",}`,
	`{"Purpose":"bind"}`, `{"purpose":"bind","purpose":"unbind"}`, `{"purpose":1}`, `{"consent":"true"}`, `{"consent":null}`,
	`{"consent":false,"channel":"email","phone":null}`, `{"admin":true}`, `{"code":"\ud800\udc00\ud800"}`, "{\"code\":\"\xff\"}",
	`{"code":"` + "\x01" + `"}`, `{"code":"\q"}`, `{"code":"1"` + strings.Repeat(" ", maxBodyBytes) + `}`,
}

func FuzzPlainBody(f *testing.F) {
	for _, s := range plainBodySeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		req := events.APIGatewayV2HTTPRequest{Body: body, IsBase64Encoded: b64}
		var fast, slow codeRequestBody
		checkSameDecode(t, body, decodeBody(req, &fast), decodeJSON(req, &slow),
			[]any{fast.Purpose, fast.Phone, fast.Consent, fast.Channel}, []any{slow.Purpose, slow.Phone, slow.Consent, slow.Channel})
		var fastC, slowC confirmBody
		checkSameDecode(t, body, decodeBody(req, &fastC), decodeJSON(req, &slowC),
			[]any{fastC.VerificationID, fastC.Code}, []any{slowC.VerificationID, slowC.Code})
	})
}

func checkSameDecode(t *testing.T, body string, fastErr, slowErr error, fast, slow []any) {
	t.Helper()
	if (fastErr == nil) != (slowErr == nil) || fastErr != nil && fastErr.Error() != slowErr.Error() {
		t.Fatalf("%q: error %v, encoding/json's %v", body, fastErr, slowErr)
	}
	if fastErr == nil && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: read %s, encoding/json read %s", body, show(fast), show(slow))
	}
}

func show(v []any) string { b, _ := json.Marshal(v); return string(b) }

func TestPlainBodySeeds(t *testing.T) {
	for _, s := range plainBodySeeds {
		for _, b64 := range []bool{false, true} {
			req := events.APIGatewayV2HTTPRequest{Body: s, IsBase64Encoded: b64}
			var fast, slow codeRequestBody
			checkSameDecode(t, s, decodeBody(req, &fast), decodeJSON(req, &slow),
				[]any{fast.Purpose, fast.Phone, fast.Consent, fast.Channel}, []any{slow.Purpose, slow.Phone, slow.Consent, slow.Channel})
			var fastC, slowC confirmBody
			checkSameDecode(t, s, decodeBody(req, &fastC), decodeJSON(req, &slowC),
				[]any{fastC.VerificationID, fastC.Code}, []any{slowC.VerificationID, slowC.Code})
		}
	}
	// The plain path is the one taken for what clients send.
	req := events.APIGatewayV2HTTPRequest{Body: `{"purpose":"bind","phone":"+79123456789","consent":true}`}
	if n := testing.AllocsPerRun(100, func() {
		var b codeRequestBody
		if err := decodeBody(req, &b); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Fatalf("decodeBody: %v allocations, want at most 1 (the body)", n)
	}
}

var viewTimes = []time.Time{
	{}, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 9, 0, 0, 999999999, time.FixedZone("MSK", 3*3600)),
	time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
}

// FuzzViewsMatchEncodingJSON holds each view's appendJSON to json.Marshal,
// and stamps to timestamp (what the views held before).
func FuzzViewsMatchEncodingJSON(f *testing.F) {
	f.Add("verified", "+7 912 ***-**-89", "v-1", "<b>&amp;</b>", "\u2028\xff\"\\\n", uint8(0), uint8(1), 3, uint8(5))
	f.Add("", "", "", "", "", uint8(7), uint8(0), -1, uint8(0))
	f.Fuzz(func(t *testing.T, state, phone, id, s1, s2 string, t1, t2 uint8, n int, hist uint8) {
		tm := func(i uint8) time.Time { return viewTimes[int(i)%len(viewTimes)] }
		for _, tt := range []time.Time{tm(t1), tm(t2)} {
			text, _ := stamp(tt).MarshalText()
			if string(text) != timestamp(tt) {
				t.Fatalf("stamp %v = %q, timestamp %q", tt, text, timestamp(tt))
			}
		}
		st := binding.Status{State: binding.State(state), Phone: phone, VerifiedAt: tm(t1), ChangeAllowedAfter: tm(t2)}
		if hist%2 == 1 {
			st.Consent = &binding.Consent{Version: s1, GivenAt: tm(t2)}
		}
		if hist%3 != 0 {
			st.Request = &binding.RequestView{VerificationID: id, Purpose: binding.Purpose(s1), State: binding.RequestState(s2),
				Reason: s2, Destination: phone, ExpiresAt: tm(t1), ResendAfter: tm(t2), AttemptsLeft: n}
		}
		for i := range int(hist % 12) {
			st.History = append(st.History, binding.HistoryEntry{At: tm(t1 + uint8(i)), Event: s1, Phone: phone, Actor: s2,
				Channel: binding.Channel(state), SourceIP: id})
		}
		for _, l := range []lang{langRU, langEN} {
			v := statusViewOf(st, l, new(viewParts))
			matchJSON(t, &v, v.appendJSON)
			v.History = nil
			matchJSON(t, &v, v.appendJSON)
		}
		sent := codeSentView{VerificationID: id, Purpose: s1, Channel: s2, Destination: phone, ExpiresAt: stamp(tm(t1)), ResendAfter: stamp(tm(t2)), AttemptsLeft: n}
		matchJSON(t, &sent, sent.appendJSON)
		p := problemBody{Type: s1, Title: s2, Status: n, Detail: phone, Code: id, Field: s1, Reason: s2, RetryAfter: n - 1, Limit: state, ChangeAllowedAfter: timestamp(tm(t1))}
		if hist%2 == 0 {
			p.AttemptsLeft = &n
		}
		matchJSON(t, &p, p.appendJSON)
		matchJSON(t, &problemBody{}, (&problemBody{}).appendJSON)
	})
}

func matchJSON(t *testing.T, v any, appendJSON func([]byte) []byte) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendJSON(nil); string(got) != string(want) {
		t.Fatalf("%T:\n got %s\nwant %s", v, got, want)
	}
}

func FuzzPlainAddress(f *testing.F) {
	for _, s := range []string{"alice@example.org", "ivan.petrov@example.ru", "Alice <a@b.ru>", "a@b", "a.@b.ru", ".a@b.ru",
		"a..b@c.ru", "a@b..ru", "a@[1.2.3.4]", "a+tag@b.ru", "a_b-c@d-e.ru", `"q"@b.ru`, " a@b.ru ", "a@b.ru (c)", "a@b@c",
		"@b.ru", "a@", "ы@b.ru", "a@-b.ru", "-@-", "a@b.ru\x00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainAddress(s) {
			return
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || a.Address != s {
			t.Fatalf("plainAddress(%q), but mail.ParseAddress gives %+v, %v", s, a, err)
		}
	})
}

// referencePreferredLang is preferredLang as it was before it stopped
// copying the header's pieces.
func referencePreferredLang(header string) lang {
	const unset = -1.0
	ru, en, wildcard := unset, unset, unset
	ruPos, enPos := -1, -1
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q, ok := quality(params)
		if !ok || tag == "" {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		switch {
		case tag == "*":
			wildcard = max(wildcard, q)
		case primary == "ru":
			if q > ru {
				ru, ruPos = q, i
			}
		case primary == "en":
			if q > en {
				en, enPos = q, i
			}
		}
	}
	if ru == unset {
		ru = wildcard
	}
	if en == unset {
		en = wildcard
	}
	switch {
	case en <= 0:
		return langRU
	case en > ru:
		return langEN
	case en == ru && enPos >= 0 && (ruPos < 0 || enPos < ruPos):
		return langEN
	default:
		return langRU
	}
}

func FuzzPreferredLang(f *testing.F) {
	for _, s := range []string{"", "ru", "EN", "en-US,en;q=0.9", "ru;q=0.5, En-gb;q=0.6", "*;q=0.5", "en;q=abc", ",,,",
		"fr, en;q=0.1", " en ; q = 0.7 , ru;q=0.7", "ÉN", "\u212aen", "eN-\u0130", "r\u0075"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if got, want := preferredLang(header), referencePreferredLang(header); got != want {
			t.Fatalf("preferredLang(%q) = %v, was %v", header, got, want)
		}
	})
}
