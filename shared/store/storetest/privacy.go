package storetest

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/idempotency"
	"github.com/gosuslugi/phonebind/shared/privacy"
)

// Stores are the ports over one table (or one set of in-memory stores)
// that the privacy contract fills through and then reads and erases.
type Stores struct {
	Binding     binding.Store
	Tickets     feedback.Store
	Idempotency idempotency.Store
	Privacy     privacy.Store
	Probe       Probe
}

// RunPrivacy runs the privacy.Store contract (SPEC §4.9) against fresh
// stores made by newStores.
func RunPrivacy(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"HeldReadsEverything", privacyHeldReadsEverything},
		{"EraseLeavesNothing", privacyEraseLeavesNothing},
		{"EraseSparesAnotherAccountsClaim", privacyEraseSparesAnotherAccountsClaim},
		{"EraseRacesTicketAnswer", privacyEraseRacesTicketAnswer},
		{"ReadAfterEraseWritesNothing", privacyReadAfterEraseWritesNothing},
		{"EraseRacesFirstBind", privacyEraseRacesFirstBind},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStores(t)) })
	}
}

// Populate gives a fresh account everything a citizen can leave behind (a
// bind and a change, settings and a long history, a pending request,
// tickets, a stored idempotent answer) and returns its id, for tests of
// an adapter beyond the contract (an erasure rerun after a fault).
func Populate(t *testing.T, s Stores, name string) (accountID string, numbers []binding.SealedPhone) {
	t.Helper()
	n := seq.Add(1)
	p := populate(t, s, name, fmt.Sprintf("+7912%07d", 1000000+n), fmt.Sprintf("+7913%07d", 1000000+n))
	return p.account, []binding.SealedPhone{p.first, p.current}
}

// Settings changes a populated account has beyond its bind and change:
// more history than status shows (20).
const extraEntries = 20

// populated is what populate wrote for an account.
type populated struct {
	account  string
	first    binding.SealedPhone // bound, then changed away from
	current  binding.SealedPhone
	tickets  []feedback.Ticket // newest first; the first is answered
	idemKey  idempotency.Record
	pendingV string
	request  string // the partner's access request
}

func phoneDay(hmac string, at time.Time) binding.Counter {
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	return binding.Counter{Name: binding.LimitPhoneDay, Subject: hmac, WindowStart: day, Period: 24 * time.Hour, Max: 10}
}

// populate gives an account everything a citizen can leave behind: a bind
// and a change (codes counted on both numbers), settings and a long
// history, a pending unbind request, two tickets (one with a contact, one
// answered) and a stored idempotent answer.
func populate(t *testing.T, s Stores, name, n1, n2 string) populated {
	t.Helper()
	a := account(name)
	p := populated{account: a, first: sealed(n1), current: sealed(n2)}
	bs := subject{s.Binding, s.Probe}
	v1 := verification(a, "v1-"+a, p.first, 0, binding.SealedPhone{})
	start(t, bs, v1, base, phoneDay(p.first.HMAC, base))
	if err := s.Binding.CompleteBind(ctx, completion(v1, base)); err != nil {
		t.Fatalf("bind: %v", err)
	}
	at := base.Add(2 * time.Minute)
	v2 := verification(a, "v2-"+a, p.current, 1, p.first)
	v2.CreatedAt, v2.ExpiresAt, v2.ResendAfter = at, at.Add(5*time.Minute), at.Add(time.Minute)
	start(t, bs, v2, at, phoneDay(p.current.HMAC, at))
	if err := s.Binding.CompleteBind(ctx, completion(v2, at)); err != nil {
		t.Fatalf("change: %v", err)
	}
	for i := range extraEntries {
		at := base.Add(3*time.Minute + time.Duration(i)*time.Second)
		mode := binding.DisplayNational
		if err := s.Binding.ChangeSettings(ctx, settingsChange(a, fmt.Sprintf("s%d", i), at, binding.SettingsPatch{DisplayFormat: &mode, SMSNotices: ptr(i%2 == 0)})); err != nil {
			t.Fatalf("settings: %v", err)
		}
	}
	at = base.Add(5 * time.Minute)
	v3 := verification(a, "v3-"+a, p.current, 2, binding.SealedPhone{})
	v3.Purpose, v3.Channel, v3.SentTo = binding.PurposeUnbind, binding.ChannelEmail, "i***@example.ru"
	v3.CreatedAt, v3.ExpiresAt, v3.ResendAfter = at, at.Add(5*time.Minute), at.Add(time.Minute)
	start(t, bs, v3, at)
	p.pendingV = v3.ID

	// A partner asked (a refusal that made a request), then a portal
	// service was refused: two reads in the access log, one request.
	p.request = "req-" + a
	at = base.Add(6 * time.Minute)
	if created, err := s.Binding.LogRefusal(ctx, binding.Refusal{AccountID: a,
		Entry: logEntry("ask-"+a, at, "partner.bank", binding.ReadApprovalRequired), NewRequest: pendingRequest(a, p.request, "partner.bank", at)}); err != nil || !created {
		t.Fatalf("partner's request: %v, %v", created, err)
	}
	if _, err := s.Binding.LogRefusal(ctx, binding.Refusal{AccountID: a,
		Entry: logEntry("deny-"+a, at.Add(time.Second), "portal.forms", binding.ReadNotAllowed)}); err != nil {
		t.Fatalf("refused read: %v", err)
	}

	older := newTicket(t, a, base.Add(time.Minute))
	older.Contact = feedback.Contact{Kind: feedback.ContactPhone, HMAC: p.current.HMAC, KeyID: "k1", Ciphertext: "ct-contact-" + n2, Masked: p.current.Masked}
	create(t, s.Tickets, older)
	newer := create(t, s.Tickets, newTicket(t, a, base.Add(4*time.Minute)))
	answered, err := s.Tickets.UpdateTicket(ctx, feedback.StatusChange{Ticket: newer, To: feedback.StatusAnswered, Answer: "Ответ для " + n2, Operator: "ivanova", Now: base.Add(6 * time.Minute)})
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	p.tickets = []feedback.Ticket{answered, older}

	p.idemKey = idemRecord(a, "tok-"+a, base)
	if _, err := s.Idempotency.Claim(ctx, p.idemKey, base); err != nil {
		t.Fatalf("idempotency claim: %v", err)
	}
	if err := s.Idempotency.Finish(ctx, p.idemKey, idempotency.Response{Status: 202, Body: `{"destination":"` + p.current.Masked + `"}`}); err != nil {
		t.Fatalf("idempotency finish: %v", err)
	}
	return p
}

func held(t *testing.T, s Stores, accountID string) privacy.Held {
	t.Helper()
	h, err := s.Privacy.Held(ctx, accountID)
	if err != nil {
		t.Fatalf("held: %v", err)
	}
	return h
}

// Held reads the whole account: every history entry (more than status's
// 20), the pending request, every ticket, the settings as stored.
func privacyHeldReadsEverything(t *testing.T, s Stores) {
	p := populate(t, s, "report", "+79120000101", "+79120000102")
	h := held(t, s, p.account)
	if h.Profile.Phone != p.current || h.Profile.Version != 2 || h.Profile.Consent.Version != "2026-01" {
		t.Fatalf("profile = %+v", h.Profile)
	}
	if h.Settings.DisplayFormat == nil || *h.Settings.DisplayFormat != binding.DisplayNational || h.Settings.SMSNotices == nil || *h.Settings.SMSNotices {
		t.Fatalf("settings = %+v", h.Settings)
	}
	if h.Verification == nil || h.Verification.ID != p.pendingV || h.Verification.Purpose != binding.PurposeUnbind {
		t.Fatalf("verification = %+v", h.Verification)
	}
	if len(h.History) != 2+extraEntries {
		t.Fatalf("history has %d entries, want %d", len(h.History), 2+extraEntries)
	}
	last, first := h.History[len(h.History)-1], h.History[len(h.History)-2]
	if last.Event != binding.EventBound || first.Event != binding.EventChanged || h.History[0].Event != binding.EventSettingsChanged {
		t.Fatalf("history not newest first: %+v … %+v, %+v", h.History[0], first, last)
	}
	if len(h.Tickets) != 2 || h.Tickets[0].ID != p.tickets[0].ID || h.Tickets[0].Answer == "" || h.Tickets[1].Contact.IsZero() {
		t.Fatalf("tickets = %+v", h.Tickets)
	}
	if len(h.AccessLog) != 2 || h.AccessLog[0].ID != "deny-"+p.account || h.AccessLog[1].ID != "ask-"+p.account {
		t.Fatalf("access log not both reads, newest first: %+v", h.AccessLog)
	}
	if len(h.AccessRequests) != 1 || h.AccessRequests[0].ID != p.request || h.AccessRequests[0].State != binding.AccessPending {
		t.Fatalf("access requests = %+v", h.AccessRequests)
	}
	if empty := held(t, s, account("nobody")); empty.Profile.Bound() || empty.Verification != nil || len(empty.History) != 0 || len(empty.Tickets) != 0 {
		t.Fatalf("unknown account = %+v", empty)
	}
}

// An erasure deletes the account's items, releases its claim, drops the
// counters of its numbers and its idempotency records, keeps its tickets
// stripped under an owner that is not the account, and leaves a neighbour
// as it was. A second erasure finds nothing left.
func privacyEraseLeavesNothing(t *testing.T, s Stores) {
	p := populate(t, s, "erase", "+79120000201", "+79120000202")
	n := populate(t, s, "neighbour", "+79120000301", "+79120000302")
	before := held(t, s, n.account)

	got, err := s.Privacy.Erase(ctx, p.account, base.Add(time.Hour))
	if err != nil {
		t.Fatalf("erase: %v", err)
	}
	want := privacy.Erased{Profile: 1, Verification: 1, Settings: 1, History: 2 + extraEntries, Claims: 1, Counters: 3, Idempotency: 1, Tickets: 2}
	want.Other = map[string]int{"access_log": 2, "access_request": 1}
	if got.Total() != want.Total() || !maps.Equal(got.Other, want.Other) ||
		got.Profile != want.Profile || got.Verification != want.Verification || got.Settings != want.Settings || got.History != want.History ||
		got.Claims != want.Claims || got.Counters != want.Counters || got.Idempotency != want.Idempotency || got.Tickets != want.Tickets {
		t.Fatalf("erased = %+v, want %+v", got, want)
	}

	h := held(t, s, p.account)
	if h.Profile.Bound() || h.Profile.Version != 0 || h.Verification != nil || len(h.History) != 0 || len(h.Tickets) != 0 ||
		h.Settings != (binding.SettingsPatch{}) || len(h.AccessLog) != 0 || len(h.AccessRequests) != 0 {
		t.Fatalf("after erasure: %+v", h)
	}
	bs := subject{s.Binding, s.Probe}
	for _, n := range []binding.SealedPhone{p.first, p.current} {
		if o := owner(t, bs, n.HMAC); o != "" {
			t.Fatalf("claim of %s still held by %q", n.Masked, o)
		}
	}
	for _, tk := range p.tickets {
		if _, err := s.Tickets.Ticket(ctx, p.account, tk.ID); !errors.Is(err, feedback.ErrTicketNotFound) {
			t.Fatalf("the author still reads ticket %s: %v", tk.ID, err)
		}
		kept, err := s.Tickets.TicketByID(ctx, tk.ID)
		if err != nil {
			t.Fatalf("operators lost ticket %s: %v", tk.ID, err)
		}
		if !strings.HasPrefix(kept.AccountID, privacy.ErasedOwnerPrefix) || strings.Contains(kept.AccountID, p.account) ||
			kept.Message != "" || !kept.Contact.IsZero() || kept.Answer != "" ||
			kept.Status != tk.Status || kept.AnsweredBy != tk.AnsweredBy || !kept.CreatedAt.Equal(tk.CreatedAt) {
			t.Fatalf("kept ticket = %+v (was %+v)", kept, tk)
		}
	}
	if page, _, err := s.Tickets.Tickets(ctx, p.account, nil, 10); err != nil || len(page) != 0 {
		t.Fatalf("the author's list after erasure: %+v, %v", page, err)
	}
	// The stored answer is gone: the same key is claimed afresh.
	again := p.idemKey
	again.Token = "tok-after"
	if old, err := s.Idempotency.Claim(ctx, again, base.Add(time.Hour)); err != nil || old != nil {
		t.Fatalf("idempotency key after erasure: %+v, %v", old, err)
	}
	// The numbers' counters are gone: a ceiling of one code lets one more in.
	for i, n := range []binding.SealedPhone{p.first, p.current} {
		c := phoneDay(n.HMAC, base)
		c.Max = 1
		v := verification(account("after"), fmt.Sprintf("after-%d", i), n, 0, binding.SealedPhone{})
		if err := s.Binding.StartVerification(ctx, binding.Start{Verification: v, Counters: []binding.Counter{c}, Now: base}); err != nil {
			t.Fatalf("the counter of %s survived: %v", n.Masked, err)
		}
	}
	// The ticket counter is gone: a ceiling of one ticket lets one in.
	if err := s.Tickets.CreateTicket(ctx, feedback.Creation{Ticket: newTicket(t, p.account, base.Add(time.Hour)), Limit: dayLimit(base, 1)}); err != nil {
		t.Fatalf("the ticket counter survived: %v", err)
	}

	after := held(t, s, n.account)
	if after.Profile != before.Profile || len(after.History) != len(before.History) || len(after.Tickets) != 2 ||
		after.Tickets[0].Answer == "" || after.Verification == nil || owner(t, bs, n.current.HMAC) != n.account {
		t.Fatalf("neighbour changed: %+v", after)
	}

	// The ticket and the idempotency key taken just now make three more;
	// then nothing is left.
	if got, err := s.Privacy.Erase(ctx, p.account, base.Add(2*time.Hour)); err != nil || got.Tickets != 1 || got.Counters != 1 || got.Idempotency != 1 || got.Total() != 3 {
		t.Fatalf("second erasure = %+v, %v", got, err)
	}
	if got, err := s.Privacy.Erase(ctx, p.account, base.Add(3*time.Hour)); err != nil || got.Total() != 0 {
		t.Fatalf("third erasure = %+v, %v; want nothing left", got, err)
	}
}

// A number the account held before and another account holds now keeps
// its claim.
func privacyEraseSparesAnotherAccountsClaim(t *testing.T, s Stores) {
	bs := subject{s.Binding, s.Probe}
	a, b := account("was"), account("now")
	x := sealed("+79120000401")
	v := verification(a, "va-"+a, x, 0, binding.SealedPhone{})
	start(t, bs, v, base)
	if err := s.Binding.CompleteBind(ctx, completion(v, base)); err != nil {
		t.Fatal(err)
	}
	p := snapshot(t, bs, a, 0).Profile
	at := base.Add(time.Minute)
	if err := s.Binding.CompleteUnbind(ctx, binding.Unbinding{Profile: p, Now: at,
		History: binding.HistoryEntry{At: at, Event: binding.EventSupportUnbound, Actor: "support:o", Channel: binding.ChannelSupport}}); err != nil {
		t.Fatal(err)
	}
	vb := verification(b, "vb-"+b, x, 0, binding.SealedPhone{})
	start(t, bs, vb, at)
	if err := s.Binding.CompleteBind(ctx, completion(vb, at)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Privacy.Erase(ctx, a, at.Add(time.Minute))
	if err != nil || got.Claims != 0 || got.Profile != 1 {
		t.Fatalf("erase = %+v, %v", got, err)
	}
	if o := owner(t, bs, x.HMAC); o != b {
		t.Fatalf("claim owner = %q, want %q", o, b)
	}
}

// An operator answering a ticket while its author is erased: whichever
// lands first, the ticket ends stripped, never with the answer or the
// message, and under no account.
func privacyEraseRacesTicketAnswer(t *testing.T, s Stores) {
	for i := range 4 {
		a := account("race")
		tk := create(t, s.Tickets, newTicket(t, a, base.Add(time.Duration(i)*time.Second)))
		var wg sync.WaitGroup
		var eraseErr, answerErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, eraseErr = s.Privacy.Erase(ctx, a, base.Add(time.Hour))
		}()
		go func() {
			defer wg.Done()
			_, answerErr = s.Tickets.UpdateTicket(ctx, feedback.StatusChange{Ticket: tk, To: feedback.StatusAnswered, Answer: "секретный ответ", Operator: "o", Now: base.Add(time.Minute)})
		}()
		wg.Wait()
		if eraseErr != nil {
			t.Fatalf("erase: %v", eraseErr)
		}
		if answerErr != nil && !errors.Is(answerErr, feedback.ErrStale) && !errors.Is(answerErr, feedback.ErrTicketNotFound) {
			t.Fatalf("answer: %v", answerErr)
		}
		kept, err := s.Tickets.TicketByID(ctx, tk.ID)
		if err != nil || kept.Answer != "" || kept.Message != "" || !strings.HasPrefix(kept.AccountID, privacy.ErasedOwnerPrefix) {
			t.Fatalf("after the race: %+v, %v (answer error %v)", kept, err, answerErr)
		}
	}
}
