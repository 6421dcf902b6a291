package template

import (
	"reflect"
	"testing"
)

func TestResourcesDecodeIntrinsics(t *testing.T) {
	tpl := mustParse(t, `
Parameters:
  Stage: {Type: String, Default: dev}
Globals:
  Function:
    Tracing: Active
    Environment:
      Variables:
        TEST: !If [IsProd, "", !Ref Numbers]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 10
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:Query]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: sns:Publish
              Resource: {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}
            - Effect: Allow
              Action: secretsmanager:GetSecretValue
              Resource: !Ref Secret
  Bare:
    Type: AWS::SNS::Topic
    Condition: IsProd
    DeletionPolicy: Retain
`)
	res := tpl.Resources()
	if len(res) != 2 || res[0].ID != "Bare" || res[1].ID != "Fn" || res[1].Type != "AWS::Serverless::Function" {
		t.Fatalf("Resources() = %+v", res)
	}
	if res[0].Properties != nil {
		t.Errorf("a resource without Properties decoded to %v", res[0].Properties)
	}
	if res[0].Condition != "IsProd" || res[0].DeletionPolicy != "Retain" || res[0].UpdateReplacePolicy != "" {
		t.Errorf("attributes = %+v", res[0])
	}
	props := res[1].Properties
	if props["Timeout"] != 10 {
		t.Errorf("Timeout = %#v", props["Timeout"])
	}
	stmts := props["Policies"].([]any)[0].(map[string]any)["Statement"].([]any)
	want := []string{"!GetAtt Table.Arn", "!Sub arn:${AWS::Partition}:sns:*:*:*", "!Ref Secret"}
	for i, s := range stmts {
		if got := Render(s.(map[string]any)["Resource"]); got != want[i] {
			t.Errorf("statement %d resource = %q, want %q", i, got, want[i])
		}
	}
	if got := stmts[0].(map[string]any)["Resource"]; !reflect.DeepEqual(got, map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}) {
		t.Errorf("!GetAtt long form = %#v", got)
	}

	globals := tpl.Section("Globals")
	fn := globals["Function"].(map[string]any)
	if fn["Tracing"] != "Active" {
		t.Errorf("Globals.Function.Tracing = %#v", fn["Tracing"])
	}
	test := fn["Environment"].(map[string]any)["Variables"].(map[string]any)["TEST"]
	if got := Render(test); got != "!If [IsProd, , !Ref Numbers]" {
		t.Errorf("!If rendered as %q", got)
	}
	if tpl.Section("Outputs") != nil {
		t.Error("a missing section is not nil")
	}
}
