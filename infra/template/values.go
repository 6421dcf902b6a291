package template

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resource is one entry of Resources as plain Go values, for checks that
// read more of the template than routes and tables: IAM policies, alarms,
// the dashboard.
type Resource struct {
	ID   string
	Type string
	// Condition, DeletionPolicy and UpdateReplacePolicy are the resource
	// attributes of those names, "" when absent.
	Condition           string
	DeletionPolicy      string
	UpdateReplacePolicy string
	// Properties is the resource's Properties decoded by Value; nil when it
	// has none.
	Properties map[string]any
}

// Resources lists every resource, sorted by logical id.
func (t *Template) Resources() []Resource {
	out := make([]Resource, 0, len(t.resources))
	for id, res := range t.resources {
		r := Resource{
			ID:                  id,
			Type:                res.typ,
			Condition:           scalar(field(res.body, "Condition")),
			DeletionPolicy:      scalar(field(res.body, "DeletionPolicy")),
			UpdateReplacePolicy: scalar(field(res.body, "UpdateReplacePolicy")),
		}
		if props, ok := Value(res.properties).(map[string]any); ok {
			r.Properties = props
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Resource) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Section is a top-level section of the template (Parameters, Conditions,
// Globals, Outputs, …) decoded by Value, or nil when the template has none.
func (t *Template) Section(name string) map[string]any {
	m, _ := Value(field(t.root, name)).(map[string]any)
	return m
}

// Value decodes a template node into plain values: mappings become
// map[string]any, sequences []any, and scalars what YAML makes of them
// (string, bool, int, float64, nil). A short-form intrinsic becomes its
// long form, the way CloudFormation reads it: !Ref X is {"Ref": "X"},
// !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]}, !Sub s is {"Fn::Sub": s}, and
// so on, so checks can compare intrinsics without caring how they were
// written.
func Value(n *yaml.Node) any {
	n = resolve(n)
	if n == nil {
		return nil
	}
	if name, ok := shortForm(n); ok {
		plain := *n
		plain.Tag = ""
		v := Value(&plain)
		if name == "Fn::GetAtt" {
			if s, ok := v.(string); ok {
				res, attr, _ := strings.Cut(s, ".")
				v = []any{res, attr}
			}
		}
		return map[string]any{name: v}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = Value(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = Value(c)
		}
		return s
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return n.Value
		}
		return v
	}
	return nil
}

// shortForm reports the long-form name of a short-form intrinsic tag:
// !Ref → Ref, !Condition → Condition, !Sub → Fn::Sub.
func shortForm(n *yaml.Node) (string, bool) {
	if len(n.Tag) < 2 || n.Tag[0] != '!' || n.Tag[1] == '!' {
		return "", false
	}
	switch name := n.Tag[1:]; name {
	case "Ref", "Condition":
		return name, true
	default:
		return "Fn::" + name, true
	}
}

// Render writes a decoded value compactly, intrinsics in their short form,
// so a test can name a resource expression in one string:
// "!GetAtt PhoneBindingTable.Arn", "!Ref KeysSecretArn", "*".
func Render(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = Render(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				switch {
				case k == "Ref" || k == "Condition":
					return "!" + k + " " + Render(arg)
				case k == "Fn::GetAtt":
					if parts, ok := arg.([]any); ok && len(parts) == 2 {
						return "!GetAtt " + Render(parts[0]) + "." + Render(parts[1])
					}
					return "!GetAtt " + Render(arg)
				case strings.HasPrefix(k, "Fn::"):
					return "!" + strings.TrimPrefix(k, "Fn::") + " " + Render(arg)
				}
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + Render(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return fmt.Sprint(v)
	}
}

// OneOrMany reads a value that may be given once or as a list (an IAM
// statement's Action or Resource, a policy's Statement) as a list; nil
// stays empty.
func OneOrMany(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}
