package rehearsal

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// unsupported are the resource types moto 5.2's CloudFormation does not
// create. The rehearsal leaves them out of the stack it creates, puts a
// marker where other resources refer to them, and checks them in the
// translated template instead (checkUnsupported).
var unsupported = map[string]string{
	"AWS::ApiGatewayV2::Api":      "moto's CloudFormation has no API Gateway v2 model (the HTTP API with its OpenAPI body: routes, JWT authorizer, CORS)",
	"AWS::ApiGatewayV2::Stage":    "moto's CloudFormation has no API Gateway v2 model (the $default stage: throttling, access log)",
	"AWS::CloudWatch::Alarm":      "moto's CloudFormation has no CloudWatch alarm model (Fn::GetAtt on one fails: 'references undefined resource')",
	"AWS::SNS::Subscription":      "moto's CloudFormation has no SNS subscription model (the AlarmEmail subscription)",
	"AWS::SecretsManager::Secret": "moto's CloudFormation has no Secrets Manager model (the template creates no secret: make keys-secret does)",
}

const (
	stackName  = "phonebind-rehearsal"
	codeBucket = "phonebind-rehearsal-code"
	codeKey    = "code.zip"
)

// parameters are what an operator deploys prod with, and one limit
// overridden as during an SMS pumping incident.
func parameters(secretARN string) map[string]string {
	return map[string]string{
		"Stage":              "prod",
		"JwtIssuer":          "https://esia.gosuslugi.ru/",
		"JwtAudience":        "phonebind",
		"EmailFrom":          "no-reply@gosuslugi.ru",
		"EmailIdentity":      "gosuslugi.ru",
		"KeysSecretArn":      secretARN,
		"AlarmEmail":         "phonebind-oncall@gosuslugi.ru",
		"TestPhoneNumbers":   "+79990000001:123456",
		"CodesPerPrefixDay":  "10",
		"CorsAllowedOrigins": "https://lk.gosuslugi.ru",
	}
}

// translate runs infra/rehearsal/translate.py: template.yaml as plain
// CloudFormation.
func translate(t *testing.T, root string, params map[string]string) map[string]any {
	t.Helper()
	// infra/emulators.sh names the python that has samtranslator.
	name := os.Getenv("SAM_TRANSLATOR_PYTHON")
	if name == "" {
		name = "python3"
	}
	python, err := exec.LookPath(name)
	if err == nil {
		err = exec.Command(python, "-c", "import samtranslator").Run()
	}
	if err != nil {
		testenv.Unavailable(t, fmt.Sprintf("python3 with samtranslator, which the stack rehearsal needs, is not installed: %v", err))
	}
	paramsJSON, _ := json.Marshal(params)
	cmd := exec.Command(python, filepath.Join(root, "infra", "rehearsal", "translate.py"),
		filepath.Join(root, template.FileName), "s3://"+codeBucket+"/"+codeKey, string(paramsJSON))
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION="+region)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("translate.py: %v\n%s", err, stderr.String())
	}
	var tpl map[string]any
	if err := json.Unmarshal(out, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}`)

// forMoto is the translated template without the unsupported resources;
// a reference to one becomes the string "unsupported:<LogicalId>".
func forMoto(tpl map[string]any) (map[string]any, []string) {
	res := tpl["Resources"].(map[string]any)
	kept := map[string]any{}
	var dropped []string
	for id, r := range res {
		if _, skip := unsupported[r.(map[string]any)["Type"].(string)]; skip {
			dropped = append(dropped, id)
			continue
		}
		kept[id] = r
	}
	sort.Strings(dropped)
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["Ref"].(string); ok && slices.Contains(dropped, ref) {
				return "unsupported:" + ref
			}
			if ga, ok := v["Fn::GetAtt"].([]any); ok && slices.Contains(dropped, fmt.Sprint(ga[0])) {
				return "unsupported:" + fmt.Sprint(ga[0])
			}
			if s, ok := v["Fn::Sub"].(string); ok {
				return map[string]any{"Fn::Sub": subRef.ReplaceAllStringFunc(s, func(m string) string {
					if id := subRef.FindStringSubmatch(m)[1]; slices.Contains(dropped, id) {
						return "unsupported:" + id
					}
					return m
				})}
			}
			out := map[string]any{}
			for k, c := range v {
				out[k] = walk(c)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, c := range v {
				out[i] = walk(c)
			}
			return out
		}
		return v
	}
	out := map[string]any{}
	for k, v := range tpl {
		out[k] = v
	}
	out["Resources"] = walk(kept)
	out["Outputs"] = walk(tpl["Outputs"])
	return out, dropped
}

// stackResource is one row of ListStackResources.
type stackResource struct {
	LogicalResourceID  string `xml:"LogicalResourceId"`
	PhysicalResourceID string `xml:"PhysicalResourceId"`
	ResourceType       string `xml:"ResourceType"`
	ResourceStatus     string `xml:"ResourceStatus"`
}

// TestStackRehearsal creates the stack on moto's CloudFormation as `sam
// deploy` would (the SAM translator's output, prod parameters, a key
// secret made as `make keys-secret` makes it) and checks that every
// resource template.yaml declares came up as declared: the table's keys,
// index, TTL, point-in-time recovery and key; the topics; the KMS key; the
// roles and their policies; the operators' policy; the functions with
// their environment; the log groups; the dashboard; the outputs. What moto
// cannot create is checked in the translated template (unsupported).
func TestStackRehearsal(t *testing.T) {
	testenv.MotoEndpoint(t) // skips, or fails under REQUIRE_EMULATORS=1, as every emulator test
	endpoint := ownMoto(t)
	declared, root, err := template.LoadProject()
	if err != nil {
		t.Fatal(err)
	}
	m := &moto{t: t, endpoint: endpoint, client: &http.Client{Timeout: 30 * time.Second}}
	stack := fmt.Sprintf("%s-%d", stackName, time.Now().UnixNano()%1e9)

	// The code sam build would have uploaded, and the key secret.
	m.rest("s3", "PUT", "/"+codeBucket, nil)
	m.rest("s3", "PUT", "/"+codeBucket+"/"+codeKey, bootstrapZip(t))
	var secret struct{ ARN string }
	m.json("secretsmanager", "secretsmanager.CreateSecret", "1.1", map[string]string{
		"Name": stack + "/keys", "SecretString": `{"current":"k1","hmac_key":"cmVoZWFyc2FsLW9ubHktaG1hYy1rZXktMzItYnl0ZXMhIQ==","keys":{"k1":"cmVoZWFyc2FsLW9ubHktYWVzLWtleS0zMi1ieXRlcyEhIQ=="}}`,
	}, &secret)

	translated := translate(t, root, parameters(secret.ARN))
	body, dropped := forMoto(translated)
	raw, _ := json.Marshal(body)
	params := map[string]string{"StackName": stack, "TemplateBody": string(raw), "Capabilities.member.1": "CAPABILITY_IAM"}
	i := 1
	for _, k := range slices.Sorted(maps.Keys(parameters(secret.ARN))) {
		params[fmt.Sprintf("Parameters.member.%d.ParameterKey", i)] = k
		params[fmt.Sprintf("Parameters.member.%d.ParameterValue", i)] = parameters(secret.ARN)[k]
		i++
	}
	m.query("cloudformation", "2010-05-15", "CreateStack", params)
	t.Cleanup(func() { m.query("cloudformation", "2010-05-15", "DeleteStack", map[string]string{"StackName": stack}) })

	var status string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out := m.query("cloudformation", "2010-05-15", "DescribeStacks", map[string]string{"StackName": stack})
		status = first(xmlValues(out, "StackStatus"))
		if !strings.HasSuffix(status, "_IN_PROGRESS") || time.Now().After(deadline) {
			break
		}
	}
	if status != "CREATE_COMPLETE" {
		events := m.query("cloudformation", "2010-05-15", "DescribeStackEvents", map[string]string{"StackName": stack})
		t.Fatalf("stack %s: %s; reasons: %v", stack, status, xmlValues(events, "ResourceStatusReason"))
	}

	var listed struct {
		Rows []stackResource `xml:"ListStackResourcesResult>StackResourceSummaries>member"`
	}
	if err := xml.Unmarshal(m.query("cloudformation", "2010-05-15", "ListStackResources", map[string]string{"StackName": stack}), &listed); err != nil {
		t.Fatal(err)
	}
	physical := map[string]string{}
	for _, r := range listed.Rows {
		if r.ResourceStatus != "CREATE_COMPLETE" {
			t.Errorf("%s (%s) is %s", r.LogicalResourceID, r.ResourceType, r.ResourceStatus)
		}
		physical[r.LogicalResourceID] = r.PhysicalResourceID
	}
	// Every resource template.yaml declares is in the stack or, for a type
	// moto lacks, in the translated template (checked below).
	trRes := translated["Resources"].(map[string]any)
	for _, r := range declared.Resources() {
		id := r.ID
		if r.Type == "AWS::Serverless::HttpApi" {
			id = "HttpApi"
		}
		if _, ok := physical[id]; !ok && !slices.Contains(dropped, id) {
			t.Errorf("%s (%s) is declared but did not come up", r.ID, r.Type)
		}
	}
	for id, r := range trRes {
		typ := r.(map[string]any)["Type"].(string)
		if _, ok := physical[id]; !ok && unsupported[typ] == "" {
			t.Errorf("%s (%s) is in the translated template but not in the stack", id, typ)
		}
	}
	t.Logf("left to the translated template (moto cannot create them): %v", dropped)

	checkTable(t, m, trRes, physical["PhoneBindingTable"])
	checkTopicsAndKey(t, m, stack, physical)
	checkRoles(t, m, trRes, physical)
	checkOperatorPolicy(t, m, trRes, physical)
	checkFunctions(t, m, declared, trRes, physical, secret.ARN)
	checkLogsAndDashboard(t, m, stack, physical)
	checkOutputs(t, m, stack, physical)
	checkUnsupported(t, declared, trRes)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// bootstrapZip is a stand-in for sam build's artifact.
func bootstrapZip(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("#!/bin/sh\n"))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
