package rehearsal

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/infra/template"
)

// checkTable: keys, the tickets index, TTL, point-in-time recovery,
// on-demand billing and encryption under the stack's key.
func checkTable(t *testing.T, m *moto, tr map[string]any, table string) {
	t.Helper()
	var d struct {
		Table struct {
			KeySchema []struct {
				AttributeName string
				KeyType       string
			}
			BillingModeSummary     struct{ BillingMode string }
			GlobalSecondaryIndexes []struct {
				IndexName string
				KeySchema []struct {
					AttributeName string
					KeyType       string
				}
			}
			DeletionProtectionEnabled bool
		}
	}
	m.json("dynamodb", "DynamoDB_20120810.DescribeTable", "1.0", map[string]string{"TableName": table}, &d)
	keys := func(ks []struct {
		AttributeName string
		KeyType       string
	}) string {
		var parts []string
		for _, k := range ks {
			parts = append(parts, k.AttributeName+" "+k.KeyType)
		}
		return strings.Join(parts, ", ")
	}
	if got := keys(d.Table.KeySchema); got != "pk HASH, sk RANGE" {
		t.Errorf("table keys %s", got)
	}
	if d.Table.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("billing %q", d.Table.BillingModeSummary.BillingMode)
	}
	if len(d.Table.GlobalSecondaryIndexes) != 2 || d.Table.GlobalSecondaryIndexes[0].IndexName != "TicketsByStatus" ||
		keys(d.Table.GlobalSecondaryIndexes[0].KeySchema) != "ticket_status HASH, created_at RANGE" ||
		d.Table.GlobalSecondaryIndexes[1].IndexName != "HoldsDue" ||
		keys(d.Table.GlobalSecondaryIndexes[1].KeySchema) != "hold_due HASH, unbind_at RANGE" {
		t.Errorf("indexes %+v", d.Table.GlobalSecondaryIndexes)
	}
	if !d.Table.DeletionProtectionEnabled {
		t.Error("deletion protection is off in prod")
	}
	// moto's table model ignores these properties (the table comes up
	// without them), so they are checked as translated.
	props := tr["PhoneBindingTable"].(map[string]any)["Properties"].(map[string]any)
	for name, want := range tableProperties {
		if got := compactJSON(props[name]); got != want {
			t.Errorf("PhoneBindingTable %s = %s, want %s", name, got, want)
		}
	}
}

// tableProperties are the table's properties moto 5.2's CloudFormation
// drops (DescribeTimeToLive, DescribeContinuousBackups and the table's
// SSEDescription come back empty), with what they must be.
var tableProperties = map[string]string{
	"TimeToLiveSpecification":          `{"AttributeName":"ttl","Enabled":true}`,
	"PointInTimeRecoverySpecification": `{"PointInTimeRecoveryEnabled":true}`,
	"SSESpecification":                 `{"KMSMasterKeyId":{"Fn::GetAtt":["TableKey","Arn"]},"SSEEnabled":true,"SSEType":"KMS"}`,
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkTopicsAndKey: the events topic under the SNS managed key, the alarm
// topic, and the table key enabled, rotating and aliased.
func checkTopicsAndKey(t *testing.T, m *moto, stack string, physical map[string]string) {
	t.Helper()
	attrs := func(arn string) map[string]string {
		var out struct {
			Entries []struct {
				Key   string `xml:"key"`
				Value string `xml:"value"`
			} `xml:"GetTopicAttributesResult>Attributes>entry"`
		}
		if err := xml.Unmarshal(m.query("sns", "2010-03-31", "GetTopicAttributes", map[string]string{"TopicArn": arn}), &out); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range out.Entries {
			got[e.Key] = e.Value
		}
		return got
	}
	if a := attrs(physical["EventsTopic"]); a["KmsMasterKeyId"] != "alias/aws/sns" || !strings.HasSuffix(physical["EventsTopic"], ":"+stack+"-events") {
		t.Errorf("events topic %s: %v", physical["EventsTopic"], a)
	}
	if a := attrs(physical["AlarmTopic"]); a["DisplayName"] != "phonebind alarms" {
		t.Errorf("alarm topic %s: %v", physical["AlarmTopic"], a)
	}
	// DescribeKey is not used: moto's CloudFormation stores the key policy
	// as an object and its own DescribeKey then fails reading it.
	var keys struct{ Keys []struct{ KeyId string } }
	m.json("kms", "TrentService.ListKeys", "1.1", map[string]string{}, &keys)
	if !slices.ContainsFunc(keys.Keys, func(k struct{ KeyId string }) bool { return k.KeyId == physical["TableKey"] }) {
		t.Errorf("the table key %s is not in the account's keys", physical["TableKey"])
	}
	var rot struct{ KeyRotationEnabled bool }
	m.json("kms", "TrentService.GetKeyRotationStatus", "1.1", map[string]string{"KeyId": physical["TableKey"]}, &rot)
	if !rot.KeyRotationEnabled {
		t.Error("the table key does not rotate")
	}
	var aliases struct {
		Aliases []struct{ AliasName, TargetKeyId string }
	}
	m.json("kms", "TrentService.ListAliases", "1.1", map[string]string{"KeyId": physical["TableKey"]}, &aliases)
	if !slices.ContainsFunc(aliases.Aliases, func(a struct{ AliasName, TargetKeyId string }) bool {
		return a.AliasName == "alias/"+stack+"-table"
	}) {
		t.Errorf("the table key's aliases %+v lack alias/%s-table", aliases.Aliases, stack)
	}
}

// statementsOf renders a policy document's statements (Sid, effect,
// actions) for comparison between what was declared and what IAM holds.
func statementsOf(t *testing.T, doc any) []string {
	t.Helper()
	var out []string
	d, _ := doc.(map[string]any)
	for _, s := range template.OneOrMany(d["Statement"]) {
		st, _ := s.(map[string]any)
		var actions []string
		for _, a := range template.OneOrMany(st["Action"]) {
			actions = append(actions, a.(string))
		}
		slices.Sort(actions)
		out = append(out, st["Sid"].(string)+" "+st["Effect"].(string)+" "+strings.Join(actions, ","))
	}
	slices.Sort(out)
	return out
}

// pythonRepr turns the Python repr moto's CloudFormation stores a role's
// inline policy as ({'Sid': 'X', 'Enabled': True}) into JSON; the policy
// documents here hold no apostrophes.
var pythonRepr = strings.NewReplacer("'", `"`, "True", "true", "False", "false", "None", "null")

// iamDocument decodes a policy document as IAM returns it (URL-encoded
// JSON), and checks every intrinsic was resolved.
func iamDocument(t *testing.T, raw string) any {
	t.Helper()
	if dec, err := url.QueryUnescape(raw); err == nil {
		raw = dec
	}
	if strings.HasPrefix(raw, "{'") {
		raw = pythonRepr.Replace(raw)
	}
	if strings.Contains(raw, "Fn::") || strings.Contains(raw, `"Ref"`) || strings.Contains(raw, "unsupported:") {
		t.Errorf("a policy document came up with an unresolved reference: %s", raw)
	}
	var doc any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("policy document %q: %v", raw, err)
	}
	return doc
}

// checkRoles: every function's role with its inline policy, statement for
// statement as translated, and the managed policies SAM attaches.
func checkRoles(t *testing.T, m *moto, tr map[string]any, physical map[string]string) {
	t.Helper()
	for id, r := range tr {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::Role" {
			continue
		}
		props := res["Properties"].(map[string]any)
		role := physical[id]
		// moto's role model ignores ManagedPolicyArns: checked as translated.
		if got := compactJSON(props["ManagedPolicyArns"]); got != `["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole","arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"]` {
			t.Errorf("role %s managed policies %s, want the Lambda basic execution and X-Ray write policies only", id, got)
		}
		if arn := first(xmlValues(m.query("iam", "2010-05-08", "GetRole", map[string]string{"RoleName": role}), "Arn")); !strings.HasSuffix(arn, ":role/"+role) {
			t.Errorf("role %s: GetRole %s answered %q", id, role, arn)
		}
		for _, p := range template.OneOrMany(props["Policies"]) {
			pol := p.(map[string]any)
			name := pol["PolicyName"].(string)
			out := m.query("iam", "2010-05-08", "GetRolePolicy", map[string]string{"RoleName": role, "PolicyName": name})
			got := statementsOf(t, iamDocument(t, first(xmlValues(out, "PolicyDocument"))))
			if want := statementsOf(t, pol["PolicyDocument"]); !slices.Equal(got, want) {
				t.Errorf("role %s policy %s holds\n  %v\nwant\n  %v", id, name, got, want)
			}
		}
	}
}

// checkOperatorPolicy: the support staff's managed policy exists with the
// declared statements.
func checkOperatorPolicy(t *testing.T, m *moto, tr map[string]any, physical map[string]string) {
	t.Helper()
	arn := physical["OperatorPolicy"]
	out := m.query("iam", "2010-05-08", "GetPolicy", map[string]string{"PolicyArn": arn})
	version := first(xmlValues(out, "DefaultVersionId"))
	out = m.query("iam", "2010-05-08", "GetPolicyVersion", map[string]string{"PolicyArn": arn, "VersionId": version})
	got := statementsOf(t, iamDocument(t, first(xmlValues(out, "Document"))))
	want := statementsOf(t, tr["OperatorPolicy"].(map[string]any)["Properties"].(map[string]any)["PolicyDocument"])
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("OperatorPolicy %s holds\n  %v\nwant\n  %v", arn, got, want)
	}
}

// checkFunctions: each function's runtime, architecture, handler, tracing,
// role and environment, with the parameters and resources resolved.
func checkFunctions(t *testing.T, m *moto, declared *template.Template, tr map[string]any, physical map[string]string, secretARN string) {
	t.Helper()
	globals := declared.Section("Globals")["Function"].(map[string]any)
	declaredEnv := globals["Environment"].(map[string]any)["Variables"].(map[string]any)
	for _, r := range declared.Resources() {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		var fn struct {
			Configuration struct {
				Runtime, Handler, Role string
				// Variables are any: moto keeps a Number parameter's value a
				// number (AWS makes every value a string).
				Environment struct{ Variables map[string]any }
			}
		}
		if err := json.Unmarshal(m.rest("lambda", "GET", "/2015-03-31/functions/"+physical[r.ID], nil), &fn); err != nil {
			t.Fatal(err)
		}
		c := fn.Configuration
		if c.Runtime != "provided.al2023" || c.Handler != "bootstrap" {
			t.Errorf("%s: runtime %s, handler %s", r.ID, c.Runtime, c.Handler)
		}
		// moto's function model ignores Architectures and TracingConfig
		// (it reports x86_64 and PassThrough): checked as translated.
		props := tr[r.ID].(map[string]any)["Properties"].(map[string]any)
		if a, tc := compactJSON(props["Architectures"]), compactJSON(props["TracingConfig"]); a != `["arm64"]` || tc != `{"Mode":"Active"}` {
			t.Errorf("%s: architectures %s, tracing %s", r.ID, a, tc)
		}
		if !strings.HasSuffix(c.Role, "/"+physical[r.ID+"Role"]) {
			t.Errorf("%s runs as %s, want its role %s", r.ID, c.Role, physical[r.ID+"Role"])
		}
		env := map[string]string{}
		for k, v := range c.Environment.Variables {
			env[k] = fmt.Sprint(v)
		}
		for name := range declaredEnv {
			if _, ok := env[name]; !ok {
				t.Errorf("%s lacks %s", r.ID, name)
			}
		}
		for name, want := range map[string]string{
			"TABLE_NAME":           physical["PhoneBindingTable"],
			"EVENTS_TOPIC_ARN":     physical["EventsTopic"],
			"KEYS_SECRET_ARN":      secretARN,
			"EMAIL_FROM":           "no-reply@gosuslugi.ru",
			"TEST_PHONE_NUMBERS":   "", // Stage prod keeps them out
			"CODES_PER_PREFIX_DAY": "10",
			"CODES_PER_IP_HOUR":    "20",
			"RESEND_COOLDOWN":      "60s",
		} {
			if env[name] != want {
				t.Errorf("%s: %s = %q, want %q", r.ID, name, env[name], want)
			}
		}
	}
}

// checkLogsAndDashboard: every log group with its retention, and the
// dashboard with a JSON body.
func checkLogsAndDashboard(t *testing.T, m *moto, stack string, physical map[string]string) {
	t.Helper()
	var groups struct {
		LogGroups []struct {
			LogGroupName    string `json:"logGroupName"`
			RetentionInDays int    `json:"retentionInDays"`
		} `json:"logGroups"`
	}
	m.json("logs", "Logs_20140328.DescribeLogGroups", "1.1", map[string]string{"logGroupNamePrefix": "/aws/"}, &groups)
	for _, id := range []string{"RequestCodeLogGroup", "ConfirmCodeLogGroup", "StatusLogGroup", "UnbindLogGroup", "FeedbackLogGroup", "HttpApiAccessLogGroup"} {
		found := false
		for _, g := range groups.LogGroups {
			if g.LogGroupName == physical[id] {
				found = true
				if g.RetentionInDays != 90 {
					t.Errorf("%s keeps logs %d days, want LogRetentionDays' default 90", id, g.RetentionInDays)
				}
			}
		}
		if !found || !strings.Contains(physical[id], "/"+stack+"/") {
			t.Errorf("log group %s (%s) is not there", id, physical[id])
		}
	}
	out := m.query("monitoring", "2010-08-01", "GetDashboard", map[string]string{"DashboardName": physical["Dashboard"]})
	var body struct{ Widgets []any }
	if err := json.Unmarshal([]byte(first(xmlValues(out, "DashboardBody"))), &body); err != nil || len(body.Widgets) < 10 {
		t.Errorf("dashboard %s: %d widgets, %v", physical["Dashboard"], len(body.Widgets), err)
	}
}

// checkOutputs: the outputs the runbook and make smoke read name the
// stack's own resources.
func checkOutputs(t *testing.T, m *moto, stack string, physical map[string]string) {
	t.Helper()
	out := m.query("cloudformation", "2010-05-15", "DescribeStacks", map[string]string{"StackName": stack})
	keys, values := xmlValues(out, "OutputKey"), xmlValues(out, "OutputValue")
	got := map[string]string{}
	for i := range keys {
		if i < len(values) {
			got[keys[i]] = values[i]
		}
	}
	for output, id := range map[string]string{
		"RequestCodeFunctionName": "RequestCodeFunction", "ConfirmCodeFunctionName": "ConfirmCodeFunction",
		"StatusFunctionName": "StatusFunction", "UnbindFunctionName": "UnbindFunction",
		"FeedbackFunctionName": "FeedbackFunction", "TableName": "PhoneBindingTable",
		"EventsTopicArn": "EventsTopic", "AlarmTopicArn": "AlarmTopic", "OperatorPolicyArn": "OperatorPolicy",
	} {
		if got[output] == "" || got[output] != physical[id] {
			t.Errorf("output %s = %q, want %s's %q", output, got[output], id, physical[id])
		}
	}
}
