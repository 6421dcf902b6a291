package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/metrics"
)

// resources indexes the template's resources by logical id.
func resources(t *testing.T) map[string]template.Resource {
	t.Helper()
	out := map[string]template.Resource{}
	for _, r := range loadTemplate(t).Resources() {
		out[r.ID] = r
	}
	return out
}

func ofType(res map[string]template.Resource, typ string) []string {
	var ids []string
	for id, r := range res {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// TestTemplateProductionSettings checks what issue 5 asks of the stack:
// tracing, the test numbers kept out of production, the key ring from a
// secret, log groups with retention, throttling, and a table with on-demand
// billing, TTL, point-in-time recovery, deletion protection and a rotating
// customer managed key.
func TestTemplateProductionSettings(t *testing.T) {
	tpl := loadTemplate(t)
	res := resources(t)

	for _, p := range []string{"Stage", "JwtIssuer", "JwtAudience", "CorsAllowedOrigins", "SmsSenderId",
		"EmailFrom", "EmailIdentity", "LogRetentionDays", "KeysSecretArn", "AlarmEmail", "CodesSentAlarmThreshold",
		"SmsSpendAlarmUSD", "Api4xxAlarmPercent"} {
		if tpl.Section("Parameters")[p] == nil {
			t.Errorf("parameter %s is missing", p)
		}
	}

	fn := m(tpl.Section("Globals")["Function"])
	if fn["Tracing"] != "Active" {
		t.Errorf("Globals.Function.Tracing = %v, want Active", fn["Tracing"])
	}
	env := m(m(fn["Environment"])["Variables"])
	if got := template.Render(env["TEST_PHONE_NUMBERS"]); got != "!If [IsProd, , !Ref TestPhoneNumbers]" {
		t.Errorf("TEST_PHONE_NUMBERS = %s, want it empty whenever Stage is prod", got)
	}
	if got := template.Render(env["KEYS_SECRET_ARN"]); got != "!Ref KeysSecretArn" {
		t.Errorf("KEYS_SECRET_ARN = %s, want the secret's ARN parameter (never key material)", got)
	}
	for name, v := range env {
		if strings.Contains(strings.ToUpper(name), "KEY") && name != "KEYS_SECRET_ARN" {
			t.Errorf("environment variable %s = %s: key material belongs in the secret", name, template.Render(v))
		}
	}

	// Every function logs to its own group with a retention.
	for _, id := range ofType(res, "AWS::Serverless::Function") {
		lg := template.Render(m(res[id].Properties["LoggingConfig"])["LogGroup"])
		group, ok := res[strings.TrimPrefix(lg, "!Ref ")]
		if !strings.HasPrefix(lg, "!Ref ") || !ok || group.Type != "AWS::Logs::LogGroup" {
			t.Errorf("%s logs to %q, want !Ref of a log group in the template", id, lg)
			continue
		}
		if got := template.Render(group.Properties["RetentionInDays"]); got != "!Ref LogRetentionDays" {
			t.Errorf("%s's log group keeps logs for %s, want !Ref LogRetentionDays", id, got)
		}
	}
	for _, id := range ofType(res, "AWS::Logs::LogGroup") {
		if res[id].Properties["RetentionInDays"] == nil {
			t.Errorf("log group %s keeps logs forever", id)
		}
	}

	api := res["HttpApi"].Properties
	if m(api["DefaultRouteSettings"])["ThrottlingRateLimit"] == nil || m(api["DefaultRouteSettings"])["ThrottlingBurstLimit"] == nil {
		t.Error("HttpApi has no default throttling")
	}
	if m(api["AccessLogSettings"])["DestinationArn"] == nil {
		t.Error("HttpApi has no access log")
	}

	table := res["PhoneBindingTable"]
	p := table.Properties
	if table.DeletionPolicy != "Retain" || table.UpdateReplacePolicy != "Retain" {
		t.Errorf("table DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain", table.DeletionPolicy, table.UpdateReplacePolicy)
	}
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v", p["BillingMode"])
	}
	if m(p["TimeToLiveSpecification"])["Enabled"] != true {
		t.Error("TTL is not enabled")
	}
	if m(p["PointInTimeRecoverySpecification"])["PointInTimeRecoveryEnabled"] != true {
		t.Error("point-in-time recovery is not enabled")
	}
	if got := template.Render(p["DeletionProtectionEnabled"]); got != "true" && got != "!If [IsProd, true, false]" {
		t.Errorf("DeletionProtectionEnabled = %s", got)
	}
	sse := m(p["SSESpecification"])
	if sse["SSEEnabled"] != true || sse["SSEType"] != "KMS" {
		t.Errorf("SSESpecification = %s", template.Render(sse))
	}
	keyRef := template.Render(sse["KMSMasterKeyId"])
	keyID := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(keyRef, "!GetAtt "), "!Ref "), ".Arn")
	key, ok := res[keyID]
	if !ok || key.Type != "AWS::KMS::Key" {
		t.Fatalf("table key %q is not a customer managed key of this template", keyRef)
	}
	if key.Properties["EnableKeyRotation"] != true {
		t.Error("the table key does not rotate")
	}
	if key.DeletionPolicy != "Retain" {
		t.Errorf("the table key's DeletionPolicy is %q: a retained table needs its key", key.DeletionPolicy)
	}
	var admin, dynamo bool
	for _, s := range list(m(key.Properties["KeyPolicy"])["Statement"]) {
		st := m(s)
		principal := template.Render(st["Principal"])
		switch {
		case principal == "{AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root}" && st["Action"] == "kms:*":
			admin = true
		case principal == "{Service: dynamodb.amazonaws.com}":
			dynamo = true
			for _, a := range template.OneOrMany(st["Action"]) {
				if !regexp.MustCompile(`^kms:(Describe|Get|List)`).MatchString(template.Render(a)) {
					t.Errorf("DynamoDB gets %s on the key; it needs read-only access", template.Render(a))
				}
			}
		case strings.Contains(principal, `"*"`) || principal == "*" || strings.Contains(principal, "AWS: *"):
			t.Errorf("the key policy grants to everyone: %s", template.Render(st))
		}
	}
	if !admin || !dynamo {
		t.Errorf("key policy: account administration %v, DynamoDB metadata %v; want both", admin, dynamo)
	}
}

// TestCORSCoversTheContract: a browser may send every request header the
// contract names and read every response header it documents.
func TestCORSCoversTheContract(t *testing.T) {
	cors := m(resources(t)["HttpApi"].Properties["CorsConfiguration"])
	lower := func(v any) []string {
		var out []string
		for _, h := range list(v) {
			out = append(out, strings.ToLower(str(h)))
		}
		return out
	}
	allow, expose := lower(cors["AllowHeaders"]), lower(cors["ExposeHeaders"])
	if !slices.Contains(allow, "authorization") || !slices.Contains(allow, "content-type") {
		t.Errorf("AllowHeaders %v lacks Authorization or Content-Type", allow)
	}
	doc := loadOpenAPI(t)
	components := m(doc["components"])
	var requestHeaders []string
	for _, p := range m(components["parameters"]) {
		if m(p)["in"] == "header" {
			requestHeaders = append(requestHeaders, str(m(p)["name"]))
		}
	}
	responseHeaders := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if h := m(v["headers"]); h != nil {
				for name := range h {
					responseHeaders[name] = true
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc["paths"])
	walk(components["responses"])
	// Content-Language is a CORS-safelisted response header.
	delete(responseHeaders, "Content-Language")
	for _, h := range requestHeaders {
		if !slices.Contains(allow, strings.ToLower(h)) {
			t.Errorf("the contract's request header %s is not in the HttpApi's CORS AllowHeaders %v", h, allow)
		}
	}
	for h := range responseHeaders {
		if !slices.Contains(expose, strings.ToLower(h)) {
			t.Errorf("the contract's response header %s is not in the HttpApi's CORS ExposeHeaders %v", h, expose)
		}
	}
	// A method the contract has but CORS does not allow is a route a page
	// on another origin cannot call (DELETE /v1/phone/unbind was one).
	methods := lower(cors["AllowMethods"])
	for _, route := range openAPIRoutes(t) {
		method, _, _ := strings.Cut(route, " ")
		if !slices.Contains(methods, strings.ToLower(method)) {
			t.Errorf("%s: %s is not in the HttpApi's CORS AllowMethods %v", route, method, methods)
		}
	}
}

// alarmSlug matches the runbook reference every alarm description carries.
var alarmSlug = regexp.MustCompile(`docs/operations\.md, alarm ([a-z0-9-]+)`)

// subRef matches one ${…} substitution of a !Sub string.
var subRef = regexp.MustCompile(`\$\{([^}!]+)\}`)

// dashboard returns the dashboard body with its substitutions replaced by
// their names, parsed, and the substitutions it makes.
func dashboard(t *testing.T, res map[string]template.Resource) (map[string]any, []string) {
	t.Helper()
	ids := ofType(res, "AWS::CloudWatch::Dashboard")
	if len(ids) != 1 {
		t.Fatalf("want one dashboard, have %v", ids)
	}
	sub := m(res[ids[0]].Properties["DashboardBody"])["Fn::Sub"]
	body, ok := sub.(string)
	if !ok {
		t.Fatalf("DashboardBody is %s, want !Sub of a JSON string", template.Render(res[ids[0]].Properties["DashboardBody"]))
	}
	var refs []string
	for _, mt := range subRef.FindAllStringSubmatch(body, -1) {
		refs = append(refs, mt[1])
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(subRef.ReplaceAllString(body, "$1")), &v); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	return v, refs
}

// customMetricNames are the metrics shared/metrics emits.
var customMetricNames = []string{metrics.Requests, metrics.Latency, metrics.CodesSent, metrics.Confirmations,
	metrics.RateLimited, metrics.SendFailures, metrics.Bindings, metrics.Changes, metrics.Unbinds, metrics.Tickets,
	metrics.NumberFailuresLocked, metrics.LimitHalfUsed, metrics.DueUnbindFailures}

// TestAlarmsAndDashboard checks the console view: every alarm notifies the
// alarm topic both ways and names its section of docs/operations.md (which
// must exist); every function is in the errors and throttles alarms and on
// the dashboard; the dashboard shows every alarm, parses, substitutes only
// names the template defines, and reads only metrics the service emits.
func TestAlarmsAndDashboard(t *testing.T) {
	tpl := loadTemplate(t)
	res := resources(t)
	runbook, err := os.ReadFile(filepath.Join(root(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	functions := ofType(res, "AWS::Serverless::Function")
	alarms := ofType(res, "AWS::CloudWatch::Alarm")
	if len(alarms) == 0 {
		t.Fatal("no alarms")
	}
	for _, id := range alarms {
		p := res[id].Properties
		for _, k := range []string{"AlarmActions", "OKActions"} {
			var targets []string
			for _, a := range template.OneOrMany(p[k]) {
				targets = append(targets, template.Render(a))
			}
			if !slices.Contains(targets, "!Ref AlarmTopic") {
				t.Errorf("%s: %s does not notify AlarmTopic", id, k)
			}
		}
		desc := template.Render(p["AlarmDescription"])
		mt := alarmSlug.FindStringSubmatch(desc)
		if mt == nil {
			t.Errorf("%s: its description does not say where the runbook answers it (%q)", id, desc)
			continue
		}
		heading := regexp.MustCompile("(?m)^#{2,4} .*`" + regexp.QuoteMeta(mt[1]) + "`")
		if !heading.Match(runbook) {
			t.Errorf("%s points at alarm %s, but docs/operations.md has no heading with `%s`", id, mt[1], mt[1])
		}
	}

	// Every function is watched by the errors and throttles alarms.
	for _, alarm := range []string{"FunctionErrorsAlarm", "FunctionThrottlesAlarm"} {
		var watched []string
		for _, q := range list(res[alarm].Properties["Metrics"]) {
			for _, d := range list(m(m(m(q)["MetricStat"])["Metric"])["Dimensions"]) {
				if m(d)["Name"] == "FunctionName" {
					watched = append(watched, strings.TrimPrefix(template.Render(m(d)["Value"]), "!Ref "))
				}
			}
		}
		for _, f := range functions {
			if !slices.Contains(watched, f) {
				t.Errorf("%s does not watch %s", alarm, f)
			}
		}
	}

	body, refs := dashboard(t, res)
	params := tpl.Section("Parameters")
	for _, ref := range refs {
		name, _, _ := strings.Cut(ref, ".")
		if _, ok := res[name]; !ok && params[name] == nil && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("the dashboard substitutes ${%s}, which the template does not define", ref)
		}
	}
	for _, f := range functions {
		for _, want := range []string{`"Duration", "FunctionName", "` + f + `"`, `"Errors", "FunctionName", "` + f + `"`} {
			if !strings.Contains(dashboardText(body), want) {
				t.Errorf("the dashboard has no %s", want)
			}
		}
	}
	for _, a := range alarms {
		if !slices.Contains(refs, a+".Arn") {
			t.Errorf("the dashboard's alarm widget does not show %s", a)
		}
	}
	for _, name := range referencedCustomMetrics(t, res, body) {
		if !slices.Contains(customMetricNames, name.metric) {
			t.Errorf("%s reads %s/%s, which shared/metrics does not emit (it emits %v)", name.where, metrics.Namespace, name.metric, customMetricNames)
		}
	}
}

// dashboardText is the dashboard's metric arrays as compact JSON, one per
// line, for substring checks.
func dashboardText(body map[string]any) string {
	var b strings.Builder
	for _, w := range list(body["widgets"]) {
		for _, mtr := range list(m(m(w)["properties"])["metrics"]) {
			raw, _ := json.Marshal(mtr)
			b.WriteString(strings.ReplaceAll(string(raw), `","`, `", "`))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// metricRef is one custom metric an alarm or the dashboard reads: its name
// and the dimension names it selects (nil for a SEARCH without a schema,
// where only the dimensions it filters on are known).
type metricRef struct {
	where  string
	metric string
	dims   []string
	// exact is false for a search that matches any dimension set holding
	// dims.
	exact bool
}

var (
	searchSchema = regexp.MustCompile(`\{` + metrics.Namespace + `,([^}]*)\}`)
	searchName   = regexp.MustCompile(`MetricName="(\w+)"`)
	searchDim    = regexp.MustCompile(`(\w+)="[^"]*"`)
)

// referencedCustomMetrics lists every PhoneBinding metric the alarms and
// the dashboard read.
func referencedCustomMetrics(t *testing.T, res map[string]template.Resource, body map[string]any) []metricRef {
	t.Helper()
	var out []metricRef
	dimNames := func(ds []any) []string {
		var names []string
		for _, d := range ds {
			names = append(names, str(m(d)["Name"]))
		}
		sort.Strings(names)
		return names
	}
	for _, id := range ofType(res, "AWS::CloudWatch::Alarm") {
		p := res[id].Properties
		if p["Namespace"] == metrics.Namespace {
			out = append(out, metricRef{id, str(p["MetricName"]), dimNames(list(p["Dimensions"])), true})
		}
		for _, q := range list(p["Metrics"]) {
			mt := m(m(m(q)["MetricStat"])["Metric"])
			if mt["Namespace"] == metrics.Namespace {
				out = append(out, metricRef{id, str(mt["MetricName"]), dimNames(list(mt["Dimensions"])), true})
			}
		}
	}
	for _, w := range list(body["widgets"]) {
		title := "dashboard widget " + str(m(m(w)["properties"])["title"])
		for _, row := range list(m(m(w)["properties"])["metrics"]) {
			items := list(row)
			if len(items) >= 2 && items[0] == metrics.Namespace {
				var dims []string
				for i := 2; i+1 < len(items); i += 2 {
					if s, ok := items[i].(string); ok {
						dims = append(dims, s)
					}
				}
				sort.Strings(dims)
				out = append(out, metricRef{title, str(items[1]), dims, true})
				continue
			}
			if len(items) != 1 {
				continue
			}
			expr := str(m(items[0])["expression"])
			if !strings.Contains(expr, "SEARCH(") ||
				!searchSchema.MatchString(expr) && !strings.Contains(expr, `Namespace="`+metrics.Namespace+`"`) {
				continue
			}
			for _, name := range searchName.FindAllStringSubmatch(expr, -1) {
				ref := metricRef{where: title, metric: name[1]}
				if s := searchSchema.FindStringSubmatch(expr); s != nil {
					ref.dims, ref.exact = strings.Split(s[1], ","), true
				} else {
					for _, d := range searchDim.FindAllStringSubmatch(expr, -1) {
						if d[1] != "MetricName" && d[1] != "Namespace" {
							ref.dims = append(ref.dims, d[1])
						}
					}
				}
				sort.Strings(ref.dims)
				out = append(out, ref)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no alarm or widget reads a custom metric")
	}
	return out
}

// TestLimitsAreParameters: every rate limit and cooldown is a template
// parameter (changed by a deploy with --parameter-overrides during an
// incident, not by editing the template), the functions' environment
// takes it from there, and its default is the service's own default, so
// that a stack deployed without overrides behaves as the code documents.
func TestLimitsAreParameters(t *testing.T) {
	tpl := loadTemplate(t)
	params := tpl.Section("Parameters")
	env := m(m(m(tpl.Section("Globals")["Function"])["Environment"])["Variables"])
	for _, c := range []struct {
		variable, parameter, want string
	}{
		{"RESEND_COOLDOWN", "ResendCooldown", config.DefaultResendCooldown.String()},
		{"CHANGE_COOLDOWN", "ChangeCooldown", config.DefaultChangeCooldown.String()},
		{"UNBIND_EMAIL_HOLD", "UnbindEmailHold", config.DefaultUnbindEmailHold.String()},
		{"PROFILE_URL", "ProfileUrl", config.DefaultProfileURL},
		{"CODES_PER_ACCOUNT_HOUR", "CodesPerAccountHour", strconv.Itoa(config.DefaultPerAccountHour)},
		{"CODES_PER_PHONE_DAY", "CodesPerPhoneDay", strconv.Itoa(config.DefaultPerPhoneDay)},
		{"CODES_PER_IP_HOUR", "CodesPerIpHour", strconv.Itoa(config.DefaultPerIPHour)},
		{"MAX_FAILURES_DAY", "MaxFailuresDay", strconv.Itoa(config.DefaultMaxFailuresDay)},
		{"CODES_PER_PREFIX_DAY", "CodesPerPrefixDay", strconv.Itoa(config.DefaultPerPrefixDay)},
		{"CODES_GLOBAL_DAY", "CodesGlobalDay", strconv.Itoa(config.DefaultGlobalDay)},
	} {
		if got := template.Render(env[c.variable]); got != "!Ref "+c.parameter {
			t.Errorf("%s = %s, want !Ref %s", c.variable, got, c.parameter)
		}
		p := m(params[c.parameter])
		if p == nil {
			t.Errorf("parameter %s is missing", c.parameter)
			continue
		}
		def := template.Render(p["Default"])
		if d, err := time.ParseDuration(def); err == nil {
			def = d.String()
		}
		if def != c.want {
			t.Errorf("parameter %s defaults to %s; the service's default is %s", c.parameter, template.Render(p["Default"]), c.want)
		}
		if !strings.Contains(str(p["Description"]), c.variable) {
			t.Errorf("parameter %s's description does not name %s", c.parameter, c.variable)
		}
	}
}
