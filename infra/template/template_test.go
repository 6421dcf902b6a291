package template

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fixture uses the short-form tags a real SAM template is full of, in the
// places they appear in practice.
const fixture = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: provided.al2023
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        TEST_PHONE_NUMBERS: !If [IsProd, "", "+79990000001:123456"]
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
  RequestCodeFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
    Properties:
      CodeUri: .
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Table}
      Events:
        Request:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: post
            Path: /v1/phone/verification
        Schedule:
          Type: Schedule
          Properties: {Schedule: rate(1 day)}
  TicketFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        One:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: "/v1/feedback/{ticket_id}"}
        Intrinsic:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: !Sub "/${Stage}/x"}
  CatchAllFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Any: {Type: HttpApi}
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    Properties:
      TableName: !Sub "${AWS::StackName}-phonebind"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: status, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: by-status
          KeySchema:
            - {AttributeName: status, KeyType: HASH}
            - {AttributeName: sk, KeyType: RANGE}
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [category]
      TimeToLiveSpecification:
        AttributeName: ttl
        Enabled: true
      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: !If [IsProd, true, false]
  NoTTLTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: false}
  TaggedKeyTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: !Ref KeyName, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
Outputs:
  ApiUrl:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com"
  TableArn:
    Value: !GetAtt Table.Arn
`

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tpl
}

func TestRoutes(t *testing.T) {
	got := mustParse(t, fixture).Routes()
	want := []Route{
		{FunctionID: "CatchAllFunction", Method: "ANY", Path: "$default"},
		{FunctionID: "TicketFunction", Method: "GET", Path: "/v1/feedback/{ticket_id}"},
		{FunctionID: "RequestCodeFunction", Method: "POST", Path: "/v1/phone/verification"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Routes() =\n%+v\nwant\n%+v", got, want)
	}
	if k := want[2].Key(); k != "POST /v1/phone/verification" {
		t.Errorf("Key() = %q", k)
	}
	if k := want[0].Key(); k != "$default" {
		t.Errorf("Key() of catch-all = %q", k)
	}
}

func TestCreateTableInput(t *testing.T) {
	in, err := mustParse(t, fixture).CreateTableInput("Table", "local-table")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TableName) != "local-table" {
		t.Errorf("TableName = %q", aws.ToString(in.TableName))
	}
	if in.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("BillingMode = %q", in.BillingMode)
	}
	attrs := map[string]types.ScalarAttributeType{}
	for _, a := range in.AttributeDefinitions {
		attrs[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	if want := map[string]types.ScalarAttributeType{"pk": "S", "sk": "S", "status": "S"}; !reflect.DeepEqual(attrs, want) {
		t.Errorf("AttributeDefinitions = %v", attrs)
	}
	if got := keys(in.KeySchema); got != "pk HASH, sk RANGE" {
		t.Errorf("KeySchema = %s", got)
	}
	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("GlobalSecondaryIndexes = %d", len(in.GlobalSecondaryIndexes))
	}
	gsi := in.GlobalSecondaryIndexes[0]
	if aws.ToString(gsi.IndexName) != "by-status" || keys(gsi.KeySchema) != "status HASH, sk RANGE" {
		t.Errorf("GSI = %s %s", aws.ToString(gsi.IndexName), keys(gsi.KeySchema))
	}
	if gsi.Projection == nil || gsi.Projection.ProjectionType != types.ProjectionTypeInclude ||
		!reflect.DeepEqual(gsi.Projection.NonKeyAttributes, []string{"category"}) {
		t.Errorf("GSI projection = %+v", gsi.Projection)
	}
	if gsi.ProvisionedThroughput != nil {
		t.Error("on-demand GSI must not carry throughput")
	}
}

func TestCreateTableInputErrors(t *testing.T) {
	tpl := mustParse(t, fixture)
	tests := []struct {
		id, want string
	}{
		{"Missing", "no resource Missing"},
		{"RequestCodeFunction", "not AWS::DynamoDB::Table"},
		{"TaggedKeyTable", "!Ref"},
	}
	for _, tt := range tests {
		_, err := tpl.CreateTableInput(tt.id, "x")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CreateTableInput(%s) error = %v, want it to mention %q", tt.id, err, tt.want)
		}
	}
}

func TestTTLAttribute(t *testing.T) {
	tpl := mustParse(t, fixture)
	for id, want := range map[string]string{"Table": "ttl", "NoTTLTable": "", "TaggedKeyTable": "", "Missing": ""} {
		if got := tpl.TTLAttribute(id); got != want {
			t.Errorf("TTLAttribute(%s) = %q, want %q", id, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"empty":        "",
		"not mapping":  "- a\n- b\n",
		"no resources": "Parameters: {}\n",
		"bad yaml":     "Resources: [\n",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
}

func TestLoadAndFindRoot(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("FindRoot() = %s without go.mod", root)
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	tpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.Routes()) != 3 {
		t.Errorf("Routes() = %v", tpl.Routes())
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) error = %v", err)
	}
}

// TestRealTemplate holds the project's template.yaml to what the local
// runner and the DynamoDB tests expect of it.
func TestRealTemplate(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not written yet", path)
	}
	tpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]string{}
	for _, r := range tpl.Routes() {
		routes[r.Key()] = r.FunctionID
	}
	for key, fn := range map[string]string{
		"POST /v1/phone/verification":         "RequestCodeFunction",
		"POST /v1/phone/verification/confirm": "ConfirmCodeFunction",
		"GET /v1/phone":                       "StatusFunction",
	} {
		if routes[key] != fn {
			t.Errorf("route %s → %q, want %s (routes: %v)", key, routes[key], fn, routes)
		}
	}
	in, err := tpl.CreateTableInput("PhoneBindingTable", "t")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(in.KeySchema); got != "pk HASH, sk RANGE" {
		t.Errorf("PhoneBindingTable KeySchema = %s", got)
	}
	if got := tpl.TTLAttribute("PhoneBindingTable"); got != "ttl" {
		t.Errorf("PhoneBindingTable TTL attribute = %q, want ttl", got)
	}
}

func keys(ks []types.KeySchemaElement) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = aws.ToString(k.AttributeName) + " " + string(k.KeyType)
	}
	return strings.Join(parts, ", ")
}
