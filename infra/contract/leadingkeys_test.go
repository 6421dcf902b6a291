package contract

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/store"
)

// leadingKeys is, for each function, the partition-key prefixes its code
// paths read or write, so the prefixes its table grant must name in
// dynamodb:LeadingKeys (template.yaml; docs/data-model.md "Who may write
// which keys"). Written from the store's key builders, never as literals,
// so a renamed prefix moves the review with it.
func leadingKeys() map[string][]string {
	p := store.PartitionPrefixes
	return map[string][]string{
		// A code request (bind, change, unbind by SMS or e-mail): the
		// verification with the account's counters (and the profile-version
		// check), the claim (only checked: ConditionCheck), the number's
		// counters, the source address's, the range's and the global cap's,
		// and its Idempotency-Key record.
		"RequestCodeFunction": {
			p["account"], p["claim"], p["phoneLimits"],
			store.CounterPrefix(binding.LimitIPHour), store.CounterPrefix(binding.LimitPrefixDay),
			store.CounterPrefix(binding.LimitGlobalDay), p["idempotency"],
		},
		// A confirm: the attempt, the wrong-code counters (the account's on
		// its verification item, the number's), the profile, history, the
		// new number's claim and the old one's release.
		"ConfirmCodeFunction": {p["account"], p["claim"], p["phoneLimits"], p["idempotency"]},
		// An unbind by code and the support_unbind ops action: the same
		// items as a confirm (the claim is released, not taken).
		// erase_account adds the tickets (moved, stripped, with their id
		// reservations) and the daily ticket counter; GET /v1/phone/data
		// reads the account's partition and its tickets.
		"UnbindFunction": {
			p["account"], p["claim"], p["phoneLimits"], p["idempotency"],
			p["tickets"], p["ticketRef"], store.CounterPrefix(feedback.LimitDaily),
		},
		// The account's partition, read with one Query.
		"StatusFunction": {p["account"]},
		// A portal service's read: the profile, the settings, the partner's
		// request, the access log entry, all in the account's partition.
		"PhoneReadFunction": {p["account"]},
		// Tickets, their id reservations, the daily ticket counter and the
		// Idempotency-Key records; update_ticket touches the first two.
		"FeedbackFunction": {p["tickets"], p["ticketRef"], store.CounterPrefix(feedback.LimitDaily), p["idempotency"]},
	}
}

// readOnlyFunctions may only read, whatever their prefixes.
var readOnlyFunctions = []string{"StatusFunction"}

// readActions are the table actions that change nothing.
var readActions = []string{"dynamodb:GetItem", "dynamodb:Query"}

// keysGoPrefixes evaluates the prefix* string constants of
// shared/store/keys.go (string literals and concatenations of them), so
// that the review below stays tied to the file that builds the keys.
func keysGoPrefixes(t *testing.T) map[string]string {
	t.Helper()
	path := filepath.Join(root(t), "shared", "store", "keys.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	exprs := declared([]*ast.File{f}, token.CONST)
	var eval func(e ast.Expr) string
	eval = func(e ast.Expr) string {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			if err != nil {
				t.Fatalf("keys.go: %s: %v", e.Value, err)
			}
			return s
		case *ast.Ident:
			v, ok := exprs[e.Name]
			if !ok {
				t.Fatalf("keys.go: constant %s not found", e.Name)
			}
			return eval(v)
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				return eval(e.X) + eval(e.Y)
			}
		}
		t.Fatalf("keys.go: a prefix constant is not a string literal or a concatenation of them")
		return ""
	}
	out := map[string]string{}
	for name, e := range exprs {
		if strings.HasPrefix(name, "prefix") {
			out[name] = eval(e)
		}
	}
	if len(out) == 0 {
		t.Fatal("keys.go declares no prefix* constants")
	}
	return out
}

// TestPartitionPrefixesAreKeysGo checks that store.PartitionPrefixes, which
// the review uses, lists exactly keys.go's prefix constants.
func TestPartitionPrefixesAreKeysGo(t *testing.T) {
	var fromFile, exported []string
	for _, v := range keysGoPrefixes(t) {
		fromFile = append(fromFile, v)
	}
	for _, v := range store.PartitionPrefixes {
		exported = append(exported, v)
	}
	sort.Strings(fromFile)
	sort.Strings(exported)
	if !slices.Equal(fromFile, exported) {
		t.Errorf("store.PartitionPrefixes = %v, keys.go's prefix constants = %v: keep them the same", exported, fromFile)
	}
}

// tableStatement is one statement on the table: its effect, actions and,
// when it has one, its LeadingKeys condition.
type tableStatement struct {
	where       string
	effect      string
	actions     []string
	leadingKeys []string
	hasLeading  bool
	otherCond   bool
}

// tableStatements collects the statements of fn's Policies whose Resource is
// the table itself.
func tableStatements(t *testing.T, props map[string]any, fn string) []tableStatement {
	t.Helper()
	var out []tableStatement
	for _, p := range template.OneOrMany(props["Policies"]) {
		doc, _ := p.(map[string]any)
		for j, s := range template.OneOrMany(doc["Statement"]) {
			st, _ := s.(map[string]any)
			onTable := false
			for _, r := range template.OneOrMany(st["Resource"]) {
				if template.Render(r) == tableArn {
					onTable = true
				}
			}
			if !onTable {
				continue
			}
			ts := tableStatement{where: fn + " Statement[" + strconv.Itoa(j) + "]", effect: template.Render(st["Effect"])}
			for _, a := range template.OneOrMany(st["Action"]) {
				ts.actions = append(ts.actions, template.Render(a))
			}
			cond, _ := st["Condition"].(map[string]any)
			for op, body := range cond {
				m, _ := body.(map[string]any)
				for k, v := range m {
					if op == "ForAllValues:StringLike" && k == "dynamodb:LeadingKeys" {
						ts.hasLeading = true
						for _, x := range template.OneOrMany(v) {
							ts.leadingKeys = append(ts.leadingKeys, template.Render(x))
						}
					} else {
						ts.otherCond = true
					}
				}
			}
			out = append(out, ts)
		}
	}
	return out
}

// TestLeadingKeys checks that every function's table grant is limited by
// dynamodb:LeadingKeys (ForAllValues:StringLike) to exactly the partition
// keys its code writes and reads: each pattern a keys.go prefix (or a
// counter's LIMIT#<name>#) followed by "*", no list empty, the feedback
// function kept off profiles and claims, status read-only. Removing the
// condition, or widening a list, fails here.
func TestLeadingKeys(t *testing.T) {
	tpl := loadTemplate(t)
	want := leadingKeys()
	known := map[string]bool{}
	for _, v := range store.PartitionPrefixes {
		known[v] = true
	}
	for _, name := range []string{binding.LimitIPHour, binding.LimitPrefixDay, binding.LimitGlobalDay, feedback.LimitDaily} {
		known[store.CounterPrefix(name)] = true
	}
	p := store.PartitionPrefixes
	seen := map[string]bool{}
	for _, res := range tpl.Resources() {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		fn := res.ID
		wantPrefixes, ok := want[fn]
		sts := tableStatements(t, res.Properties, fn)
		if !ok {
			if len(sts) > 0 {
				t.Errorf("%s has table statements but no entry in leadingKeys: list the partition-key prefixes its code uses", fn)
			}
			continue
		}
		if len(sts) == 0 {
			t.Errorf("%s has no statement on the table, but leadingKeys lists prefixes for it", fn)
		}
		for _, st := range sts {
			seen[fn] = true
			if st.effect != "Allow" {
				continue
			}
			if !st.hasLeading {
				t.Errorf("%s allows %v on the whole table: it needs a ForAllValues:StringLike dynamodb:LeadingKeys condition", st.where, st.actions)
				continue
			}
			if st.otherCond {
				t.Errorf("%s: a condition beside LeadingKeys; extend this review before adding one", st.where)
			}
			if len(st.leadingKeys) == 0 {
				t.Errorf("%s: empty LeadingKeys list", st.where)
			}
			var got []string
			for _, pattern := range st.leadingKeys {
				prefix, ok := strings.CutSuffix(pattern, "*")
				if !ok || strings.ContainsAny(prefix, "*?") {
					t.Errorf("%s: LeadingKeys pattern %q must be a prefix followed by one *", st.where, pattern)
					continue
				}
				if !known[prefix] {
					t.Errorf("%s: LeadingKeys prefix %q is not one shared/store/keys.go builds", st.where, prefix)
				}
				got = append(got, prefix)
			}
			if fn == "FeedbackFunction" {
				for _, g := range got {
					for _, banned := range []string{p["account"], p["claim"]} {
						if strings.HasPrefix(banned, g) || strings.HasPrefix(g, banned) {
							t.Errorf("%s: feedback may not reach %s items (prefix %q)", st.where, banned, g)
						}
					}
				}
			}
			if slices.Contains(readOnlyFunctions, fn) {
				for _, a := range st.actions {
					if !slices.Contains(readActions, a) {
						t.Errorf("%s: %s only reads, but is allowed %s", st.where, fn, a)
					}
				}
			}
			w := slices.Clone(wantPrefixes)
			sort.Strings(got)
			sort.Strings(w)
			if !slices.Equal(got, w) {
				t.Errorf("%s: LeadingKeys %v, want %v (the prefixes its code paths use: leadingKeys in this file)", st.where, got, w)
			}
		}
	}
	for fn := range want {
		if !seen[fn] {
			t.Errorf("leadingKeys names %s, which has no table statement in template.yaml", fn)
		}
	}
}
