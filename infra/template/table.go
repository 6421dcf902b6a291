package template

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// CreateTableInput builds a CreateTable call for the AWS::DynamoDB::Table
// resource logicalID under tableName (the deployed name is usually a !Sub
// of the stack name, which only CloudFormation can resolve). Keys, attribute
// definitions and secondary indexes are the template's; billing is always
// on demand, so emulators need no throughput settings.
func (t *Template) CreateTableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	props, err := t.table(logicalID)
	if err != nil {
		return nil, err
	}
	where := func(s string) string { return logicalID + "." + s }

	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(tableName),
		BillingMode: types.BillingModePayPerRequest,
	}
	defs := items(field(props, "AttributeDefinitions"))
	if len(defs) == 0 {
		return nil, fmt.Errorf("%s is missing or empty", where("AttributeDefinitions"))
	}
	for i, d := range defs {
		at := fmt.Sprintf("AttributeDefinitions[%d]", i)
		name, err := literal(field(d, "AttributeName"), where(at+".AttributeName"))
		if err != nil {
			return nil, err
		}
		typ, err := literal(field(d, "AttributeType"), where(at+".AttributeType"))
		if err != nil {
			return nil, err
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(name),
			AttributeType: types.ScalarAttributeType(strings.ToUpper(typ)),
		})
	}
	if in.KeySchema, err = keySchema(field(props, "KeySchema"), where("KeySchema")); err != nil {
		return nil, err
	}
	// The two kinds of index are read alike; each is added as its own type.
	for _, kind := range []string{"GlobalSecondaryIndexes", "LocalSecondaryIndexes"} {
		for i, ix := range items(field(props, kind)) {
			name, keys, proj, err := index(ix, where(fmt.Sprintf("%s[%d]", kind, i)))
			if err != nil {
				return nil, err
			}
			if kind == "GlobalSecondaryIndexes" {
				in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: keys, Projection: proj})
			} else {
				in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{IndexName: aws.String(name), KeySchema: keys, Projection: proj})
			}
		}
	}
	return in, nil
}

// TTLAttribute is the table's TTL attribute name, or "" when the template
// does not enable TTL on logicalID (or has no such table).
func (t *Template) TTLAttribute(logicalID string) string {
	props, err := t.table(logicalID)
	if err != nil {
		return ""
	}
	spec := field(props, "TimeToLiveSpecification")
	if spec == nil {
		return ""
	}
	// An intrinsic (say !If on a condition) may turn TTL on when deployed;
	// only a literal false turns it off here.
	if enabled := field(spec, "Enabled"); enabled != nil && !isIntrinsic(enabled) && !isTrue(enabled.Value) {
		return ""
	}
	return scalar(field(spec, "AttributeName"))
}

// table returns the properties of a DynamoDB table resource.
func (t *Template) table(logicalID string) (*yaml.Node, error) {
	res, ok := t.resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("template has no resource %s", logicalID)
	}
	if res.typ != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("resource %s is %s, not AWS::DynamoDB::Table", logicalID, res.typ)
	}
	if res.properties == nil {
		return nil, fmt.Errorf("resource %s has no Properties", logicalID)
	}
	return res.properties, nil
}

// keySchema reads a KeySchema list.
func keySchema(n *yaml.Node, where string) ([]types.KeySchemaElement, error) {
	list := items(n)
	if len(list) == 0 {
		return nil, fmt.Errorf("%s is missing or empty", where)
	}
	keys := make([]types.KeySchemaElement, 0, len(list))
	for i, k := range list {
		at := fmt.Sprintf("%s[%d]", where, i)
		name, err := literal(field(k, "AttributeName"), at+".AttributeName")
		if err != nil {
			return nil, err
		}
		typ, err := literal(field(k, "KeyType"), at+".KeyType")
		if err != nil {
			return nil, err
		}
		keys = append(keys, types.KeySchemaElement{
			AttributeName: aws.String(name),
			KeyType:       types.KeyType(strings.ToUpper(typ)),
		})
	}
	return keys, nil
}

// index reads a secondary index: its name, keys and projection (ALL when
// the template leaves it out).
func index(n *yaml.Node, where string) (string, []types.KeySchemaElement, *types.Projection, error) {
	name, err := literal(field(n, "IndexName"), where+".IndexName")
	if err != nil {
		return "", nil, nil, err
	}
	keys, err := keySchema(field(n, "KeySchema"), where+".KeySchema")
	if err != nil {
		return "", nil, nil, err
	}
	proj := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	if p := field(n, "Projection"); p != nil {
		if typ := scalar(field(p, "ProjectionType")); typ != "" {
			proj.ProjectionType = types.ProjectionType(strings.ToUpper(typ))
		}
		for i, a := range items(field(p, "NonKeyAttributes")) {
			attr, err := literal(a, fmt.Sprintf("%s.Projection.NonKeyAttributes[%d]", where, i))
			if err != nil {
				return "", nil, nil, err
			}
			proj.NonKeyAttributes = append(proj.NonKeyAttributes, attr)
		}
	}
	return name, keys, proj, nil
}

// isTrue reads a YAML boolean the way CloudFormation does.
func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "on":
		return true
	}
	return false
}
