package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/ops"
)

type dueCompleter struct {
	report binding.DueReport
	err    error
	runs   int
}

func (d *dueCompleter) CompleteDueUnbinds(context.Context) (binding.DueReport, error) {
	d.runs++
	return d.report, d.err
}

// TestCompleteDueUnbindsAction: the schedule's event runs the job and
// answers what it did; an event without an operator, or with a field the
// action does not know, runs nothing; a failing account is reported, not
// an error; a run that could not list is an error (Lambda reports it, the
// next minute's run tries again).
func TestCompleteDueUnbindsAction(t *testing.T) {
	svc := &dueCompleter{report: binding.DueReport{Listed: 3, Completed: 2, Gone: 1}}
	h := ops.Function(nil, map[string]ops.Action{"complete_due_unbinds": ops.CompleteDueUnbinds(svc, nil)}, nil)
	run := func(ev string) ops.Result {
		t.Helper()
		out, err := h(context.Background(), json.RawMessage(ev))
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		return out.(ops.Result)
	}
	// The sample event, as `make invoke` and the console's Test tab send it.
	sample, err := os.ReadFile("../../infra/events/complete-due-unbinds.json")
	if err != nil {
		t.Fatal(err)
	}
	r := run(string(sample))
	got, _ := json.Marshal(r.Result)
	if !r.OK || string(got) != `{"listed":3,"completed":2,"gone":1,"failed":0,"left":0,"message":"every due removal is completed"}` || svc.runs != 1 {
		t.Fatalf("result %+v %s after %d runs", r, got, svc.runs)
	}
	for _, ev := range []string{`{"action":"complete_due_unbinds"}`, `{"action":"complete_due_unbinds","operator":"o","account_id":"a"}`} {
		if r := run(ev); r.OK || r.Error == nil || r.Error.Code != "invalid_event" || svc.runs != 1 {
			t.Fatalf("%s: %+v after %d runs", ev, r, svc.runs)
		}
	}
	// One failing account fails no run: the others were seen to, the
	// service logged and counted it, the next run tries it again.
	svc.report, svc.err = binding.DueReport{Listed: 3, Completed: 2, Failed: 1}, errors.New("complete due unbind: throttled")
	r = run(`{"action":"complete_due_unbinds","operator":"schedule"}`)
	got, _ = json.Marshal(r.Result)
	if !r.OK || string(got) != `{"listed":3,"completed":2,"gone":0,"failed":1,"left":0,"message":"some due removals are left to the next run"}` {
		t.Fatalf("one account failing: %+v %s", r, got)
	}
	svc.report, svc.err = binding.DueReport{}, errors.New("query due holds: throttled")
	if _, err := h(context.Background(), json.RawMessage(`{"action":"complete_due_unbinds","operator":"schedule"}`)); err == nil {
		t.Fatal("a run that listed nothing for an error reported no error")
	}
}
