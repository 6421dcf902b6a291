package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/feedback"
)

// RunFeedback runs the feedback.Store contract against fresh stores made
// by newStore: the memory store and the DynamoDB adapter run the same cases.
func RunFeedback(t *testing.T, newStore func(t *testing.T) feedback.Store) {
	t.Helper()
	runCases(t, newStore, []contractCase[feedback.Store]{
		{"CreateAndRead", createAndRead},
		{"OnlyTheAuthorReads", onlyTheAuthorReads},
		{"DuplicateIDWritesNothing", duplicateIDWritesNothing},
		{"DailyLimit", dailyLimit},
		{"ListNewestFirstInPages", listNewestFirstInPages},
		{"ListPageBoundaries", listPageBoundaries},
		{"UpdateStatus", updateStatus},
		{"StaleUpdateWritesNothing", staleUpdateWritesNothing},
		{"ConcurrentUpdates", concurrentUpdates},
		{"ConcurrentCreatesHoldTheLimit", concurrentCreatesHoldTheLimit},
	})
}

func dayLimit(at time.Time, max int) feedback.Limit {
	return feedback.Limit{WindowStart: at.Truncate(24 * time.Hour), Period: 24 * time.Hour, Max: max}
}

func newTicket(t *testing.T, accountID string, at time.Time) feedback.Ticket {
	t.Helper()
	id, err := feedback.NewTicketID()
	if err != nil {
		t.Fatal(err)
	}
	return feedback.Ticket{
		ID:        id,
		AccountID: accountID,
		Category:  feedback.CategoryProblem,
		Message:   "Не приходит SMS с кодом, номер " + id,
		Status:    feedback.StatusNew,
		CreatedAt: at,
		UpdatedAt: at,
	}
}

func create(t *testing.T, s feedback.Store, tk feedback.Ticket) feedback.Ticket {
	t.Helper()
	if err := s.CreateTicket(ctx, feedback.Creation{Ticket: tk, Limit: dayLimit(tk.CreatedAt, 100)}); err != nil {
		t.Fatalf("create %s: %v", tk.ID, err)
	}
	return tk
}

func sameTicket(t *testing.T, got, want feedback.Ticket) {
	t.Helper()
	if got.ID != want.ID || got.AccountID != want.AccountID || got.Category != want.Category ||
		got.Message != want.Message || got.Contact != want.Contact || got.Status != want.Status ||
		got.Answer != want.Answer || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
		got.UpdatedBy != want.UpdatedBy || got.AnsweredBy != want.AnsweredBy || !got.AnsweredAt.Equal(want.AnsweredAt) {
		t.Fatalf("ticket = %+v\nwant     %+v", got, want)
	}
}

func createAndRead(t *testing.T, s feedback.Store) {
	a := account("author")
	tk := newTicket(t, a, base)
	tk.Message = "Здравствуйте!\nНе могу привязать номер 😞 — «ошибка»."
	tk.Contact = feedback.Contact{Kind: feedback.ContactPhone, HMAC: "hmac-1", KeyID: "k1", Ciphertext: "ct-1", Masked: "+7 912 ***-**-89"}
	create(t, s, tk)
	got, err := s.Ticket(ctx, a, tk.ID)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	sameTicket(t, got, tk)
	byID, err := s.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatalf("read by id: %v", err)
	}
	sameTicket(t, byID, tk)
	if _, err := s.TicketByID(ctx, "FB-ZZZZZZZZ"); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("unknown id: err = %v, want ErrTicketNotFound", err)
	}
	list, next, err := s.Tickets(ctx, account("nobody"), nil, 20)
	if err != nil || len(list) != 0 || next != nil {
		t.Fatalf("an account without tickets lists %v, %v, %v", list, next, err)
	}
}

func onlyTheAuthorReads(t *testing.T, s feedback.Store) {
	a, b := account("alice"), account("mallory")
	tk := create(t, s, newTicket(t, a, base))
	if _, err := s.Ticket(ctx, b, tk.ID); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("another account reads the ticket: err = %v, want ErrTicketNotFound", err)
	}
	if _, err := s.Ticket(ctx, a, "FB-ZZZZZZZZ"); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("unknown id: err = %v, want ErrTicketNotFound", err)
	}
	if list, _, err := s.Tickets(ctx, b, nil, 20); err != nil || len(list) != 0 {
		t.Fatalf("another account's list holds %d tickets (%v)", len(list), err)
	}
	// A position taken from someone else's list shows nothing of theirs.
	pos := feedback.PositionOf(tk)
	pos.CreatedAt = pos.CreatedAt.Add(time.Second)
	if list, _, err := s.Tickets(ctx, b, &pos, 20); err != nil || len(list) != 0 {
		t.Fatalf("a foreign cursor lists %d tickets (%v)", len(list), err)
	}
}

func duplicateIDWritesNothing(t *testing.T, s feedback.Store) {
	a, b := account("first"), account("second")
	tk := create(t, s, newTicket(t, a, base))
	dup := newTicket(t, b, base.Add(time.Minute))
	dup.ID = tk.ID
	one := dayLimit(base, 1)
	if err := s.CreateTicket(ctx, feedback.Creation{Ticket: dup, Limit: one}); !errors.Is(err, feedback.ErrDuplicateID) {
		t.Fatalf("a taken id: err = %v, want ErrDuplicateID", err)
	}
	if got, err := s.TicketByID(ctx, tk.ID); err != nil || got.AccountID != a {
		t.Fatalf("the first ticket moved: %+v, %v", got, err)
	}
	if list, _, err := s.Tickets(ctx, b, nil, 20); err != nil || len(list) != 0 {
		t.Fatalf("the refused ticket was listed: %d (%v)", len(list), err)
	}
	// The refused ticket did not spend the author's only ticket of the day.
	if err := s.CreateTicket(ctx, feedback.Creation{Ticket: newTicket(t, b, base.Add(time.Minute)), Limit: one}); err != nil {
		t.Fatalf("the refused ticket was counted: %v", err)
	}
}

func dailyLimit(t *testing.T, s feedback.Store) {
	a, other := account("limited"), account("other")
	limit := dayLimit(base, 3)
	for i := range 3 {
		if err := s.CreateTicket(ctx, feedback.Creation{Ticket: newTicket(t, a, base.Add(time.Duration(i)*time.Minute)), Limit: limit}); err != nil {
			t.Fatalf("ticket %d: %v", i+1, err)
		}
	}
	fourth := newTicket(t, a, base.Add(time.Hour))
	if err := s.CreateTicket(ctx, feedback.Creation{Ticket: fourth, Limit: limit}); !errors.Is(err, feedback.ErrDailyLimit) {
		t.Fatalf("fourth ticket of the day: err = %v, want ErrDailyLimit", err)
	}
	if _, err := s.TicketByID(ctx, fourth.ID); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("the refused ticket was stored: %v", err)
	}
	if list, _, _ := s.Tickets(ctx, a, nil, 20); len(list) != 3 {
		t.Fatalf("%d tickets listed, want 3", len(list))
	}
	// The refused id is not reserved either.
	tomorrow := base.Add(24 * time.Hour)
	fourth.CreatedAt, fourth.UpdatedAt = tomorrow, tomorrow
	if err := s.CreateTicket(ctx, feedback.Creation{Ticket: fourth, Limit: dayLimit(tomorrow, 3)}); err != nil {
		t.Fatalf("next day, same id: %v", err)
	}
	if err := s.CreateTicket(ctx, feedback.Creation{Ticket: newTicket(t, other, base), Limit: limit}); err != nil {
		t.Fatalf("another account is not limited by this one: %v", err)
	}
}

// listAll pages through an account's list with page size n.
func listAll(t *testing.T, s feedback.Store, accountID string, n int) ([]feedback.Ticket, []int) {
	t.Helper()
	var all []feedback.Ticket
	var sizes []int
	var after *feedback.Position
	for range 100 {
		page, next, err := s.Tickets(ctx, accountID, after, n)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		all = append(all, page...)
		sizes = append(sizes, len(page))
		if next == nil {
			return all, sizes
		}
		if len(page) == 0 {
			t.Fatal("an empty page promised another")
		}
		after = next
	}
	t.Fatal("the list never ends")
	return nil, nil
}

func listNewestFirstInPages(t *testing.T, s feedback.Store) {
	a := account("pages")
	var want []feedback.Ticket
	for i := range 6 {
		want = append(want, create(t, s, newTicket(t, a, base.Add(time.Duration(i)*time.Hour))))
	}
	// Two tickets in one millisecond still have one place each.
	same := base.Add(2*time.Hour + 30*time.Minute)
	want = append(want, create(t, s, newTicket(t, a, same)), create(t, s, newTicket(t, a, same)))
	create(t, s, newTicket(t, account("neighbour"), base.Add(3*time.Hour)))

	all, sizes := listAll(t, s, a, 3)
	if fmt.Sprint(sizes) != "[3 3 2]" {
		t.Fatalf("page sizes %v, want [3 3 2]", sizes)
	}
	if len(all) != len(want) {
		t.Fatalf("listed %d tickets, want %d", len(all), len(want))
	}
	seen := map[string]bool{}
	for i, tk := range all {
		if tk.AccountID != a || seen[tk.ID] {
			t.Fatalf("ticket %d: %+v (foreign or repeated)", i, tk)
		}
		seen[tk.ID] = true
		if i > 0 {
			prev := all[i-1]
			if tk.CreatedAt.After(prev.CreatedAt) || tk.CreatedAt.Equal(prev.CreatedAt) && tk.ID > prev.ID {
				t.Fatalf("not newest first at %d: %s after %s", i, tk.CreatedAt, prev.CreatedAt)
			}
		}
	}
	if !all[0].CreatedAt.Equal(base.Add(5 * time.Hour)) {
		t.Fatalf("newest first: got %s", all[0].CreatedAt)
	}
	one, _, err := s.Tickets(ctx, a, nil, 1)
	if err != nil || len(one) != 1 {
		t.Fatalf("page of one: %v", err)
	}
	sameTicket(t, one[0], want[5])
}

func listPageBoundaries(t *testing.T, s feedback.Store) {
	a := account("exact")
	for i := range 4 {
		create(t, s, newTicket(t, a, base.Add(time.Duration(i)*time.Minute)))
	}
	// A list that ends exactly at a page's end promises no further page.
	if _, sizes := listAll(t, s, a, 2); fmt.Sprint(sizes) != "[2 2]" {
		t.Fatalf("page sizes %v, want [2 2]", sizes)
	}
	if _, sizes := listAll(t, s, a, 4); fmt.Sprint(sizes) != "[4]" {
		t.Fatalf("page sizes %v, want [4]", sizes)
	}
	if _, sizes := listAll(t, s, a, 10); fmt.Sprint(sizes) != "[4]" {
		t.Fatalf("page sizes %v, want [4]", sizes)
	}
}

func updateStatus(t *testing.T, s feedback.Store) {
	a := account("update")
	tk := create(t, s, newTicket(t, a, base))
	at := base.Add(time.Hour)
	got, err := s.UpdateTicket(ctx, feedback.StatusChange{Ticket: tk, To: feedback.StatusInProgress, Operator: "ivanova", Now: at})
	if err != nil {
		t.Fatalf("to in_progress: %v", err)
	}
	want := tk
	want.Status, want.UpdatedAt, want.UpdatedBy = feedback.StatusInProgress, at, "ivanova"
	sameTicket(t, got, want)

	later := at.Add(time.Hour)
	got, err = s.UpdateTicket(ctx, feedback.StatusChange{Ticket: got, To: feedback.StatusAnswered, Answer: "Проверьте, что номер мобильный.", Operator: "petrov", Now: later})
	if err != nil {
		t.Fatalf("to answered: %v", err)
	}
	want.Status, want.UpdatedAt, want.UpdatedBy = feedback.StatusAnswered, later, "petrov"
	want.Answer, want.AnsweredBy, want.AnsweredAt = "Проверьте, что номер мобильный.", "petrov", later
	sameTicket(t, got, want)
	read, err := s.Ticket(ctx, a, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameTicket(t, read, want)

	closed, err := s.UpdateTicket(ctx, feedback.StatusChange{Ticket: read, To: feedback.StatusClosed, Operator: "ivanova", Now: later.Add(time.Hour)})
	if err != nil {
		t.Fatalf("to closed: %v", err)
	}
	if closed.Answer != want.Answer || closed.AnsweredBy != "petrov" || closed.UpdatedBy != "ivanova" {
		t.Fatalf("closing lost the answer or its author: %+v", closed)
	}
	ghost := newTicket(t, a, base)
	if _, err := s.UpdateTicket(ctx, feedback.StatusChange{Ticket: ghost, To: feedback.StatusClosed, Operator: "x", Now: at}); err == nil {
		t.Fatal("updating a ticket that does not exist succeeded")
	}
}

func staleUpdateWritesNothing(t *testing.T, s feedback.Store) {
	a := account("stale-ticket")
	tk := create(t, s, newTicket(t, a, base))
	moved, err := s.UpdateTicket(ctx, feedback.StatusChange{Ticket: tk, To: feedback.StatusInProgress, Operator: "a", Now: base.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	// tk is the ticket as read before it moved: still "new".
	_, err = s.UpdateTicket(ctx, feedback.StatusChange{Ticket: tk, To: feedback.StatusAnswered, Answer: "x", Operator: "b", Now: base.Add(2 * time.Minute)})
	if !errors.Is(err, feedback.ErrStale) {
		t.Fatalf("a change judged on an old status: err = %v, want ErrStale", err)
	}
	got, err := s.Ticket(ctx, a, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameTicket(t, got, moved)
}

func concurrentUpdates(t *testing.T, s feedback.Store) {
	a := account("race-ticket")
	tk := create(t, s, newTicket(t, a, base))
	won, stale := race(t, 10, feedback.ErrStale, func(i int) error {
		to := feedback.StatusInProgress
		answer := ""
		if i%2 == 1 {
			to, answer = feedback.StatusAnswered, fmt.Sprintf("answer %d", i)
		}
		_, err := s.UpdateTicket(ctx, feedback.StatusChange{Ticket: tk, To: to, Answer: answer, Operator: fmt.Sprintf("op-%d", i), Now: base.Add(time.Minute)})
		return err
	})
	if won != 1 || stale != 9 {
		t.Fatalf("10 operators moving one new ticket: %d won, %d stale; want 1 and 9", won, stale)
	}
}

func concurrentCreatesHoldTheLimit(t *testing.T, s feedback.Store) {
	a := account("burst")
	limit := dayLimit(base, 5)
	tickets := make([]feedback.Ticket, 20)
	for i := range tickets {
		tickets[i] = newTicket(t, a, base.Add(time.Duration(i)*time.Millisecond))
	}
	filed, limited := race(t, len(tickets), feedback.ErrDailyLimit, func(i int) error {
		return s.CreateTicket(ctx, feedback.Creation{Ticket: tickets[i], Limit: limit})
	})
	if filed != 5 || limited != 15 {
		t.Fatalf("20 tickets at once under a limit of 5: %d filed, %d refused", filed, limited)
	}
	if list, _, _ := s.Tickets(ctx, a, nil, 100); len(list) != 5 {
		t.Fatalf("%d tickets stored, want 5", len(list))
	}
}
