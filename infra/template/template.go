// Package template reads the SAM template, template.yaml, so that local runs
// and tests use the routes and the table the stack deploys instead of copies
// of them. It understands just enough of SAM and CloudFormation for that:
// intrinsic functions (!Ref, !Sub, !GetAtt, …) are tolerated wherever they
// appear and refused only where a literal value is needed.
package template

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// FileName is the template's name at the module root.
const FileName = "template.yaml"

// Template is a parsed SAM template.
type Template struct {
	path      string
	root      *yaml.Node
	resources map[string]resource
}

// resource is one entry of Resources, its properties left as YAML nodes so
// that tagged values stay readable whatever their tag.
type resource struct {
	typ        string
	properties *yaml.Node
	body       *yaml.Node // the whole entry, for attributes beside Properties
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.path = path
	return t, nil
}

// Parse parses a template from its YAML text.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	root := resolve(&doc)
	if root == nil || root.Kind == 0 {
		return nil, errors.New("parse template: empty document")
	}
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("parse template: top level is not a mapping")
	}
	resources := field(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, errors.New("parse template: no Resources mapping")
	}
	t := &Template{root: root, resources: map[string]resource{}}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id := resources.Content[i].Value
		body := resolve(resources.Content[i+1])
		if body == nil || body.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("parse template: resource %s is not a mapping", id)
		}
		t.resources[id] = resource{
			typ:        scalar(field(body, "Type")),
			properties: field(body, "Properties"),
			body:       body,
		}
	}
	return t, nil
}

// LoadProject reads the project's template.yaml, in the module root
// (FindRoot), and returns it with that root.
func LoadProject() (*Template, string, error) {
	root, err := FindRoot()
	if err != nil {
		return nil, "", err
	}
	t, err := Load(filepath.Join(root, FileName))
	return t, root, err
}

// FindRoot walks up from the working directory to the directory holding
// go.mod, where template.yaml lives; tests run in their package's directory.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Find returns the path of template.yaml at the module root.
func Find() (string, error) {
	root, err := FindRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, FileName), nil
}
