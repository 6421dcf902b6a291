package contract

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/infra/template"
)

// Grants each function is allowed, one line per effect, action and
// resource (and condition): what a reviewer approved. The test fails both
// for a grant missing here (wider than reviewed) and for a line here the
// template no longer grants (so the list never overstates what a function
// can do). Intrinsics are written in their short form.
//
// Not covered, because SAM attaches them outside the template's Policies:
// the AWS managed AWSLambdaBasicExecutionRole (logs:CreateLogGroup,
// logs:CreateLogStream, logs:PutLogEvents) and, with Tracing: Active,
// AWSXrayWriteOnlyAccess (X-Ray writes), both on "*" and write-only.
const (
	tableArn       = "!GetAtt PhoneBindingTable.Arn"
	tableKey       = "kms:Decrypt on !GetAtt TableKey.Arn if {StringEquals: {kms:ViaService: !Sub dynamodb.${AWS::Region}.amazonaws.com}}"
	keySecret      = "secretsmanager:GetSecretValue on !Ref KeysSecretArn"
	toEvents       = "sns:Publish on !Ref EventsTopic"
	smsToAnyNumber = "sns:Publish on *"
	// noTopics is the Deny that every function allowed smsToAnyNumber
	// carries beside it, so that the "*" reaches phone numbers only.
	noTopics = "Deny sns:Publish on !Sub arn:${AWS::Partition}:sns:*:*:*"
)

// tableGrants are actions on the whole table, for the operators' reads.
func tableGrants(actions ...string) []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = "Allow dynamodb:" + a + " on " + tableArn
	}
	return out
}

// ownKeys are a function's actions on the table, each only on the
// partition-key prefixes leadingKeys (leadingkeys_test.go) gives it.
func ownKeys(fn string, actions ...string) []string {
	patterns := make([]string, 0, len(leadingKeys()[fn]))
	for _, p := range leadingKeys()[fn] {
		patterns = append(patterns, p+"*")
	}
	cond := " if {ForAllValues:StringLike: {dynamodb:LeadingKeys: [" + strings.Join(patterns, ", ") + "]}}"
	out := tableGrants(actions...)
	for i := range out {
		out[i] += cond
	}
	return out
}

var allowList = map[string][]string{
	"RequestCodeFunction": slices.Concat(
		ownKeys("RequestCodeFunction", "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"),
		[]string{
			"Allow " + smsToAnyNumber,
			noTopics,
			"Allow ses:SendEmail on !Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${EmailIdentity} if {StringEquals: {ses:FromAddress: !Ref EmailFrom}}",
			"Allow " + keySecret,
			"Allow " + tableKey,
		}),
	"ConfirmCodeFunction": slices.Concat(
		ownKeys("ConfirmCodeFunction", "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"),
		[]string{
			"Allow lambda:InvokeFunction on !GetAtt AlertFunction.Arn",
			"Allow " + toEvents,
			"Allow " + keySecret,
			"Allow " + tableKey,
		}),
	// confirm-code's and unbind's alerts, by SMS only: no table, no secret, no
	// topic.
	"AlertFunction": {
		"Allow " + smsToAnyNumber,
		noTopics,
	},
	"UnbindFunction": slices.Concat(
		ownKeys("UnbindFunction", "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"),
		[]string{
			"Allow lambda:InvokeFunction on !GetAtt AlertFunction.Arn",
			// complete_due_unbinds lists the due holds (keys only).
			"Allow dynamodb:Query on !Sub ${PhoneBindingTable.Arn}/index/HoldsDue",
			"Allow " + toEvents,
			"Allow ses:SendEmail on !Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${EmailIdentity} if {StringEquals: {ses:FromAddress: !Ref EmailFrom}}",
			"Allow " + keySecret,
			"Allow " + tableKey,
		}),
	"StatusFunction": slices.Concat(
		ownKeys("StatusFunction", "Query"),
		[]string{
			"Allow " + tableKey,
		}),
	"FeedbackFunction": slices.Concat(
		ownKeys("FeedbackFunction", "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"),
		[]string{
			"Allow " + toEvents,
			"Allow " + keySecret,
			"Allow " + tableKey,
		}),
	// Portal services' reads (SPEC §4.8): the account's profile, settings
	// and partner request read in one BatchGetItem, the access log and a
	// new request written (Put, ConditionCheck in the transaction), the
	// number opened with the key ring, phone.access_requested published.
	"PhoneReadFunction": slices.Concat(
		ownKeys("PhoneReadFunction", "BatchGetItem", "PutItem", "ConditionCheckItem"),
		[]string{
			"Allow " + toEvents,
			"Allow " + keySecret,
			"Allow " + tableKey,
		}),
	// What a portal service's role attaches: invoking the read, nothing
	// else (not GetFunction: no console, no code).
	"PhoneReadInvokePolicy": {
		"Allow lambda:InvokeFunction on !GetAtt PhoneReadFunction.Arn",
	},
	// Support staff: the ops events, reading the table and its tickets
	// index in the console, and the table's key only through DynamoDB. No
	// secret, no write but through the functions.
	"OperatorPolicy": slices.Concat(
		tableGrants("DescribeTable", "GetItem", "Query"),
		[]string{
			"Allow lambda:InvokeFunction on !GetAtt UnbindFunction.Arn",
			"Allow lambda:InvokeFunction on !GetAtt FeedbackFunction.Arn",
			"Allow lambda:GetFunction on !GetAtt UnbindFunction.Arn",
			"Allow lambda:GetFunction on !GetAtt FeedbackFunction.Arn",
			"Allow dynamodb:Query on !Sub ${PhoneBindingTable.Arn}/index/TicketsByStatus",
			"Allow " + tableKey,
		}),
}

// starResource is the one place Resource "*" may appear: a statement with
// this Sid, allowing sns:Publish alone, in these functions (template.yaml
// explains why above RequestCodeFunction).
const starResourceSid = "SmsToPhoneNumbers"

var starResourceFunctions = []string{"RequestCodeFunction", "AlertFunction"}

// TestFunctionPoliciesAllowList checks every IAM grant in template.yaml,
// the functions' Policies and the operators' managed policy: inline
// statements only, no wildcard in any action, no NotAction/NotResource,
// Resource "*" only in the documented SMS statements, and exactly the
// grants of allowList.
func TestFunctionPoliciesAllowList(t *testing.T) {
	tpl := loadTemplate(t)
	seen := map[string]bool{}
	for _, res := range tpl.Resources() {
		var docs []any
		switch {
		case res.Type == "AWS::IAM::ManagedPolicy":
			for _, k := range []string{"Roles", "Users", "Groups"} {
				if res.Properties[k] != nil {
					t.Errorf("%s attaches itself (%s): the operators' policy is attached by whoever runs support, outside the stack", res.ID, k)
				}
			}
			docs = []any{res.Properties["PolicyDocument"]}
		case strings.HasPrefix(res.Type, "AWS::IAM::"):
			t.Errorf("%s is %s: this test reviews functions' Policies and managed policies; extend it before adding other IAM resources", res.ID, res.Type)
			continue
		case res.Type == "AWS::Serverless::Function":
			if res.Properties["Role"] != nil {
				t.Errorf("%s sets Role: its permissions would escape this review", res.ID)
			}
			docs = template.OneOrMany(res.Properties["Policies"])
		default:
			continue
		}
		fn := res.ID
		seen[fn] = true
		want, reviewed := allowList[fn]
		if !reviewed {
			t.Errorf("%s has no entry in allowList: review its grants and add them", fn)
		}
		var got []string
		for i, p := range docs {
			doc, ok := p.(map[string]any)
			if !ok || doc["Statement"] == nil {
				t.Errorf("%s Policies[%d] = %s: only inline policy documents (no managed policy ARNs, no SAM policy templates)", fn, i, template.Render(p))
				continue
			}
			for j, s := range template.OneOrMany(doc["Statement"]) {
				st, _ := s.(map[string]any)
				where := fmt.Sprintf("%s Policies[%d].Statement[%d] (%v)", fn, i, j, st["Sid"])
				effect := fmt.Sprint(st["Effect"])
				if effect != "Allow" && effect != "Deny" {
					t.Errorf("%s: Effect %q", where, effect)
				}
				for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
					if st[k] != nil {
						t.Errorf("%s: %s is not allowed (it grants by exclusion)", where, k)
					}
				}
				actions, resources := template.OneOrMany(st["Action"]), template.OneOrMany(st["Resource"])
				if len(actions) == 0 || len(resources) == 0 {
					t.Errorf("%s: needs Action and Resource", where)
				}
				cond := ""
				if st["Condition"] != nil {
					cond = " if " + template.Render(st["Condition"])
				}
				for _, a := range actions {
					action := template.Render(a)
					if strings.Contains(action, "*") {
						t.Errorf("%s: action %q has a wildcard; name the actions", where, action)
					}
					for _, r := range resources {
						resource := template.Render(r)
						if resource == "*" && effect == "Allow" {
							ok := st["Sid"] == starResourceSid && action == "sns:Publish" && len(actions) == 1 &&
								slices.Contains(starResourceFunctions, fn)
							if !ok {
								t.Errorf("%s: Resource \"*\" is allowed only for sns:Publish to phone numbers (Sid %s in %v)", where, starResourceSid, starResourceFunctions)
							}
						}
						got = append(got, effect+" "+action+" on "+resource+cond)
					}
				}
			}
		}
		if !reviewed {
			continue
		}
		sort.Strings(got)
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("%s grants %q, which allowList does not approve", fn, g)
			}
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("allowList approves %q for %s, which the template no longer grants: remove it", w, fn)
			}
		}
	}
	for fn := range allowList {
		if !seen[fn] {
			t.Errorf("allowList names %s, which template.yaml does not define", fn)
		}
	}
}

// TestSMSNeverReachesTopics checks that every function allowed to publish
// SMS to any number (Resource "*") also carries the explicit Deny on every
// SNS ARN, and that the events topic is published to only by the functions
// that publish events, and never by one that sends SMS: a function that
// may reach a topic cannot carry the Deny, so it must not hold the "*".
func TestSMSNeverReachesTopics(t *testing.T) {
	tpl := loadTemplate(t)
	publishers := []string{"ConfirmCodeFunction", "UnbindFunction", "FeedbackFunction", "PhoneReadFunction"}
	for _, res := range tpl.Resources() {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		var sms, deny, events bool
		for _, p := range template.OneOrMany(res.Properties["Policies"]) {
			doc, _ := p.(map[string]any)
			for _, s := range template.OneOrMany(doc["Statement"]) {
				st, _ := s.(map[string]any)
				actions := template.OneOrMany(st["Action"])
				if !slices.ContainsFunc(actions, func(a any) bool { return template.Render(a) == "sns:Publish" }) {
					continue
				}
				for _, r := range template.OneOrMany(st["Resource"]) {
					line := fmt.Sprint(st["Effect"]) + " sns:Publish on " + template.Render(r)
					switch {
					case line == "Allow "+smsToAnyNumber:
						sms = true
					case line == noTopics && st["Condition"] == nil:
						deny = true
					case line == "Allow "+toEvents:
						events = true
					}
				}
			}
		}
		if sms && !deny {
			t.Errorf("%s may publish SMS to any number without the Deny on topic ARNs (%s): its \"*\" reaches every topic", res.ID, noTopics)
		}
		if sms && events {
			t.Errorf("%s both sends SMS and publishes to EventsTopic: the Deny on topics cannot sit beside the events grant, so send its SMS through AlertFunction", res.ID)
		}
		if events != slices.Contains(publishers, res.ID) {
			t.Errorf("%s: publishes to EventsTopic = %v, want %v (only %v publish events)", res.ID, events, !events, publishers)
		}
	}
}

// TestServicePrincipalsScopedToAccount checks every resource policy in the
// template (a KMS key policy, or any Policy/PolicyDocument that names a
// Principal): a statement that allows an AWS service principal carries
// aws:SourceAccount, so that the service acts on it only on behalf of this
// account (the confused deputy).
func TestServicePrincipalsScopedToAccount(t *testing.T) {
	tpl := loadTemplate(t)
	checked := 0
	for _, res := range tpl.Resources() {
		for _, k := range []string{"KeyPolicy", "PolicyDocument", "Policy"} {
			doc, ok := res.Properties[k].(map[string]any)
			if !ok {
				continue
			}
			for j, s := range template.OneOrMany(doc["Statement"]) {
				st, _ := s.(map[string]any)
				principal, _ := st["Principal"].(map[string]any)
				if principal["Service"] == nil || st["Effect"] != "Allow" {
					continue
				}
				checked++
				cond, _ := st["Condition"].(map[string]any)
				eq, _ := cond["StringEquals"].(map[string]any)
				if got := template.Render(eq["aws:SourceAccount"]); got != "!Ref AWS::AccountId" {
					t.Errorf("%s %s Statement[%d] (%v) lets %s act without StringEquals aws:SourceAccount = !Ref AWS::AccountId (got %q)",
						res.ID, k, j, st["Sid"], template.Render(principal["Service"]), got)
				}
			}
		}
	}
	if checked == 0 {
		t.Error("no service-principal statement found: TableKey's grant to DynamoDB should be one")
	}
}
