package contract

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// overridePair is one Name="value" of samconfig.toml's parameter_overrides.
var overridePair = regexp.MustCompile(`(\w+)=\\"([^"\\]*)\\"`)

// samconfigOverrides reads each environment's parameter_overrides:
// environment → parameter → value.
func samconfigOverrides(t *testing.T) map[string]map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	env := ""
	for line := range strings.SplitSeq(string(raw), "\n") {
		if strings.HasPrefix(line, "[") {
			env, _, _ = strings.Cut(strings.Trim(line, "[]"), ".")
		}
		if v, ok := strings.CutPrefix(line, "parameter_overrides = "); ok {
			out[env] = map[string]string{}
			for _, m := range overridePair.FindAllStringSubmatch(v, -1) {
				out[env][m[1]] = m[2]
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("samconfig.toml has no parameter_overrides")
	}
	return out
}

// allowedByPattern asks python3's re (which, like CloudFormation's Java
// patterns, knows look-ahead; Go's regexp does not) whether each value
// matches its pattern whole.
func allowedByPattern(t *testing.T, cases [][2]string) []bool {
	t.Helper()
	in, _ := json.Marshal(cases)
	cmd := exec.Command("python3", "-c", `import json, re, sys
print(json.dumps([re.fullmatch(p, v) is not None for p, v in json.load(sys.stdin)]))`)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var got []bool
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPlaceholdersRefused holds samconfig.toml to what it says: the values
// marked REPLACE are refused by the template's parameter patterns (so a
// deploy with one left stops before anything is created), every other
// value it sets is accepted, and so are real values of the same shape.
func TestPlaceholdersRefused(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed: the patterns use look-ahead, which Go's regexp cannot run")
	}
	params := loadTemplate(t).Section("Parameters")
	pattern := func(name string) string {
		p, _ := m(params[name])["AllowedPattern"].(string)
		return p
	}
	placeholders := map[string]bool{"JwtIssuer": true, "KeysSecretArn": true, "EmailFrom": true, "EmailIdentity": true, "AlarmEmail": true}
	realValues := map[string]string{
		"JwtIssuer":     "https://esia.gosuslugi.ru/",
		"KeysSecretArn": "arn:aws:secretsmanager:eu-central-1:210987654321:secret:phonebind/prod/keys-Q7x2Lm",
		"EmailFrom":     "no-reply@gosuslugi.ru",
		"EmailIdentity": "gosuslugi.ru",
		"AlarmEmail":    "phonebind-oncall@gosuslugi.ru",
	}
	type check struct {
		what string
		want bool
	}
	var cases [][2]string
	var checks []check
	for env, values := range samconfigOverrides(t) {
		for name, value := range values {
			p := pattern(name)
			if p == "" {
				continue
			}
			// An empty AlarmEmail is allowed: no e-mail subscription.
			refuse := placeholders[name] && value != ""
			cases = append(cases, [2]string{p, value})
			checks = append(checks, check{env + " " + name + "=" + value, !refuse})
		}
	}
	for name, value := range realValues {
		if p := pattern(name); p != "" {
			cases = append(cases, [2]string{p, value})
			checks = append(checks, check{"real " + name + "=" + value, true})
		} else {
			t.Errorf("%s has no AllowedPattern: a placeholder would pass", name)
		}
	}
	for i, ok := range allowedByPattern(t, cases) {
		switch {
		case ok && !checks[i].want:
			t.Errorf("%s is a placeholder, yet the template's pattern accepts it", checks[i].what)
		case !ok && checks[i].want:
			t.Errorf("%s is refused by the template's pattern", checks[i].what)
		}
	}
}
