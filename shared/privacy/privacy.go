// Package privacy holds what the citizen may ask of the service under the
// personal-data law (152-FZ art. 14, 21; SPEC §4.9): a report of everything
// held about the account, and its erasure. It knows nothing of Lambda, HTTP,
// JSON bodies or the AWS SDK: the store adapters reach it through Store.
package privacy

import (
	"context"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
)

// Held is everything the service keeps about one account, as stored: the
// numbers sealed, the tickets' contacts sealed.
type Held struct {
	Profile binding.Profile
	// Settings are the settings ever set; Applied gives what applies.
	Settings binding.SettingsPatch
	// Verification is the latest request, nil when there is none (or
	// only the counters of one taken back are left).
	Verification *binding.Verification
	// History is every entry still kept, newest first.
	History []binding.HistoryEntry
	// Tickets are the account's support tickets, newest first.
	Tickets []feedback.Ticket
	// AccessLog is every read of the number still kept, newest first;
	// AccessRequests are the partners' requests, newest first (SPEC §4.8).
	AccessLog      []binding.AccessLogEntry
	AccessRequests []binding.AccessRequest
}

// Store reads and erases an account across the table (or the in-memory
// stores). Adapters: store.Dynamo and store.MemoryPrivacy, held to one
// contract by storetest.RunPrivacy.
type Store interface {
	// Held reads everything kept about accountID: the whole history and
	// every ticket, however many pages they take.
	Held(ctx context.Context, accountID string) (Held, error)
	// Erase deletes every item of the account, releases the claims it
	// holds, deletes the counters keyed by the account or its numbers and
	// its idempotency records, and keeps its tickets stripped of what they
	// said and of whose they were. Each step is one conditional write or
	// transaction, in an order that lets a rerun after a failure at any
	// point finish the job; a rerun with nothing left reports zero counts.
	Erase(ctx context.Context, accountID string, now time.Time) (Erased, error)
}

// Erased counts what an erasure deleted, per kind.
type Erased struct {
	Profile      int
	Verification int
	Settings     int
	History      int
	// Other counts the other items of the account's partition by their
	// type attribute (the access log, the access requests, a held
	// removal's outbox, and whatever a later feature keeps there).
	Other map[string]int
	// Claims are the numbers' claims released (only those this account
	// held).
	Claims int
	// Counters are the rate-limit items keyed by the account or by one of
	// its numbers.
	Counters int
	// Idempotency are the stored answers to requests with an
	// Idempotency-Key.
	Idempotency int
	// Tickets are the tickets stripped and moved off the account.
	Tickets int
}

// Total is how many items the erasure touched.
func (e Erased) Total() int {
	n := e.Profile + e.Verification + e.Settings + e.History + e.Claims + e.Counters + e.Idempotency + e.Tickets
	for _, c := range e.Other {
		n += c
	}
	return n
}

// ErasedOwnerPrefix starts the owner a stripped ticket is kept under
// (TICKETS#erased#<random>): it carries no account id, and no two erased
// tickets share one, so nothing links them to each other either.
const ErasedOwnerPrefix = "erased#"

// Stripped is a ticket as an erasure keeps it: its id, category, status
// and times stay (support must be able to account for what it handled);
// the message, the contact and the answer go, with the author. The answer
// goes too: an operator writes it to the person about their case, and it
// may repeat what the message said.
func Stripped(t feedback.Ticket, owner string) feedback.Ticket {
	t.AccountID = owner
	t.Message = ""
	t.Contact = feedback.Contact{}
	t.Answer = ""
	return t
}
