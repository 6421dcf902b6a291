package template

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, !If, …) reach
// yaml.v3 as tags it does not know. Decoding such a node into a Go value
// fails or loses the tag, so the template is walked as nodes: a tagged node
// is just a node whose Tag starts with "!", and literal reads refuse it.

// resolve follows document wrappers and aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// field returns the value under key in a mapping node, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// scalar is a plain scalar's value, or "" for anything else (a missing
// node, a collection, an intrinsic function).
func scalar(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || isIntrinsic(n) {
		return ""
	}
	return n.Value
}

// literal is scalar that insists: a missing value or an intrinsic function
// is an error naming where it was wanted.
func literal(n *yaml.Node, where string) (string, error) {
	n = resolve(n)
	switch {
	case n == nil:
		return "", fmt.Errorf("%s is missing", where)
	case isIntrinsic(n):
		return "", fmt.Errorf("%s is %s, which cannot be resolved without deploying", where, intrinsicName(n))
	case n.Kind != yaml.ScalarNode:
		return "", fmt.Errorf("%s is not a plain value", where)
	}
	return n.Value, nil
}

// items returns a sequence node's entries, or nil.
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

// isIntrinsic reports whether n is a CloudFormation function: a short-form
// tag (!Ref) or the long form, a one-key mapping {Ref: …} / {Fn::…: …}.
func isIntrinsic(n *yaml.Node) bool {
	return intrinsicName(n) != ""
}

func intrinsicName(n *yaml.Node) string {
	if len(n.Tag) > 1 && n.Tag[0] == '!' && n.Tag[1] != '!' {
		return n.Tag
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" || len(k) > 4 && k[:4] == "Fn::" {
			return k
		}
	}
	return ""
}
