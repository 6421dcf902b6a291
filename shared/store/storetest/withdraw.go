package storetest

// Withdrawn approvals, reads racing what ends them, approvals racing a
// request's expiry, and refused reads of accounts the store holds nothing
// about (SPEC §4.8, §4.9).

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of the answers a citizen keeps in force, run by Run.
var answerCases = []contractCase[subject]{
	{"WithdrawApproval", withdrawApproval},
	{"ReadRacingWithdrawal", readRacingWithdrawal},
	{"ReadRacingUnbind", readRacingUnbind},
	{"ApprovalRacingExpiry", approvalRacingExpiry},
	{"RefusalWithoutProfileWritesNothing", refusalWithoutProfileWritesNothing},
}

// decision is the write of a decision on request id at now.
func decision(accountID, id string, state binding.AccessState, now time.Time, until time.Time) binding.AccessDecisionWrite {
	event := binding.EventAccessDeclined
	if state == binding.AccessApproved {
		event = binding.EventAccessApproved
	}
	return binding.AccessDecisionWrite{
		AccountID: accountID, RequestID: id, State: state, ApprovedUntil: until, ExpiresAt: now.Add(time.Hour), Now: now,
		History: binding.HistoryEntry{ID: fmt.Sprintf("h-%s-%d", id, now.UnixNano()), At: now, Event: event, Actor: "user", ExpiresAt: now.Add(time.Hour)},
	}
}

// A decline of an approval in force withdraws it: declined from then on,
// without its end, an access_declined history entry with the partner;
// approving it again is decided, and an approval that ran out cannot be
// withdrawn.
func withdrawApproval(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "withdraw")
	until := base.Add(time.Hour)
	r := approve(t, s, a, "partner", base.Add(time.Second), until)
	if _, err := s.DecideAccessRequest(ctx, decision(a, r.ID, binding.AccessApproved, base.Add(time.Minute), until)); !errors.Is(err, binding.ErrAccessRequestDecided) {
		t.Fatalf("approving an approval: %v, want decided", err)
	}
	at := base.Add(2 * time.Minute)
	got, err := s.DecideAccessRequest(ctx, decision(a, r.ID, binding.AccessDeclined, at, time.Time{}))
	if err != nil || got.State != binding.AccessDeclined || !got.DecidedAt.Equal(at) || !got.ApprovedUntil.IsZero() {
		t.Fatalf("withdrawal = %+v, %v", got, err)
	}
	v := readView(t, s, a, "partner")
	if v.Request == nil || v.Request.State != binding.AccessDeclined || v.Request.Approved(at) || !v.Request.ApprovedUntil.IsZero() || !v.Request.DecidedAt.Equal(at) {
		t.Fatalf("request after the withdrawal = %+v", v.Request)
	}
	snap := snapshot(t, s, a, 10)
	if h := snap.History[0]; h.Event != binding.EventAccessDeclined || h.ClientID != "partner" || !h.At.Equal(at) {
		t.Fatalf("history = %+v", snap.History)
	}
	if _, err := s.DecideAccessRequest(ctx, decision(a, r.ID, binding.AccessDeclined, at.Add(time.Second), time.Time{})); !errors.Is(err, binding.ErrAccessRequestDecided) {
		t.Fatalf("withdrawing twice: %v, want decided", err)
	}
	b, _ := boundAccount(t, s, "withdraw-late")
	late := approve(t, s, b, "partner", base.Add(time.Second), until)
	if _, err := s.DecideAccessRequest(ctx, decision(b, late.ID, binding.AccessDeclined, until, time.Time{})); !errors.Is(err, binding.ErrAccessRequestExpired) {
		t.Fatalf("withdrawing an approval that ran out: %v, want expired", err)
	}
}

// readsRacing runs four readers of account a that commit a read (client's,
// with its approval when withApproval) whenever allows says the view they
// read allows it, while change runs once two reads committed. It fails the
// test when a read whose view was read after change returned commits, or
// when the log does not hold exactly the reads that committed.
func readsRacing(t *testing.T, s subject, a, client string, withApproval bool, allows func(binding.ReadView) bool, change func() error) {
	t.Helper()
	var changed atomic.Bool
	var allowed, late, seq atomic.Int64
	var readers sync.WaitGroup
	errs := make(chan error, 16)
	ready := make(chan struct{})
	var once sync.Once
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			// Until a few reads after the change (at most 400 tries).
			for i, post := 0, 0; i < 400 && post < 3; i++ {
				after := changed.Load()
				if after {
					post++
				}
				v, err := s.ReadView(ctx, a, client)
				if err != nil {
					errs <- err
					return
				}
				if !allows(v) {
					continue
				}
				c := binding.ReadCommit{AccountID: a, ProfileVersion: v.Profile.Version, SettingsVersion: v.SettingsVersion,
					Entry: logEntry(fmt.Sprintf("r%d-%d", r, i), base.Add(time.Duration(seq.Add(1))*time.Millisecond), client, binding.ReadAllowed)}
				if withApproval {
					c.Approval = v.Request
				}
				switch err := s.CommitRead(ctx, c); {
				case err == nil && after:
					late.Add(1)
				case err == nil:
					if allowed.Add(1) == 2 {
						once.Do(func() { close(ready) })
					}
				case !errors.Is(err, binding.ErrStale):
					errs <- err
					return
				}
			}
		}()
	}
	readersDone := make(chan struct{})
	go func() { readers.Wait(); close(readersDone) }()
	select {
	case <-ready:
	case <-readersDone:
	}
	if err := change(); err != nil {
		t.Errorf("change: %v", err)
	}
	changed.Store(true)
	<-readersDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if late.Load() != 0 {
		t.Fatalf("%d reads committed after the change had committed", late.Load())
	}
	if allowed.Load() < 2 {
		t.Fatalf("%d reads committed before the change: the race proves nothing", allowed.Load())
	}
	if n := len(accessLog(t, s, a)); int64(n) != allowed.Load()+1 { // +1: the request's ask
		t.Fatalf("log has %d entries, %d reads succeeded (and one ask)", n, allowed.Load())
	}
}

// Partners' reads racing the citizen's withdrawal of their approval: none
// whose view was read after the withdrawal returned commits.
func readRacingWithdrawal(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "withdraw-race")
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAsk)})); err != nil {
		t.Fatal(err)
	}
	r := approve(t, s, a, "partner", base.Add(time.Second), base.Add(time.Hour))
	readsRacing(t, s, a, "partner", true,
		func(v binding.ReadView) bool { return v.Request != nil && v.Request.Approved(base.Add(time.Minute)) },
		func() error {
			_, err := s.DecideAccessRequest(ctx, decision(a, r.ID, binding.AccessDeclined, base.Add(2*time.Second), time.Time{}))
			return err
		})
}

// Reads racing an unbind: none whose view was read after the unbind
// returned commits (the number is gone).
func readRacingUnbind(t *testing.T, s subject) {
	a, n := boundAccount(t, s, "unbind-race")
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAllow)})); err != nil {
		t.Fatal(err)
	}
	// The log's extra entry readsRacing expects: a refused read.
	if _, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("ask", base, "partner", binding.ReadNotAllowed)}); err != nil {
		t.Fatal(err)
	}
	p := snapshot(t, s, a, 0).Profile
	at := base.Add(time.Minute)
	readsRacing(t, s, a, "partner", false,
		func(v binding.ReadView) bool {
			return v.Profile.Bound() && v.Settings.Applied().ThirdParty == binding.ThirdPartyAllow
		},
		func() error {
			return s.CompleteUnbind(ctx, binding.Unbinding{Profile: p, Now: at,
				History: binding.HistoryEntry{At: at, Event: binding.EventSupportUnbound, Phone: n.Masked, Actor: "support:o", Channel: binding.ChannelSupport}})
		})
	if v := readView(t, s, a, ""); v.Profile.Bound() {
		t.Fatalf("profile after the unbind = %+v", v.Profile)
	}
}

// Approvals of one pending request at instants around its expiry, all at
// once: exactly one outcome, an approval before the expiry or none, and
// never an approval at or past it. Those past it are expired; those before
// it that lost are decided.
func approvalRacingExpiry(t *testing.T, s subject) {
	for round, offsets := range [][]int{{-2, -1, 0, 1, 2, 3}, {0, 0, 1, 2}} {
		a, _ := boundAccount(t, s, fmt.Sprintf("approve-expiry-%d", round))
		req := pendingRequest(a, "req", "partner", base)
		if _, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("ask", base, "partner", binding.ReadApprovalRequired), NewRequest: req}); err != nil {
			t.Fatal(err)
		}
		results := make([]error, len(offsets))
		var wg sync.WaitGroup
		for i, off := range offsets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				now := req.ExpiresAt.Add(time.Duration(off) * time.Millisecond)
				_, results[i] = s.DecideAccessRequest(ctx, decision(a, req.ID, binding.AccessApproved, now, now.Add(time.Hour)))
			}()
		}
		wg.Wait()
		approved := -1
		for i, err := range results {
			switch {
			case err == nil && offsets[i] < 0:
				if approved >= 0 {
					t.Fatalf("round %d: two approvals (%d and %d)", round, approved, i)
				}
				approved = i
			case err == nil:
				t.Fatalf("round %d: approval at expiry%+dms", round, offsets[i])
			case offsets[i] >= 0 && !errors.Is(err, binding.ErrAccessRequestExpired) && !errors.Is(err, binding.ErrAccessRequestDecided):
				t.Fatalf("round %d: approval at expiry%+dms: %v, want expired", round, offsets[i], err)
			case offsets[i] < 0 && !errors.Is(err, binding.ErrAccessRequestDecided):
				t.Fatalf("round %d: approval at expiry%+dms: %v, want decided (another won)", round, offsets[i], err)
			}
		}
		v := readView(t, s, a, "partner")
		approvals := 0
		for _, h := range snapshot(t, s, a, 10).History {
			if h.Event == binding.EventAccessApproved {
				approvals++
			}
		}
		switch {
		case approved < 0 && (v.Request.State != binding.AccessPending || approvals != 0):
			t.Fatalf("round %d: no approval won, yet request %+v, %d approvals in history", round, v.Request, approvals)
		case approved >= 0 && (v.Request.State != binding.AccessApproved || approvals != 1 ||
			!v.Request.DecidedAt.Equal(req.ExpiresAt.Add(time.Duration(offsets[approved])*time.Millisecond))):
			t.Fatalf("round %d: approval %d won, yet request %+v, %d approvals in history", round, approved, v.Request, approvals)
		}
	}
}

// A refused read of an account with no profile item (unknown, or only a
// code asked for) writes nothing: no log entry, no request; with a
// profile, bound or not, it is logged.
func refusalWithoutProfileWritesNothing(t *testing.T, s subject) {
	unknown := account("unknown")
	asking := account("asking")
	start(t, s, verification(asking, "v-"+asking, sealed(asking+"-42"), 0, binding.SealedPhone{}), base)
	for _, a := range []string{unknown, asking} {
		created, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("e-"+a, base, "partner", binding.ReadNoPhoneBound),
			NewRequest: pendingRequest(a, "req-"+a, "partner", base)})
		if err != nil || created {
			t.Fatalf("refusal of %s: %v, %v; want nothing written", a, created, err)
		}
		if l := accessLog(t, s, a); len(l) != 0 {
			t.Fatalf("log of %s = %+v, want none", a, l)
		}
		if v := readView(t, s, a, "partner"); v.Request != nil {
			t.Fatalf("request of %s = %+v, want none", a, v.Request)
		}
	}
	a, _ := boundAccount(t, s, "known")
	if created, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("e", base, "partner", binding.ReadApprovalRequired),
		NewRequest: pendingRequest(a, "req", "partner", base)}); err != nil || !created {
		t.Fatalf("refusal of a bound account: %v, %v", created, err)
	}
	if l := accessLog(t, s, a); len(l) != 1 {
		t.Fatalf("log = %+v, want the refusal", l)
	}
}
