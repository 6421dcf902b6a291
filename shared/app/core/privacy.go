package core

import (
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/privacy"
	"github.com/gosuslugi/phonebind/shared/store"
)

// newPrivacy assembles the personal-data report and erasure over the same
// stores the other services write: the table, or in a local run the
// in-memory stores side by side; the same key ring (to open the number for
// its owner); events to the same place.
func (a *App) newPrivacy(opts Options, st binding.Store, keys binding.Keys) {
	var ps privacy.Store
	switch s := st.(type) {
	case *store.Dynamo:
		ps = s
	case *store.Memory:
		tickets, _ := a.ticketStore.(*store.FeedbackMemory)
		idem, _ := a.Idempotency.(*store.MemoryIdempotency)
		ps = store.MemoryPrivacy{Binding: s, Tickets: tickets, Idempotency: idem}
	}
	var events privacy.Events
	if a.events != nil {
		events = notify.AccountEvents{Publisher: a.events}
	}
	a.Privacy = privacy.New(ps, keys, a.Service, events, opts.Clock, a.Logger)
	a.PrivacyAPI = httpapi.NewPrivacy(a.Privacy, a.Logger)
}
