package binding_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

const (
	approvalTTL  = 720 * time.Hour
	logRetention = 8760 * time.Hour
	readNumber   = "+79123456789"
)

func withReads(c *binding.Config) {
	c.ShareApprovalTTL, c.AccessLogRetention = approvalTTL, logRetention
}

func (e *env) read(t *testing.T, account string, purpose binding.ReadPurpose, client string) binding.ReadResult {
	t.Helper()
	res, err := e.svc.ReadPhone(context.Background(), binding.ReadRequest{
		AccountID: account, Purpose: purpose, ClientID: client, ClientName: "Сервис " + client,
	})
	if err != nil {
		t.Fatalf("read %s for %s: %v", purpose, client, err)
	}
	return res
}

// log is the whole access log, page after page.
func (e *env) log(t *testing.T, account string) []binding.AccessLogEntry {
	t.Helper()
	var out []binding.AccessLogEntry
	cursor := ""
	for {
		page, err := e.svc.AccessLog(context.Background(), account, cursor, binding.MaxAccessLogPage)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Entries...)
		if page.Next == nil {
			return out
		}
		cursor = binding.EncodeAccessLogCursor(*page.Next)
	}
}

// Every purpose against every setting that rules it: the number when the
// setting allows, not_allowed when it does not, and each read logged.
func TestReadPhoneFollowsTheSettings(t *testing.T) {
	cases := []struct {
		purpose binding.ReadPurpose
		patch   binding.SettingsPatch
		want    string
	}{
		{binding.ReadNotification, binding.SettingsPatch{}, binding.ReadAllowed},
		{binding.ReadNotification, binding.SettingsPatch{SMSNotices: ptr(false)}, binding.ReadNotAllowed},
		{binding.ReadNotification, binding.SettingsPatch{EmailNotices: ptr(false), PushNotices: ptr(false), Autofill: ptr(false)}, binding.ReadAllowed},
		{binding.ReadAutofill, binding.SettingsPatch{}, binding.ReadAllowed},
		{binding.ReadAutofill, binding.SettingsPatch{Autofill: ptr(false)}, binding.ReadNotAllowed},
		{binding.ReadAutofill, binding.SettingsPatch{SMSNotices: ptr(false)}, binding.ReadAllowed},
		{binding.ReadThirdParty, binding.SettingsPatch{}, binding.ReadNotAllowed}, // deny by default
		{binding.ReadThirdParty, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyDeny)}, binding.ReadNotAllowed},
		{binding.ReadThirdParty, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAllow)}, binding.ReadAllowed},
		{binding.ReadThirdParty, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAsk)}, binding.ReadApprovalRequired},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s/%v", c.purpose, c.patch.Fields()), func(t *testing.T) {
			e := newEnv(t, withReads)
			account := fmt.Sprintf("acc-read-%d", i)
			st := e.bind(t, account, readNumber)
			e.clock.Advance(time.Minute)
			if len(c.patch.Fields()) > 0 {
				if _, err := e.patch(account, c.patch); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(time.Minute)
			}
			res := e.read(t, account, c.purpose, "svc")
			if c.want == binding.ReadAllowed {
				if !res.Allowed() || res.Phone != readNumber || !res.VerifiedAt.Equal(st.VerifiedAt) {
					t.Fatalf("read = %+v, want the number verified at %s", res, st.VerifiedAt)
				}
			} else if res.Allowed() || res.Refusal != c.want || res.Phone != "" {
				t.Fatalf("read = %+v, want %s and no number", res, c.want)
			}
			l := e.log(t, account)
			if len(l) != 1 || l[0].Result != c.want || l[0].Purpose != c.purpose || l[0].ClientID != "svc" ||
				l[0].ClientName != "Сервис svc" || !l[0].At.Equal(e.clock.Now()) || !l[0].ExpiresAt.Equal(e.clock.Now().Add(logRetention)) {
				t.Fatalf("log = %+v", l)
			}
		})
	}
}

// No number, or a removal whose hold is due: no_phone_bound, logged;
// an account the service holds nothing about (no profile: never bound, or
// erased) is refused no_phone_bound too, whatever the purpose, and not
// logged.
func TestReadPhoneWithoutNumber(t *testing.T) {
	e := newEnv(t, withReads, withHold)
	for _, p := range binding.ReadPurposes {
		if res := e.read(t, "acc-none", p, "svc"); res.Refusal != binding.ReadNoPhoneBound || res.RequestCreated {
			t.Fatalf("%s read of an unknown account: %+v", p, res)
		}
	}
	if l := e.log(t, "acc-none"); len(l) != 0 {
		t.Fatalf("log of an unknown account = %+v, want none", l)
	}
	st := e.scheduleRemoval(t, "acc-held")
	if res := e.read(t, "acc-held", binding.ReadAutofill, "svc"); !res.Allowed() {
		t.Fatalf("during the hold: %+v, want the number (still bound)", res)
	}
	e.clock.Set(st.Request.EffectiveAt)
	if res := e.read(t, "acc-held", binding.ReadAutofill, "svc"); res.Refusal != binding.ReadNoPhoneBound {
		t.Fatalf("hold due, not yet completed: %+v, want no_phone_bound", res)
	}
}

// askingEnv is an env with the reads whose account has readNumber bound
// and third_party set to ask a minute after the bind.
func askingEnv(t *testing.T, account string) *env {
	t.Helper()
	e := newEnv(t, withReads)
	e.bind(t, account, readNumber)
	e.clock.Advance(time.Minute)
	if _, err := e.patch(account, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAsk)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// third_party: ask, start to end: the first read asks (one request, one
// event), more reads add none, the citizen approves with step-up, the
// partner reads until the approval ends, then asks again.
func TestPartnerApprovalFlow(t *testing.T) {
	const a = "acc-ask"
	e := askingEnv(t, a)
	before := len(e.events.all())
	e.clock.Advance(time.Minute)
	res := e.read(t, a, binding.ReadThirdParty, "bank")
	if res.Refusal != binding.ReadApprovalRequired || !res.RequestCreated {
		t.Fatalf("first read = %+v", res)
	}
	for range 3 {
		e.clock.Advance(time.Second)
		if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Refusal != binding.ReadApprovalRequired || res.RequestCreated {
			t.Fatalf("read again = %+v, want approval_required and no new request", res)
		}
	}
	evs := e.events.all()[before:]
	if len(evs) != 1 || evs[0].Name != binding.EventNameAccessRequested || evs[0].Access == nil ||
		evs[0].Access.ClientID != "bank" || evs[0].AccountID != a || evs[0].Phone != "" {
		t.Fatalf("events = %+v, want one phone.access_requested without the number", evs)
	}
	pending, err := e.svc.CurrentAccessRequests(context.Background(), a)
	if err != nil || len(pending) != 1 || pending[0].ClientID != "bank" || pending[0].ClientName != "Сервис bank" ||
		pending[0].State != binding.AccessPending || !pending[0].ExpiresAt.Equal(pending[0].CreatedAt.Add(approvalTTL)) {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	weak := binding.Session{AMR: []string{"pwd"}, AuthTime: e.clock.Now()}
	var su *binding.StepUpError
	if _, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: pending[0].ID, Approve: true, Session: weak}); !errors.As(err, &su) {
		t.Fatalf("approval without a second factor: %v, want step-up", err)
	}
	if _, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: "acc-other", RequestID: pending[0].ID, Approve: true, Session: e.strongSession()}); !errors.Is(err, binding.ErrAccessRequestNotFound) {
		t.Fatalf("another account approving: %v, want not found", err)
	}
	e.clock.Advance(time.Minute)
	approvedAt := e.clock.Now()
	got, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: pending[0].ID, Approve: true, Session: e.strongSession(), SourceIP: "198.51.100.10"})
	if err != nil || got.State != binding.AccessApproved || !got.ApprovedUntil.Equal(approvedAt.Add(approvalTTL)) {
		t.Fatalf("approve = %+v, %v", got, err)
	}
	if p, _ := e.svc.CurrentAccessRequests(context.Background(), a); len(p) != 1 || p[0].State != binding.AccessApproved || p[0].ID != got.ID {
		t.Fatalf("listed after the approval = %+v, want it, approved (it may be withdrawn)", p)
	}
	st, _ := e.svc.Status(context.Background(), a)
	if st.History[0].Event != binding.EventAccessApproved || st.History[0].ClientID != "bank" {
		t.Fatalf("history = %+v", st.History[0])
	}
	last := e.events.all()[len(e.events.all())-1]
	if last.Name != binding.EventNameAccessApproved || last.ID != st.History[0].ID {
		t.Fatalf("event = %+v", last)
	}
	if _, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: got.ID, Approve: true, Session: e.strongSession()}); !errors.Is(err, binding.ErrAccessRequestDecided) {
		t.Fatalf("approving twice: %v", err)
	}
	e.clock.Advance(time.Minute)
	if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Phone != readNumber {
		t.Fatalf("approved partner's read = %+v", res)
	}
	if res := e.read(t, a, binding.ReadThirdParty, "other"); res.Refusal != binding.ReadApprovalRequired {
		t.Fatalf("another partner's read = %+v, want its own request", res)
	}
	e.clock.Set(got.ApprovedUntil.Add(-time.Millisecond))
	if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Phone != readNumber {
		t.Fatalf("a millisecond before the end: %+v", res)
	}
	e.clock.Set(got.ApprovedUntil)
	if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Refusal != binding.ReadApprovalRequired || !res.RequestCreated {
		t.Fatalf("at the end: %+v, want a new request", res)
	}
	// Allowed and refused, each read is in the log, newest first.
	l := e.log(t, a)
	if len(l) != 8 || l[0].Result != binding.ReadApprovalRequired || l[1].Result != binding.ReadAllowed || l[1].ClientID != "bank" {
		t.Fatalf("log = %+v", l)
	}
}

// A declined partner is refused (not_allowed) for SHARE_APPROVAL_TTL and
// cannot ask again meanwhile; a lapsed request cannot be decided.
func TestPartnerDeclinedAndLapsed(t *testing.T) {
	const a = "acc-decline"
	e := askingEnv(t, a)
	e.clock.Advance(time.Minute)
	e.read(t, a, binding.ReadThirdParty, "bank")
	e.read(t, a, binding.ReadThirdParty, "shop")
	pending, _ := e.svc.CurrentAccessRequests(context.Background(), a)
	if len(pending) != 2 {
		t.Fatalf("pending = %+v", pending)
	}
	byClient := map[string]binding.AccessRequest{}
	for _, p := range pending {
		byClient[p.ClientID] = p
	}
	got, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: byClient["bank"].ID, Session: e.strongSession()})
	if err != nil || got.State != binding.AccessDeclined || !got.ApprovedUntil.IsZero() {
		t.Fatalf("decline = %+v, %v", got, err)
	}
	e.clock.Advance(time.Hour)
	if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Refusal != binding.ReadNotAllowed || res.RequestCreated {
		t.Fatalf("declined partner = %+v, want not_allowed", res)
	}
	e.clock.Set(byClient["shop"].ExpiresAt)
	if _, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: byClient["shop"].ID, Approve: true, Session: e.strongSession()}); !errors.Is(err, binding.ErrAccessRequestExpired) {
		t.Fatalf("lapsed request: %v, want expired", err)
	}
	e.clock.Set(got.ExpiresAt)
	if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Refusal != binding.ReadApprovalRequired || !res.RequestCreated {
		t.Fatalf("after the decline ran out: %+v, want a new request", res)
	}
}

// A citizen withdraws an approval in force with a decline: the request is
// declined from then on (decided now, no approval end), the partner's
// reads are refused, the withdrawal is an access_declined history entry
// and event, and the list no longer shows it; a second withdrawal finds it
// decided.
func TestPartnerApprovalWithdrawn(t *testing.T) {
	const a = "acc-withdraw"
	e := askingEnv(t, a)
	e.clock.Advance(time.Minute)
	e.read(t, a, binding.ReadThirdParty, "bank")
	listed, _ := e.svc.CurrentAccessRequests(context.Background(), a)
	if len(listed) != 1 || listed[0].State != binding.AccessPending {
		t.Fatalf("listed = %+v, want the pending request", listed)
	}
	approved, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: listed[0].ID, Approve: true, Session: e.strongSession()})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Phone != readNumber {
		t.Fatalf("approved partner's read = %+v", res)
	}
	e.clock.Advance(time.Minute)
	withdrawnAt := e.clock.Now()
	got, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: approved.ID, Session: e.strongSession(), SourceIP: "198.51.100.11"})
	if err != nil || got.State != binding.AccessDeclined || !got.DecidedAt.Equal(withdrawnAt) || !got.ApprovedUntil.IsZero() ||
		!got.ExpiresAt.Equal(withdrawnAt.Add(approvalTTL)) {
		t.Fatalf("withdrawal = %+v, %v", got, err)
	}
	if res := e.read(t, a, binding.ReadThirdParty, "bank"); res.Refusal != binding.ReadNotAllowed || res.RequestCreated {
		t.Fatalf("read after the withdrawal = %+v, want not_allowed", res)
	}
	if p, _ := e.svc.CurrentAccessRequests(context.Background(), a); len(p) != 0 {
		t.Fatalf("listed after the withdrawal = %+v, want none", p)
	}
	st, _ := e.svc.Status(context.Background(), a)
	if st.History[0].Event != binding.EventAccessDeclined || st.History[0].ClientID != "bank" || !st.History[0].At.Equal(withdrawnAt) {
		t.Fatalf("history = %+v", st.History[0])
	}
	last := e.events.all()[len(e.events.all())-1]
	if last.Name != binding.EventNameAccessDeclined || last.ID != st.History[0].ID || last.Access == nil || last.Access.State != binding.AccessDeclined {
		t.Fatalf("event = %+v", last)
	}
	if _, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: approved.ID, Session: e.strongSession()}); !errors.Is(err, binding.ErrAccessRequestDecided) {
		t.Fatalf("withdrawing twice: %v, want decided", err)
	}
}

// An approval that ran out cannot be withdrawn: it is expired.
func TestPartnerApprovalRunOutNotWithdrawn(t *testing.T) {
	const a = "acc-withdraw-late"
	e := askingEnv(t, a)
	e.read(t, a, binding.ReadThirdParty, "bank")
	listed, _ := e.svc.CurrentAccessRequests(context.Background(), a)
	approved, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: listed[0].ID, Approve: true, Session: e.strongSession()})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(approved.ApprovedUntil)
	if p, _ := e.svc.CurrentAccessRequests(context.Background(), a); len(p) != 0 {
		t.Fatalf("listed once the approval ran out = %+v, want none", p)
	}
	if _, err := e.svc.DecideAccessRequest(context.Background(), binding.AccessDecision{AccountID: a, RequestID: approved.ID, Session: e.strongSession()}); !errors.Is(err, binding.ErrAccessRequestExpired) {
		t.Fatalf("withdrawing a run-out approval: %v, want expired", err)
	}
}

// A read whose setting is turned off while it runs: on either store, no
// read that began after ChangeSettings(deny) returned gets the number,
// and every number returned has its log entry.
func TestReadRacingDeny(t *testing.T) {
	onStores(t, func(t *testing.T, fresh func() binding.Store) {
		e := newEnvOn(t, fresh(), withReads)
		const a = "acc-race"
		e.bind(t, a, readNumber)
		e.clock.Advance(time.Minute)
		if _, err := e.patch(a, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyAllow)}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		var denied atomic.Bool
		var numbers, late atomic.Int64
		var wg sync.WaitGroup
		ready := make(chan struct{})
		var once sync.Once
		errs := make(chan error, 8)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, post := 0, 0; i < 200 && post < 3; i++ {
					after := denied.Load()
					if after {
						post++
					}
					res, err := e.svc.ReadPhone(context.Background(), binding.ReadRequest{AccountID: a, Purpose: binding.ReadThirdParty, ClientID: "bank", ClientName: "Банк"})
					switch {
					case errors.Is(err, binding.ErrReadConflict):
					case err != nil:
						errs <- err
						return
					case res.Phone != "" && after:
						late.Add(1)
					case res.Phone != "":
						if numbers.Add(1) == 2 {
							once.Do(func() { close(ready) })
						}
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-ready:
		case <-done:
			t.Fatal("the readers stopped before two reads got the number")
		}
		if _, err := e.patch(a, binding.SettingsPatch{ThirdParty: ptr(binding.ThirdPartyDeny)}); err != nil {
			t.Fatal(err)
		}
		denied.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if late.Load() != 0 {
			t.Fatalf("%d reads returned the number after the deny had committed", late.Load())
		}
		allowed := 0
		for _, l := range e.log(t, a) {
			if l.Result == binding.ReadAllowed {
				allowed++
			}
		}
		if int64(allowed) != numbers.Load() {
			t.Fatalf("%d numbers returned, %d allowed reads logged", numbers.Load(), allowed)
		}
	})
}
