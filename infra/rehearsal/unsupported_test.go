package rehearsal

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/infra/template"
)

// checkUnsupported checks, in the translated template, what moto cannot
// create: the HTTP API (every route of template.yaml to its function,
// behind the JWT authorizer from the parameters), its stage (throttling,
// access log), every alarm (to the alarm topic, both ways) and the alarm
// e-mail subscription.
func checkUnsupported(t *testing.T, declared *template.Template, tr map[string]any) {
	t.Helper()
	typed := func(typ string) []string {
		var ids []string
		for id, r := range tr {
			if r.(map[string]any)["Type"] == typ {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	props := func(id string) map[string]any { return tr[id].(map[string]any)["Properties"].(map[string]any) }
	compact := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	apis := typed("AWS::ApiGatewayV2::Api")
	if len(apis) != 1 {
		t.Fatalf("HTTP APIs %v, want one", apis)
	}
	body := props(apis[0])["Body"].(map[string]any)
	paths := body["paths"].(map[string]any)
	routes := declared.Routes()
	if len(routes) == 0 {
		t.Fatal("template.yaml declares no routes")
	}
	for _, rt := range routes {
		op, _ := paths[rt.Path].(map[string]any)[strings.ToLower(rt.Method)].(map[string]any)
		if op == nil {
			t.Errorf("route %s %s is not in the HTTP API", rt.Method, rt.Path)
			continue
		}
		integration := compact(op["x-amazon-apigateway-integration"])
		if !strings.Contains(integration, "${"+rt.FunctionID+".Arn}") || !strings.Contains(integration, `"payloadFormatVersion":"2.0"`) {
			t.Errorf("%s %s integrates %s, want %s (payload 2.0)", rt.Method, rt.Path, integration, rt.FunctionID)
		}
		if compact(op["security"]) != `[{"PortalJwt":[]}]` {
			t.Errorf("%s %s is not behind the PortalJwt authorizer: %s", rt.Method, rt.Path, compact(op["security"]))
		}
	}
	auth := compact(body["components"].(map[string]any)["securitySchemes"].(map[string]any)["PortalJwt"])
	for _, want := range []string{`"type":"jwt"`, `"issuer":{"Ref":"JwtIssuer"}`, `"audience":{"Ref":"JwtAudience"}`, `"identitySource":"$request.header.Authorization"`} {
		if !strings.Contains(auth, want) {
			t.Errorf("the authorizer %s lacks %s", auth, want)
		}
	}
	if cors := compact(body["x-amazon-apigateway-cors"]); !strings.Contains(cors, `"allowOrigins":["https://lk.gosuslugi.ru"]`) && !strings.Contains(cors, `"allowOrigins":"https://lk.gosuslugi.ru"`) {
		t.Errorf("CORS %s", cors)
	}

	stages := typed("AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("stages %v, want one", stages)
	}
	stage := compact(props(stages[0]))
	for _, want := range []string{`"AutoDeploy":true`, `"StageName":"$default"`, `"ThrottlingRateLimit":{"Ref":"ThrottlingRateLimit"}`, `"DestinationArn":{"Fn::GetAtt":["HttpApiAccessLogGroup","Arn"]}`} {
		if !strings.Contains(stage, want) {
			t.Errorf("the stage %s lacks %s", stage, want)
		}
	}

	var declaredAlarms []string
	for _, r := range declared.Resources() {
		if r.Type == "AWS::CloudWatch::Alarm" {
			declaredAlarms = append(declaredAlarms, r.ID)
		}
	}
	if got := typed("AWS::CloudWatch::Alarm"); !slices.Equal(got, declaredAlarms) {
		t.Errorf("translated alarms %v, declared %v", got, declaredAlarms)
	}
	for _, id := range declaredAlarms {
		p := props(id)
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if compact(p[k]) != `[{"Ref":"AlarmTopic"}]` {
				t.Errorf("%s %s = %s", id, k, compact(p[k]))
			}
		}
		if p["MetricName"] == nil && p["Metrics"] == nil {
			t.Errorf("%s watches no metric", id)
		}
	}
	subs := typed("AWS::SNS::Subscription")
	if len(subs) != 1 || tr[subs[0]].(map[string]any)["Condition"] != "HasAlarmEmail" ||
		compact(props(subs[0])) != `{"Endpoint":{"Ref":"AlarmEmail"},"Protocol":"email","TopicArn":{"Ref":"AlarmTopic"}}` {
		t.Errorf("the alarm e-mail subscription: %v", subs)
	}
}
