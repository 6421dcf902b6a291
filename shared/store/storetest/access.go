package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Cases of the reads of the number (SPEC §4.8), run by Run.
var accessCases = []contractCase[subject]{
	{"AccessItemsStayOutOfTheSnapshot", accessItemsStayOutOfTheSnapshot},
	{"ReadViewAndCommit", readViewAndCommit},
	{"CommitReadRefusedWhenAnythingMoved", commitReadRefusedWhenAnythingMoved},
	{"ApprovalEndsAtItsInstant", approvalEndsAtItsInstant},
	{"OneOpenRequestPerPartner", oneOpenRequestPerPartner},
	{"ConcurrentFirstReadsCreateOneRequest", concurrentFirstReadsCreateOneRequest},
	{"DecideAccessRequest", decideAccessRequest},
	{"AccessLogPages", accessLogPages},
	{"ReadRacingDeny", readRacingDeny},
	{"ReadRacingApprovalExpiry", readRacingApprovalExpiry},
	// The answers a citizen keeps in force: withdrawn approvals, reads
	// racing what ends them, approvals racing a request's expiry, and
	// refused reads of accounts the store holds nothing about.
	{"WithdrawApproval", withdrawApproval},
	{"ReadRacingWithdrawal", readRacingWithdrawal},
	{"ReadRacingUnbind", readRacingUnbind},
	{"ApprovalRacingExpiry", approvalRacingExpiry},
	{"RefusalWithoutProfileWritesNothing", refusalWithoutProfileWritesNothing},
}

// boundAccount binds a number to a fresh account and returns it with the number.
func boundAccount(t *testing.T, s subject, name string) (string, binding.SealedPhone) {
	t.Helper()
	a := account(name)
	n := sealed(a + "-42")
	v := verification(a, "b-"+a, n, 0, binding.SealedPhone{})
	start(t, s, v, base)
	if err := s.CompleteBind(ctx, completion(v, base)); err != nil {
		t.Fatalf("bind: %v", err)
	}
	return a, n
}

func logEntry(id string, at time.Time, client, result string) binding.AccessLogEntry {
	return binding.AccessLogEntry{
		ID: id, At: at, ClientID: client, ClientName: "Партнёр " + client, Purpose: binding.ReadThirdParty,
		Result: result, ExpiresAt: at.Add(24 * time.Hour),
	}
}

func pendingRequest(accountID, id, client string, at time.Time) *binding.AccessRequest {
	return &binding.AccessRequest{
		ID: id, AccountID: accountID, ClientID: client, ClientName: "Партнёр " + client,
		Purpose: binding.ReadThirdParty, State: binding.AccessPending, CreatedAt: at, ExpiresAt: at.Add(time.Hour),
	}
}

func readView(t *testing.T, s subject, accountID, client string) binding.ReadView {
	t.Helper()
	v, err := s.ReadView(ctx, accountID, client)
	if err != nil {
		t.Fatalf("read view: %v", err)
	}
	return v
}

func accessLog(t *testing.T, s subject, accountID string) []binding.AccessLogEntry {
	t.Helper()
	var out []binding.AccessLogEntry
	var after *binding.AccessLogPosition
	for {
		page, err := s.AccessLog(ctx, accountID, base.Add(-48*time.Hour), after, 100)
		if err != nil {
			t.Fatalf("access log: %v", err)
		}
		out = append(out, page.Entries...)
		if page.Next == nil {
			return out
		}
		after = page.Next
	}
}

// approve creates the partner's request and approves it until until.
func approve(t *testing.T, s subject, accountID, client string, at, until time.Time) binding.AccessRequest {
	t.Helper()
	req := pendingRequest(accountID, "req-"+client, client, at)
	if created, err := s.LogRefusal(ctx, binding.Refusal{AccountID: accountID,
		Entry: logEntry("ask-"+client, at, client, binding.ReadApprovalRequired), NewRequest: req}); err != nil || !created {
		t.Fatalf("request: %v, %v", created, err)
	}
	got, err := s.DecideAccessRequest(ctx, binding.AccessDecisionWrite{
		AccountID: accountID, RequestID: req.ID, State: binding.AccessApproved, ApprovedUntil: until, ExpiresAt: until,
		Now: at.Add(time.Millisecond),
		History: binding.HistoryEntry{ID: "h-" + client, At: at.Add(time.Millisecond), Event: binding.EventAccessApproved,
			Actor: "user", ExpiresAt: at.Add(time.Hour)},
	})
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	return got
}

// Log entries and access requests sort before HISTORY#: the status
// snapshot reads the profile, the settings and the history as before.
func accessItemsStayOutOfTheSnapshot(t *testing.T, s subject) {
	a, n := boundAccount(t, s, "access-layout")
	approve(t, s, a, "partner-a", base.Add(time.Second), base.Add(time.Hour))
	for i := range 3 {
		if _, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a,
			Entry: logEntry(fmt.Sprintf("e%d", i), base.Add(time.Duration(i+2)*time.Second), "partner-b", binding.ReadNotAllowed)}); err != nil {
			t.Fatal(err)
		}
	}
	snap := snapshot(t, s, a, 20)
	if snap.Profile.Phone != n || snap.Verification == nil {
		t.Fatalf("snapshot = %+v", snap)
	}
	if len(snap.History) != 2 || snap.History[0].Event != binding.EventAccessApproved || snap.History[0].ClientID != "partner-a" ||
		snap.History[1].Event != binding.EventBound {
		t.Fatalf("history = %+v, want the approval and the bind only", snap.History)
	}
	if got := snapshot(t, s, a, 0); got.Profile.Phone != n || len(got.History) != 0 {
		t.Fatalf("snapshot without history = %+v", got)
	}
}

// The view carries what a read decides on; an allowed read commits its
// entry, which the log then lists.
func readViewAndCommit(t *testing.T, s subject) {
	if v := readView(t, s, account("access-none"), "partner"); v.Profile.Bound() || v.Profile.Version != 0 || v.Request != nil ||
		v.SettingsVersion != 0 {
		t.Fatalf("fresh account's view = %+v", v)
	}
	a, n := boundAccount(t, s, "access-view")
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base.Add(time.Second), binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAllow)})); err != nil {
		t.Fatal(err)
	}
	v := readView(t, s, a, "")
	if v.Profile.Phone != n || v.Profile.Version != 1 || v.SettingsVersion != 1 ||
		v.Settings.Applied().ThirdParty != binding.ThirdPartyAllow || v.Request != nil {
		t.Fatalf("view = %+v", v)
	}
	at := base.Add(2 * time.Second)
	if err := s.CommitRead(ctx, binding.ReadCommit{AccountID: a, Entry: logEntry("r1", at, "partner", binding.ReadAllowed),
		ProfileVersion: 1, SettingsVersion: 1}); err != nil {
		t.Fatalf("commit: %v", err)
	}
	l := accessLog(t, s, a)
	if len(l) != 1 || l[0].ID != "r1" || !l[0].At.Equal(at) || l[0].ClientID != "partner" || l[0].ClientName != "Партнёр partner" ||
		l[0].Purpose != binding.ReadThirdParty || l[0].Result != binding.ReadAllowed || !l[0].ExpiresAt.Equal(at.Add(24*time.Hour)) {
		t.Fatalf("log = %+v", l)
	}
}

// A change of the profile, of the settings or of the approval since the
// view was read refuses the commit, and no entry is written.
func commitReadRefusedWhenAnythingMoved(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-moved")
	at := base.Add(time.Minute)
	stale := []binding.ReadCommit{
		{AccountID: a, Entry: logEntry("p", at, "x", binding.ReadAllowed), ProfileVersion: 2, SettingsVersion: 0},
		{AccountID: a, Entry: logEntry("s", at, "x", binding.ReadAllowed), ProfileVersion: 1, SettingsVersion: 1},
	}
	for _, c := range stale {
		if err := s.CommitRead(ctx, c); !errors.Is(err, binding.ErrStale) {
			t.Fatalf("commit %s: %v, want ErrStale", c.Entry.ID, err)
		}
	}
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base.Add(time.Second), binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAsk)})); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitRead(ctx, binding.ReadCommit{AccountID: a, Entry: logEntry("v0", at, "x", binding.ReadAllowed), ProfileVersion: 1}); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("commit against settings never changed, after a change: %v", err)
	}
	// An approval that is not the one read (a request id the partner's
	// item no longer has) is stale too.
	req := approve(t, s, a, "partner", base.Add(2*time.Second), base.Add(time.Hour))
	other := req
	other.ID = "someone-else"
	if err := s.CommitRead(ctx, binding.ReadCommit{AccountID: a, Entry: logEntry("a", at, "partner", binding.ReadAllowed),
		ProfileVersion: 1, SettingsVersion: 1, Approval: &other}); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("commit with another request's approval: %v", err)
	}
	if l := accessLog(t, s, a); len(l) != 1 || l[0].Result != binding.ReadApprovalRequired {
		t.Fatalf("log after refused commits = %+v, want only the request's refusal", l)
	}
	if err := s.CommitRead(ctx, binding.ReadCommit{AccountID: a, Entry: logEntry("ok", at, "partner", binding.ReadAllowed),
		ProfileVersion: 1, SettingsVersion: 1, Approval: &req}); err != nil {
		t.Fatalf("commit as read: %v", err)
	}
}

// An approval holds up to, not at, its ApprovedUntil.
func approvalEndsAtItsInstant(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-until")
	until := base.Add(time.Hour)
	req := approve(t, s, a, "partner", base.Add(time.Second), until)
	if v := readView(t, s, a, "partner"); v.Request == nil || v.Request.ID != req.ID || v.Request.State != binding.AccessApproved ||
		!v.Request.ApprovedUntil.Equal(until) || !v.Request.Approved(until.Add(-time.Millisecond)) || v.Request.Approved(until) {
		t.Fatalf("view's request = %+v", v.Request)
	}
	commit := func(id string, at time.Time) error {
		return s.CommitRead(ctx, binding.ReadCommit{AccountID: a, Entry: logEntry(id, at, "partner", binding.ReadAllowed),
			ProfileVersion: 1, Approval: &req})
	}
	if err := commit("last", until.Add(-time.Millisecond)); err != nil {
		t.Fatalf("a millisecond before the end: %v", err)
	}
	if err := commit("late", until); !errors.Is(err, binding.ErrStale) {
		t.Fatalf("at the end: %v, want ErrStale", err)
	}
}

// One open request per partner and account: a second refusal is logged
// without one; once the first lapses, the next read asks anew.
func oneOpenRequestPerPartner(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-flood")
	first := pendingRequest(a, "req-1", "partner", base)
	created, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("e1", base, "partner", binding.ReadApprovalRequired), NewRequest: first})
	if err != nil || !created {
		t.Fatalf("first: %v, %v", created, err)
	}
	for i := range 3 {
		at := base.Add(time.Duration(i+1) * time.Minute)
		created, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry(fmt.Sprintf("f%d", i), at, "partner", binding.ReadApprovalRequired),
			NewRequest: pendingRequest(a, fmt.Sprintf("req-f%d", i), "partner", at)})
		if err != nil || created {
			t.Fatalf("flood %d: created %v, %v", i, created, err)
		}
	}
	if _, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("o1", base, "other", binding.ReadApprovalRequired),
		NewRequest: pendingRequest(a, "req-o", "other", base)}); err != nil {
		t.Fatal(err)
	}
	reqs, err := s.AccessRequests(ctx, a)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("requests = %+v, %v; want one per partner", reqs, err)
	}
	if v := readView(t, s, a, "partner"); v.Request == nil || v.Request.ID != "req-1" || !v.Request.Pending(base) {
		t.Fatalf("partner's request = %+v, want the first", v.Request)
	}
	if l := accessLog(t, s, a); len(l) != 5 {
		t.Fatalf("log has %d entries, want every refusal", len(l))
	}
	lapsed := base.Add(time.Hour)
	created, err = s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("n1", lapsed, "partner", binding.ReadApprovalRequired),
		NewRequest: pendingRequest(a, "req-2", "partner", lapsed)})
	if err != nil || !created {
		t.Fatalf("after the first lapsed: %v, %v", created, err)
	}
	if v := readView(t, s, a, "partner"); v.Request == nil || v.Request.ID != "req-2" {
		t.Fatalf("partner's request = %+v, want the new one", v.Request)
	}
}

// A partner's first reads at once: one request is created (one event
// would follow), every read is logged.
func concurrentFirstReadsCreateOneRequest(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-first")
	const n = 8
	var wg sync.WaitGroup
	var created atomic.Int64
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := base.Add(time.Duration(i) * time.Millisecond)
			ok, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry(fmt.Sprintf("c%d", i), at, "partner", binding.ReadApprovalRequired),
				NewRequest: pendingRequest(a, fmt.Sprintf("req-c%d", i), "partner", at)})
			if ok {
				created.Add(1)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if created.Load() != 1 {
		t.Fatalf("%d requests created, want 1", created.Load())
	}
	reqs, err := s.AccessRequests(ctx, a)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests = %+v, %v", reqs, err)
	}
	if l := accessLog(t, s, a); len(l) != n {
		t.Fatalf("log has %d entries, want %d", len(l), n)
	}
}

// A decision is written once, on the account's own pending request.
func decideAccessRequest(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-decide")
	b, _ := boundAccount(t, s, "access-decide-other")
	for _, acc := range []string{a, b} {
		if _, err := s.LogRefusal(ctx, binding.Refusal{AccountID: acc, Entry: logEntry("e-"+acc, base, "partner", binding.ReadApprovalRequired),
			NewRequest: pendingRequest(acc, "req-"+acc, "partner", base)}); err != nil {
			t.Fatal(err)
		}
	}
	decide := func(acc, id string, now time.Time, approve bool) (binding.AccessRequest, error) {
		w := binding.AccessDecisionWrite{AccountID: acc, RequestID: id, State: binding.AccessDeclined, ExpiresAt: now.Add(2 * time.Hour), Now: now,
			History: binding.HistoryEntry{ID: "h-" + id + now.Format("150405"), At: now, Event: binding.EventAccessDeclined, Actor: "user", ExpiresAt: now.Add(time.Hour)}}
		if approve {
			w.State, w.ApprovedUntil, w.History.Event = binding.AccessApproved, w.ExpiresAt, binding.EventAccessApproved
		}
		return s.DecideAccessRequest(ctx, w)
	}
	now := base.Add(time.Minute)
	if _, err := decide(a, "req-"+b, now, true); !errors.Is(err, binding.ErrAccessRequestNotFound) {
		t.Fatalf("another account's request: %v, want not found", err)
	}
	if _, err := decide(a, "no-such", now, true); !errors.Is(err, binding.ErrAccessRequestNotFound) {
		t.Fatalf("unknown request: %v, want not found", err)
	}
	if _, err := decide(b, "req-"+b, base.Add(time.Hour), true); !errors.Is(err, binding.ErrAccessRequestExpired) {
		t.Fatalf("lapsed request: %v, want expired", err)
	}
	got, err := decide(a, "req-"+a, now, false)
	if err != nil || got.State != binding.AccessDeclined || !got.DecidedAt.Equal(now) || !got.ExpiresAt.Equal(now.Add(2*time.Hour)) ||
		!got.ApprovedUntil.IsZero() || got.ClientID != "partner" {
		t.Fatalf("decline = %+v, %v", got, err)
	}
	if _, err := decide(a, "req-"+a, now.Add(time.Second), true); !errors.Is(err, binding.ErrAccessRequestDecided) {
		t.Fatalf("second decision: %v, want decided", err)
	}
	v := readView(t, s, a, "partner")
	if v.Request == nil || v.Request.State != binding.AccessDeclined || !v.Request.Open(now.Add(time.Hour)) {
		t.Fatalf("stored request = %+v", v.Request)
	}
	// A declined partner holds its place: a refusal creates no request.
	if created, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry("again", now.Add(time.Minute), "partner", binding.ReadNotAllowed),
		NewRequest: pendingRequest(a, "req-again", "partner", now.Add(time.Minute))}); err != nil || created {
		t.Fatalf("refusal after a decline created a request: %v, %v", created, err)
	}
	hist := snapshot(t, s, a, 5).History
	if len(hist) != 2 || hist[0].Event != binding.EventAccessDeclined || hist[0].ClientID != "partner" {
		t.Fatalf("history = %+v, want the decline (once) over the bind", hist)
	}
	if h := snapshot(t, s, b, 5).History; len(h) != 1 {
		t.Fatalf("the other account's history = %+v, want its bind only", h)
	}
}

// The log reads newest first, page by page, and not past since.
func accessLogPages(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-pages")
	const n = 7
	for i := range n {
		// Two entries share each millisecond: the id orders them.
		at := base.Add(time.Duration(i/2) * time.Second)
		if _, err := s.LogRefusal(ctx, binding.Refusal{AccountID: a, Entry: logEntry(fmt.Sprintf("e%d", i), at, "p", binding.ReadNotAllowed)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var after *binding.AccessLogPosition
	for pages := 0; ; pages++ {
		page, err := s.AccessLog(ctx, a, base.Add(-time.Hour), after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) > 3 || pages > 3 {
			t.Fatalf("page %d has %d entries", pages, len(page.Entries))
		}
		for _, e := range page.Entries {
			got = append(got, e.ID)
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	if want := "[e6 e5 e4 e3 e2 e1 e0]"; fmt.Sprint(got) != want {
		t.Fatalf("log = %v, want %s", got, want)
	}
	page, err := s.AccessLog(ctx, a, base.Add(2*time.Second), nil, 10)
	if err != nil || len(page.Entries) != 3 || page.Next != nil {
		t.Fatalf("since the third second: %+v, %v; want e6, e5, e4", page, err)
	}
	if page, err := s.AccessLog(ctx, account("access-empty"), base, nil, 10); err != nil || len(page.Entries) != 0 || page.Next != nil {
		t.Fatalf("empty log: %+v, %v", page, err)
	}
}

// Readers commit reads decided on third_party: allow while the citizen
// sets deny. A commit begun after the deny returned never succeeds, and
// every read that succeeded has its entry in the log.
func readRacingDeny(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-race")
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAllow)})); err != nil {
		t.Fatal(err)
	}
	readsRacing(t, s, a, "p", false,
		func(v binding.ReadView) bool { return v.Settings.Applied().ThirdParty == binding.ThirdPartyAllow },
		func() error {
			return s.ChangeSettings(ctx, settingsChange(a, "s2", base.Add(time.Second), binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyDeny)}))
		})
	if v := readView(t, s, a, ""); v.Settings.Applied().ThirdParty != binding.ThirdPartyDeny {
		t.Fatalf("settings = %+v", v.Settings.Applied())
	}
}

// Reads at instants around an approval's end commit at the same time:
// exactly those before the end succeed, and the log holds them alone.
func readRacingApprovalExpiry(t *testing.T, s subject) {
	a, _ := boundAccount(t, s, "access-expiry")
	if err := s.ChangeSettings(ctx, settingsChange(a, "s1", base, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAsk)})); err != nil {
		t.Fatal(err)
	}
	until := base.Add(time.Hour)
	approve(t, s, a, "partner", base.Add(time.Second), until)
	v := readView(t, s, a, "partner")
	var wg sync.WaitGroup
	results := make([]error, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := until.Add(time.Duration(i-8) * time.Millisecond)
			results[i] = s.CommitRead(ctx, binding.ReadCommit{AccountID: a, Entry: logEntry(fmt.Sprintf("x%02d", i), at, "partner", binding.ReadAllowed),
				ProfileVersion: v.Profile.Version, SettingsVersion: v.SettingsVersion, Approval: v.Request})
		}()
	}
	wg.Wait()
	for i, err := range results {
		before := i < 8
		if before && err != nil || !before && !errors.Is(err, binding.ErrStale) {
			t.Errorf("read at end%+dms: %v", i-8, err)
		}
	}
	allowed := 0
	for _, e := range accessLog(t, s, a) {
		if e.Result == binding.ReadAllowed {
			allowed++
			if !e.At.Before(until) {
				t.Errorf("logged read at %s, past the approval's end", e.At)
			}
		}
	}
	if allowed != 8 {
		t.Fatalf("log holds %d allowed reads, want 8", allowed)
	}
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
// test when a read tried after change returned commits (whenever its view
// was read), or when the log does not gain exactly the reads that
// committed.
func readsRacing(t *testing.T, s subject, a, client string, withApproval bool, allows func(binding.ReadView) bool, change func() error) {
	t.Helper()
	logged := len(accessLog(t, s, a))
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
				// A commit tried once the change has committed must fail,
				// whenever its view was read.
				after = changed.Load()
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
	if n := len(accessLog(t, s, a)) - logged; int64(n) != allowed.Load() {
		t.Fatalf("the race logged %d entries, %d reads succeeded", n, allowed.Load())
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
