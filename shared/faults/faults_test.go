package faults_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/faults"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// Every flow is run once per fault point (each DynamoDB call and each send
// it makes) and fault kind, on DynamoDB Local. After each run the answer
// must be a success or a 5xx (never a 4xx that blames the user, never a
// 200 with the work undone), and the table must be consistent: a claim
// for every bound number and the reverse, no working code that no message
// carries, no message whose code does not work.

type world struct {
	t      *testing.T
	db     *dynamodb.Client
	table  string
	plan   *faults.Plan // DynamoDB calls
	send   *faults.Plan // SMS and e-mail
	sender *faults.Sender
	keys   *secure.Keyring
	svc    *binding.Service
	now    atomic.Int64
}

func newWorld(t *testing.T) *world {
	db := dynamotest.Client(t)
	w := &world{t: t, db: db, table: dynamotest.Table(t, db), plan: &faults.Plan{}, send: &faults.Plan{}, keys: secure.DevKeyring()}
	w.sender = &faults.Sender{Plan: w.send}
	w.now.Store(time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC).UnixNano())
	cfg := binding.Config{
		CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: time.Minute,
		CodesPerAccountHour: 100, CodesPerPhoneDay: 100, CodesPerIPHour: 100, ChangeCooldown: time.Minute,
		MaxFailuresDay: 100, CodesPerPrefixDay: 1000, CodesGlobalDay: 100000,
		StepUp:         binding.StepUp{AMR: []string{"mfa"}, MaxAge: 15 * time.Minute},
		ConsentVersion: "2026-01", HistoryRetention: time.Hour,
	}
	w.svc = binding.New(cfg, store.NewDynamo(&faults.DB{DynamoAPI: db, Plan: w.plan}, w.table),
		binding.Senders{SMS: w.sender, Email: w.sender}, w.keys, w.clock, nil)
	return w
}

func (w *world) clock() time.Time { return time.Unix(0, w.now.Load()).UTC() }

// signedIn is a sign-in with a second factor just now: step-up passes.
func (w *world) signedIn() binding.Session {
	return binding.Session{AMR: []string{"mfa"}, AuthTime: w.clock()}
}
func (w *world) advance(d time.Duration) { w.now.Add(int64(d)) }

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

func (w *world) lastCode(to string) string {
	msgs := w.sender.Sent(to)
	for i := len(msgs) - 1; i >= 0; i-- {
		if c := codeRE.FindString(msgs[i].Body); c != "" {
			return c
		}
	}
	return ""
}

var seq atomic.Int64

func uniqueNumber(t *testing.T) (string, phone.Number) {
	raw := fmt.Sprintf("+7916%07d", (time.Now().UnixNano()/1000+seq.Add(7919))%10_000_000)
	n, err := phone.NewParser(nil).Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, n
}

// flow is a user action: setup runs without faults, steps under them.
type flow struct {
	name  string
	setup func(w *world, acc string) any
	steps func(w *world, acc string, state any) error
}

type numbers struct {
	first, second string
	n1, n2        phone.Number
}

func (w *world) bind(acc string, n phone.Number) error {
	ctx := context.Background()
	sent, err := w.svc.RequestCode(ctx, binding.CodeRequest{AccountID: acc, Purpose: binding.PurposeBind, Phone: n, Consent: true, SourceIP: "203.0.113.1", Session: w.signedIn()})
	if err != nil {
		return err
	}
	_, err = w.svc.Confirm(ctx, binding.Confirmation{Session: w.signedIn(), AccountID: acc, VerificationID: sent.VerificationID, Code: w.lastCode(n.E164())})
	return err
}

func (w *world) unbind(acc string, channel binding.Channel, dest string) error {
	ctx := context.Background()
	sent, err := w.svc.RequestCode(ctx, binding.CodeRequest{AccountID: acc, Purpose: binding.PurposeUnbind, Channel: channel, Email: acc + "@example.org", Session: w.signedIn()})
	if err != nil {
		return err
	}
	_, err = w.svc.Unbind(ctx, binding.Confirmation{Session: w.signedIn(), AccountID: acc, VerificationID: sent.VerificationID, Code: w.lastCode(dest)})
	return err
}

func bound(w *world, acc string) any {
	var s numbers
	s.first, s.n1 = uniqueNumber(w.t)
	s.second, s.n2 = uniqueNumber(w.t)
	if err := w.bind(acc, s.n1); err != nil {
		w.t.Fatalf("setup bind: %v", err)
	}
	w.advance(2 * time.Hour)
	return s
}

var flows = []flow{
	{"bind", func(w *world, acc string) any {
		var s numbers
		s.first, s.n1 = uniqueNumber(w.t)
		s.second, s.n2 = uniqueNumber(w.t)
		return s
	}, func(w *world, acc string, st any) error { return w.bind(acc, st.(numbers).n1) }},
	{"change", bound, func(w *world, acc string, st any) error { return w.bind(acc, st.(numbers).n2) }},
	{"unbind by SMS", bound, func(w *world, acc string, st any) error {
		return w.unbind(acc, binding.ChannelSMS, st.(numbers).first)
	}},
	{"unbind by e-mail", bound, func(w *world, acc string, st any) error {
		return w.unbind(acc, binding.ChannelEmail, acc+"@example.org")
	}},
	{"support unbind", bound, func(w *world, acc string, st any) error {
		_, err := w.svc.SupportUnbind(context.Background(), acc, "ops", "test", "FB-7KQ4M9XP")
		return err
	}},
	{"wrong code", func(w *world, acc string) any {
		_, n := uniqueNumber(w.t)
		sent, err := w.svc.RequestCode(context.Background(), binding.CodeRequest{AccountID: acc, Purpose: binding.PurposeBind, Phone: n, Consent: true})
		if err != nil {
			w.t.Fatal(err)
		}
		return sent.VerificationID
	}, func(w *world, acc string, st any) error {
		_, err := w.svc.Confirm(context.Background(), binding.Confirmation{AccountID: acc, VerificationID: st.(string), Code: "000000"})
		var wrong *binding.CodeInvalidError
		if errors.As(err, &wrong) {
			return nil
		}
		return err
	}},
}

func TestFaultInjectionKeepsStateConsistent(t *testing.T) {
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			runFlow(t, newWorld(t), f)
		})
	}
}

func runFlow(t *testing.T, w *world, f flow) {
	runs := 0
	// A clean run tells how many calls and sends the flow makes.
	acc := fmt.Sprintf("clean-%d", seq.Add(1))
	st := f.setup(w, acc)
	w.plan.Arm(0, faults.Fail)
	w.send.Arm(0, faults.Fail)
	if err := f.steps(w, acc, st); err != nil {
		t.Fatalf("%s without faults: %v", f.name, err)
	}
	dbCalls, sends := w.plan.Calls(), w.send.Calls()
	w.check(f.name+" clean", acc, numsOf(st), nil)

	for _, target := range []struct {
		plan  *faults.Plan
		calls int
		kinds []faults.Kind
	}{
		{w.plan, dbCalls, []faults.Kind{faults.Fail, faults.Throttle, faults.TimeoutAfter, faults.Cancel}},
		{w.send, sends, []faults.Kind{faults.Fail, faults.TimeoutAfter}},
	} {
		for at := 1; at <= target.calls; at++ {
			for _, kind := range target.kinds {
				acc := fmt.Sprintf("f-%d", seq.Add(1))
				st := f.setup(w, acc)
				w.plan.Arm(0, faults.Fail)
				w.send.Arm(0, faults.Fail)
				target.plan.Arm(at, kind)
				err := f.steps(w, acc, st)
				w.plan.Arm(0, faults.Fail)
				w.send.Arm(0, faults.Fail)
				name := fmt.Sprintf("%s, %s at call %d", f.name, kind, at)
				if target.plan == w.send {
					name = fmt.Sprintf("%s, %s at send %d", f.name, kind, at)
				}
				w.check(name, acc, numsOf(st), err)
				runs++
				w.advance(time.Hour)
			}
		}
	}
	t.Logf("%d faulty runs, all consistent", runs)
}

// check asserts the answer and the table after one run.
func (w *world) check(name, acc string, nums []string, err error) {
	w.t.Helper()
	if err != nil {
		status := httpapi.ErrorResponse(events.APIGatewayV2HTTPRequest{}, err).StatusCode
		if status < 500 {
			// Some faults land where the domain has an honest answer: a
			// commit that went through before its timeout makes the retry
			// see a used code. Anything else blaming the user is wrong.
			if !errors.Is(err, binding.ErrVerificationUsed) {
				w.t.Errorf("%s: answered %d (%v), want a 5xx", name, status, err)
			}
		}
	}
	// The account's items, and the claims on every number the flow used.
	out, qerr := w.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 &w.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ACCOUNT#" + acc}},
		ConsistentRead:            aws.Bool(true),
	})
	if qerr != nil {
		w.t.Fatal(qerr)
	}
	var items []map[string]any
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		w.t.Fatal(err)
	}
	held := ""
	var v map[string]any
	for _, it := range items {
		switch it["type"] {
		case "profile":
			held, _ = it["phone_hmac"].(string)
		case "verification":
			v = it
		}
	}
	for _, n := range nums {
		mac := w.keys.PhoneMAC(n)
		owner, _, gerr := dynamotest.Claims{DB: w.db, Table: w.table}.ClaimOwner(context.Background(), mac)
		if gerr != nil {
			w.t.Fatal(gerr)
		}
		if (held == mac) != (owner == acc) {
			w.t.Errorf("%s: profile holds %v, claim owner %q: a claim without a binding or the reverse", name, held == mac, owner)
		}
	}
	if v == nil || v["state"] != "pending" {
		return
	}
	codeHMAC, _ := v["code_hmac"].(string)
	if codeHMAC == "" {
		return
	}
	id := v["verification_id"].(string)
	carried := false
	for _, m := range w.sender.All() {
		if c := codeRE.FindString(m.Body); c != "" && w.keys.CodeMAC(id, c) == codeHMAC {
			carried = true
		}
	}
	if !carried {
		w.t.Errorf("%s: a working code that no message carries", name)
	}
}

func numsOf(st any) []string {
	if n, ok := st.(numbers); ok {
		return []string{n.first, n.second}
	}
	return nil
}
