package feedback_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
)

var ctx = context.Background()

type published struct {
	name  string
	event feedback.Event
}

// events records what was published and can be told to fail.
type events struct {
	mu   sync.Mutex
	got  []published
	fail error
}

func (e *events) Publish(_ context.Context, name string, ev any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail != nil {
		return e.fail
	}
	e.got = append(e.got, published{name, ev.(feedback.Event)})
	return nil
}

type fixture struct {
	svc    *feedback.Service
	store  *store.FeedbackMemory
	clock  *testenv.Clock
	events *events
	logs   *bytes.Buffer
}

func newFixture(t *testing.T, wrap func(feedback.Store) feedback.Store) *fixture {
	t.Helper()
	f := &fixture{
		store:  store.NewFeedbackMemory(),
		clock:  testenv.NewClock(time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.UTC)),
		events: &events{},
		logs:   &bytes.Buffer{},
	}
	var st feedback.Store = f.store
	if wrap != nil {
		st = wrap(st)
	}
	f.svc = feedback.New(feedback.Config{}, st, secure.DevKeyring(), f.events, f.clock.Now,
		slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return f
}

func (f *fixture) file(t *testing.T, accountID string) feedback.Ticket {
	t.Helper()
	tk, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: accountID, Category: feedback.CategoryProblem, Message: "Не приходит SMS"})
	if err != nil {
		t.Fatalf("file a ticket: %v", err)
	}
	return tk
}

var parser = phone.NewParser([]string{"RU"})

func contact(t *testing.T, raw string) feedback.ContactInput {
	t.Helper()
	c, err := feedback.ParseContact(raw, parser)
	if err != nil {
		t.Fatalf("contact %q: %v", raw, err)
	}
	return c
}

func TestCreate(t *testing.T) {
	f := newFixture(t, nil)
	tk, err := f.svc.Create(ctx, feedback.NewTicket{
		AccountID: "alice", Category: feedback.CategoryQuestion,
		Message: "  \n Как сменить номер?\t ", Contact: contact(t, "+7 912 345-67-89"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := feedback.NormalizeTicketID(tk.ID); !ok || !strings.HasPrefix(tk.ID, "FB-") || len(tk.ID) != 11 {
		t.Fatalf("ticket id %q", tk.ID)
	}
	if strings.ContainsAny(tk.ID[3:], "01OIL") {
		t.Fatalf("ticket id %q has an ambiguous character", tk.ID)
	}
	now := f.clock.Now().Truncate(time.Millisecond)
	if tk.Message != "Как сменить номер?" || tk.Status != feedback.StatusNew || !tk.CreatedAt.Equal(now) || !tk.UpdatedAt.Equal(now) ||
		tk.Category != feedback.CategoryQuestion || tk.AccountID != "alice" || tk.Answer != "" {
		t.Fatalf("ticket = %+v", tk)
	}
	c := tk.Contact
	keys := secure.DevKeyring()
	if c.Kind != feedback.ContactPhone || c.Masked != "+7 912 ***-**-89" || c.HMAC != keys.PhoneMAC("+79123456789") || c.KeyID == "" {
		t.Fatalf("contact = %+v", c)
	}
	if plain, err := keys.Open(c.KeyID, c.Ciphertext); err != nil || plain != "+79123456789" {
		t.Fatalf("sealed contact opens to %q, %v", plain, err)
	}
	got, err := f.svc.Get(ctx, "alice", tk.ID)
	if err != nil || got.Message != tk.Message || got.Contact != c {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if len(f.events.got) != 1 {
		t.Fatalf("%d events, want 1", len(f.events.got))
	}
	ev := f.events.got[0]
	if ev.name != feedback.EventCreated || ev.event.Event != feedback.EventCreated || ev.event.TicketID != tk.ID || ev.event.AccountID != "alice" ||
		ev.event.Category != "question" || ev.event.Status != "new" || ev.event.PreviousStatus != "" || ev.event.EventID == "" ||
		ev.event.At != "2026-11-23T09:30:00.123Z" {
		t.Fatalf("event = %+v", ev)
	}

	mail, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: "alice", Category: feedback.CategorySuggestion,
		Message: "Сделайте тёмную тему", Contact: contact(t, " Ivan.Petrov@почта.рф ")})
	if err != nil {
		t.Fatal(err)
	}
	if mail.Contact.Kind != feedback.ContactEmail || mail.Contact.Masked != "I***@почта.рф" || mail.Contact.HMAC != "" {
		t.Fatalf("e-mail contact = %+v", mail.Contact)
	}
	if plain, _ := keys.Open(mail.Contact.KeyID, mail.Contact.Ciphertext); plain != "Ivan.Petrov@почта.рф" {
		t.Fatalf("sealed e-mail opens to %q", plain)
	}
	if none := f.file(t, "alice"); !none.Contact.IsZero() {
		t.Fatalf("no contact given, stored %+v", none.Contact)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	cyrillic := strings.Repeat("ж", feedback.MaxMessageChars)
	tests := []struct {
		name     string
		category feedback.Category
		message  string
		field    string
		reason   string
	}{
		{"no category", "", "текст", "category", feedback.ReasonUnsupported},
		{"unknown category", "complaint", "текст", "category", feedback.ReasonUnsupported},
		{"category in capitals", "Question", "текст", "category", feedback.ReasonUnsupported},
		{"no message", feedback.CategoryProblem, "", "message", feedback.ReasonRequired},
		{"blank message", feedback.CategoryProblem, " \n\t\u00a0 ", "message", feedback.ReasonRequired},
		{"4001 Cyrillic characters", feedback.CategoryProblem, cyrillic + "ы", "message", feedback.ReasonTooLong},
		{"4001 emoji", feedback.CategoryProblem, strings.Repeat("🙂", feedback.MaxMessageChars+1), "message", feedback.ReasonTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			_, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: "alice", Category: tt.category, Message: tt.message})
			var fe *feedback.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Reason != tt.reason {
				t.Fatalf("err = %v, want %s %s", err, tt.field, tt.reason)
			}
			if tt.reason == feedback.ReasonTooLong && fe.Max != feedback.MaxMessageChars {
				t.Fatalf("max = %d", fe.Max)
			}
			if page, _ := f.svc.List(ctx, "alice", "", 0); len(page.Tickets) != 0 || len(f.events.got) != 0 {
				t.Fatal("a refused ticket left something behind")
			}
		})
	}
	// Exactly 4000 characters, counted as characters: 8000 bytes of
	// Cyrillic, spaces around them trimmed.
	f := newFixture(t, nil)
	tk, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: "alice", Category: feedback.CategoryProblem, Message: "  " + cyrillic + "\n"})
	if err != nil || tk.Message != cyrillic {
		t.Fatalf("4000 Cyrillic characters: %v", err)
	}
}

func TestParseContact(t *testing.T) {
	ok := []struct{ raw, kind, masked string }{
		{"", "", ""},
		{"   ", "", ""},
		{"8 (912) 345-67-89", "phone", "+7 912 ***-**-89"},
		{"+79123456789", "phone", "+7 912 ***-**-89"},
		{"ivan@example.ru", "email", "i***@example.ru"},
		{"ivan.petrov+support@mail.example.com", "email", "i***@mail.example.com"},
		{"пётр@почта.рф", "email", "п***@почта.рф"},
		{"a@xn--80a1acny.xn--p1ai", "email", "a***@xn--80a1acny.xn--p1ai"},
	}
	for _, c := range ok {
		got, err := feedback.ParseContact(c.raw, parser)
		if err != nil {
			t.Errorf("%q: %v", c.raw, err)
			continue
		}
		switch c.kind {
		case "":
			if !got.IsZero() {
				t.Errorf("%q: %+v, want none", c.raw, got)
			}
		case "phone":
			if got.Phone.Masked() != c.masked {
				t.Errorf("%q: %+v", c.raw, got)
			}
		case "email":
			if got.Email.Masked() != c.masked {
				t.Errorf("%q: masked %q, want %q", c.raw, got.Email.Masked(), c.masked)
			}
		}
	}
	bad := []struct{ raw, reason string }{
		{"ivan@", feedback.ContactInvalidEmail},
		{"@example.ru", feedback.ContactInvalidEmail},
		{"ivan@example", feedback.ContactInvalidEmail},
		{"ivan@@example.ru", feedback.ContactInvalidEmail},
		{"ivan@exa mple.ru", feedback.ContactInvalidEmail},
		{"Ivan <ivan@example.ru>", feedback.ContactInvalidEmail},
		{"ivan@-example.ru", feedback.ContactInvalidEmail},
		{"ivan@example.r", feedback.ContactInvalidEmail},
		{"ivan@example.123", feedback.ContactInvalidEmail},
		{"ivan@example..ru", feedback.ContactInvalidEmail},
		{"iv an@example.ru", feedback.ContactInvalidEmail},
		{strings.Repeat("a", 65) + "@example.ru", feedback.ContactInvalidEmail},
		{"a@" + strings.Repeat("b", 250) + ".ru", feedback.ContactInvalidEmail},
		{"telegram: ivan", string(phone.ReasonInvalidCharacters)},
		{"+7 912 345", string(phone.ReasonInvalidLength)},
		{"+7 495 123-45-67", string(phone.ReasonNotMobile)},
		{"+44 7400 123456", string(phone.ReasonRegionNotAllowed)},
	}
	for _, c := range bad {
		_, err := feedback.ParseContact(c.raw, parser)
		var ce *feedback.ContactError
		if !errors.As(err, &ce) || ce.Reason != c.reason {
			t.Errorf("%q: err = %v, want reason %s", c.raw, err, c.reason)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(c.raw)) {
			t.Errorf("%q: the error repeats the contact: %v", c.raw, err)
		}
	}
}

func TestDailyLimit(t *testing.T) {
	f := newFixture(t, nil)
	for i := range feedback.DefaultTicketsPerDay {
		f.clock.Advance(time.Minute)
		if _, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: "alice", Category: feedback.CategoryProblem, Message: fmt.Sprint(i)}); err != nil {
			t.Fatalf("ticket %d: %v", i+1, err)
		}
	}
	_, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: "alice", Category: feedback.CategoryProblem, Message: "ещё одно"})
	var limited *feedback.RateLimitError
	if !errors.As(err, &limited) {
		t.Fatalf("11th ticket of the day: err = %v", err)
	}
	midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	if !limited.Until.Equal(midnight) || limited.RetryAfter != midnight.Sub(f.clock.Now().Truncate(time.Millisecond)) || limited.Max != 10 {
		t.Fatalf("limit = %+v", limited)
	}
	if len(f.events.got) != 10 {
		t.Fatalf("%d events, want 10 (none for the refused ticket)", len(f.events.got))
	}
	f.file(t, "bob") // the limit is per account
	f.clock.Advance(midnight.Sub(f.clock.Now()))
	f.file(t, "alice")
}

func TestOnlyTheAuthorSees(t *testing.T) {
	f := newFixture(t, nil)
	tk := f.file(t, "alice")
	if _, err := f.svc.Get(ctx, "mallory", tk.ID); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("another account: err = %v", err)
	}
	for _, id := range []string{"", "FB-", "FB-0000000O", "fb-zzz", "../etc", tk.ID + "2", "FB-ZZZZZZZZ"} {
		if _, err := f.svc.Get(ctx, "alice", id); !errors.Is(err, feedback.ErrTicketNotFound) {
			t.Errorf("id %q: err = %v", id, err)
		}
	}
	if got, err := f.svc.Get(ctx, "alice", " "+strings.ToLower(tk.ID)+" "); err != nil || got.ID != tk.ID {
		t.Fatalf("the id typed in lower case: %+v, %v", got, err)
	}
	if page, _ := f.svc.List(ctx, "mallory", "", 0); len(page.Tickets) != 0 {
		t.Fatal("another account's list shows the ticket")
	}
}

func TestListPages(t *testing.T) {
	f := newFixture(t, nil)
	var ids []string
	for range 5 {
		f.clock.Advance(time.Minute)
		ids = append(ids, f.file(t, "alice").ID)
	}
	var got []string
	cursor := ""
	for {
		page, err := f.svc.List(ctx, "alice", cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range page.Tickets {
			got = append(got, tk.ID)
		}
		if page.Next == nil {
			break
		}
		cursor = feedback.EncodeCursor(*page.Next)
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
	for _, bad := range []string{"x", "!!!", "MjAyNg", feedback.EncodeCursor(feedback.Position{ID: "nope"})} {
		if _, err := f.svc.List(ctx, "alice", bad, 2); !errors.Is(err, feedback.ErrInvalidCursor) {
			t.Errorf("cursor %q: err = %v", bad, err)
		}
	}
	page, err := f.svc.List(ctx, "nobody", "", 0)
	if err != nil || page.Tickets == nil || len(page.Tickets) != 0 || page.Next != nil {
		t.Fatalf("empty list: %+v, %v", page, err)
	}
	if page, _ := f.svc.List(ctx, "alice", "", 1000); len(page.Tickets) != 5 {
		t.Fatalf("oversized page: %d", len(page.Tickets))
	}
}

// moveTo brings a new ticket to status along allowed steps.
func moveTo(t *testing.T, f *fixture, id string, status feedback.Status) {
	t.Helper()
	if status == feedback.StatusNew {
		return
	}
	u := feedback.Update{TicketID: id, Status: status, Operator: "setup"}
	if status == feedback.StatusAnswered {
		u.Answer = "Ответ"
	}
	if _, err := f.svc.UpdateTicket(ctx, u); err != nil {
		t.Fatalf("move to %s: %v", status, err)
	}
}

func TestEveryTransition(t *testing.T) {
	for _, from := range feedback.Statuses {
		for _, to := range feedback.Statuses {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				f := newFixture(t, nil)
				tk := f.file(t, "alice")
				moveTo(t, f, tk.ID, from)
				f.clock.Advance(time.Hour)
				before := len(f.events.got)
				u := feedback.Update{TicketID: tk.ID, Status: to, Operator: "  ivanova "}
				if to == feedback.StatusAnswered {
					u.Answer = " Номер можно сменить раз в 30 дней. "
				}
				ch, err := f.svc.UpdateTicket(ctx, u)
				allowed := map[feedback.Status][]feedback.Status{
					feedback.StatusNew:        {feedback.StatusInProgress, feedback.StatusAnswered, feedback.StatusClosed},
					feedback.StatusInProgress: {feedback.StatusAnswered, feedback.StatusClosed},
					feedback.StatusAnswered:   {feedback.StatusClosed},
				}
				wantOK := false
				for _, s := range allowed[from] {
					wantOK = wantOK || s == to
				}
				if wantOK != feedback.CanMove(from, to) {
					t.Fatalf("CanMove(%s, %s) = %v", from, to, !wantOK)
				}
				got, _ := f.svc.Get(ctx, "alice", tk.ID)
				switch {
				case wantOK:
					if err != nil || ch.Unchanged || ch.Previous != from || ch.Ticket.Status != to {
						t.Fatalf("allowed move: %+v, %v", ch, err)
					}
					if got.Status != to || got.UpdatedBy != "ivanova" || !got.UpdatedAt.Equal(f.clock.Now().Truncate(time.Millisecond)) {
						t.Fatalf("after the move: %+v", got)
					}
					if to == feedback.StatusAnswered && (got.Answer != "Номер можно сменить раз в 30 дней." || got.AnsweredBy != "ivanova") {
						t.Fatalf("answer not recorded: %+v", got)
					}
					evs := f.events.got[before:]
					if len(evs) != 1 || evs[0].name != feedback.EventUpdated || evs[0].event.Status != string(to) ||
						evs[0].event.PreviousStatus != string(from) || evs[0].event.TicketID != tk.ID {
						t.Fatalf("events %+v", evs)
					}
				case from == to && to != feedback.StatusAnswered:
					// The same event twice: nothing to do, nothing published.
					if err != nil || !ch.Unchanged || got.Status != from || len(f.events.got) != before {
						t.Fatalf("repeat of %s: %+v, %v", to, ch, err)
					}
				default:
					var te *feedback.TransitionError
					if !errors.As(err, &te) || te.From != from || te.To != to {
						t.Fatalf("forbidden move: err = %v", err)
					}
					if got.Status != from || len(f.events.got) != before {
						t.Fatalf("a refused move changed something: %+v", got)
					}
				}
			})
		}
	}
}

func TestUpdateRefusesBadEvents(t *testing.T) {
	f := newFixture(t, nil)
	tk := f.file(t, "alice")
	tests := []struct {
		name   string
		u      feedback.Update
		field  string
		reason string
	}{
		{"unknown status", feedback.Update{TicketID: tk.ID, Status: "done", Operator: "o"}, "status", feedback.ReasonUnsupported},
		{"no operator", feedback.Update{TicketID: tk.ID, Status: feedback.StatusClosed, Operator: "  "}, "operator", feedback.ReasonRequired},
		{"long operator", feedback.Update{TicketID: tk.ID, Status: feedback.StatusClosed, Operator: strings.Repeat("я", 101)}, "operator", feedback.ReasonTooLong},
		{"answered without an answer", feedback.Update{TicketID: tk.ID, Status: feedback.StatusAnswered, Operator: "o", Answer: " "}, "answer", feedback.ReasonRequired},
		{"answer too long", feedback.Update{TicketID: tk.ID, Status: feedback.StatusAnswered, Operator: "o", Answer: strings.Repeat("ж", 4001)}, "answer", feedback.ReasonTooLong},
		{"answer with in_progress", feedback.Update{TicketID: tk.ID, Status: feedback.StatusInProgress, Operator: "o", Answer: "x"}, "answer", feedback.ReasonNotAllowed},
		{"answer with closed", feedback.Update{TicketID: tk.ID, Status: feedback.StatusClosed, Operator: "o", Answer: "x"}, "answer", feedback.ReasonNotAllowed},
	}
	for _, tt := range tests {
		_, err := f.svc.UpdateTicket(ctx, tt.u)
		var fe *feedback.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || fe.Reason != tt.reason {
			t.Errorf("%s: err = %v, want %s %s", tt.name, err, tt.field, tt.reason)
		}
	}
	for _, id := range []string{"FB-ZZZZZZZZ", "nonsense", ""} {
		if _, err := f.svc.UpdateTicket(ctx, feedback.Update{TicketID: id, Status: feedback.StatusClosed, Operator: "o"}); !errors.Is(err, feedback.ErrTicketNotFound) {
			t.Errorf("ticket %q: err = %v", id, err)
		}
	}
	if got, _ := f.svc.Get(ctx, "alice", tk.ID); got.Status != feedback.StatusNew || len(f.events.got) != 1 {
		t.Fatalf("refused updates changed the ticket: %+v", got)
	}
	// Answering again with another text is a forbidden move, not an edit;
	// the same answer again is a repeat.
	moveTo(t, f, tk.ID, feedback.StatusAnswered)
	var te *feedback.TransitionError
	if _, err := f.svc.UpdateTicket(ctx, feedback.Update{TicketID: tk.ID, Status: feedback.StatusAnswered, Operator: "o", Answer: "Другой ответ"}); !errors.As(err, &te) {
		t.Fatalf("a second, different answer: err = %v", err)
	}
	if ch, err := f.svc.UpdateTicket(ctx, feedback.Update{TicketID: tk.ID, Status: feedback.StatusAnswered, Operator: "o", Answer: " Ответ "}); err != nil || !ch.Unchanged {
		t.Fatalf("the same answer again: %+v, %v", ch, err)
	}
}

// flakyStore fails chosen calls once, as a lost race would.
type flakyStore struct {
	feedback.Store
	mu          sync.Mutex
	duplicates  int
	stale       int
	createCalls int
	updateCalls int
}

// fails counts a call and reports whether it is one of the failures still
// left to give.
func (s *flakyStore) fails(calls, left *int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	*calls++
	*left--
	return *left >= 0
}

func (s *flakyStore) CreateTicket(ctx context.Context, c feedback.Creation) error {
	if s.fails(&s.createCalls, &s.duplicates) {
		return feedback.ErrDuplicateID
	}
	return s.Store.CreateTicket(ctx, c)
}

func (s *flakyStore) UpdateTicket(ctx context.Context, c feedback.StatusChange) (feedback.Ticket, error) {
	if s.fails(&s.updateCalls, &s.stale) {
		return feedback.Ticket{}, feedback.ErrStale
	}
	return s.Store.UpdateTicket(ctx, c)
}

func TestRetries(t *testing.T) {
	flaky := &flakyStore{duplicates: 2, stale: 1}
	f := newFixture(t, func(s feedback.Store) feedback.Store { flaky.Store = s; return flaky })
	tk := f.file(t, "alice")
	if flaky.createCalls != 3 {
		t.Fatalf("a taken id was not redrawn: %d calls", flaky.createCalls)
	}
	if _, err := f.svc.UpdateTicket(ctx, feedback.Update{TicketID: tk.ID, Status: feedback.StatusClosed, Operator: "o"}); err != nil || flaky.updateCalls != 2 {
		t.Fatalf("a lost race was not judged again: %v (%d calls)", err, flaky.updateCalls)
	}
	flaky.duplicates = 100
	if _, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: "alice", Category: feedback.CategoryProblem, Message: "x"}); err == nil {
		t.Fatal("endless id collisions ended in success")
	}
}

func TestFailedPublishKeepsTheTicket(t *testing.T) {
	f := newFixture(t, nil)
	f.events.fail = errors.New("sns: throttled")
	secret := "Мой паспорт 4510 123456, звоните"
	tk, err := f.svc.Create(ctx, feedback.NewTicket{AccountID: "alice", Category: feedback.CategoryProblem, Message: secret, Contact: contact(t, "ivan@example.ru")})
	if err != nil {
		t.Fatalf("a failed publish failed the request: %v", err)
	}
	if _, err := f.svc.UpdateTicket(ctx, feedback.Update{TicketID: tk.ID, Status: feedback.StatusAnswered, Answer: "Ответ оператора", Operator: "o"}); err != nil {
		t.Fatalf("a failed publish failed the update: %v", err)
	}
	if got, _ := f.svc.Get(ctx, "alice", tk.ID); got.Status != feedback.StatusAnswered {
		t.Fatalf("ticket %+v", got)
	}
	logs := f.logs.String()
	if strings.Count(logs, "event not published") != 2 || !strings.Contains(logs, tk.ID) {
		t.Fatalf("failures not logged: %s", logs)
	}
	for _, s := range []string{secret, "паспорт", "ivan@example.ru", "Ответ оператора"} {
		if strings.Contains(logs, s) {
			t.Fatalf("the log holds %q: %s", s, logs)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	p := feedback.Position{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000000, time.UTC), ID: "FB-ABCDEFGH"}
	got, err := feedback.DecodeCursor(feedback.EncodeCursor(p))
	if err != nil || !got.CreatedAt.Equal(p.CreatedAt) || got.ID != p.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}
