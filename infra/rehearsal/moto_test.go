package rehearsal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// account is the moto account the rehearsal runs in (the x-moto-account-id
// header): not the account samconfig.toml's placeholders name (moto's
// default), which the template refuses.
const account = "210987654321"

// region is moto's.
const region = "us-east-1"

// moto calls moto_server the way the AWS CLI would, one protocol per
// helper, without an SDK client per service (the module has SDK clients
// only for what the functions use). moto does not check signatures; it
// routes by the service named in the credential scope.
type moto struct {
	t        *testing.T
	endpoint string
	client   *http.Client
}

func (m *moto) do(service, method, path, contentType string, header map[string]string, body []byte) (int, []byte) {
	m.t.Helper()
	req, err := http.NewRequest(method, m.endpoint+path, bytes.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=test/%s/%s/%s/aws4_request, SignedHeaders=host, Signature=0",
		time.Now().UTC().Format("20060102"), region, service))
	req.Header.Set("x-moto-account-id", account)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := m.client.Do(req)
	if err != nil {
		m.t.Fatalf("%s %s %s: %v", service, method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// query is a Query-protocol call (CloudFormation, IAM, SNS, CloudWatch);
// the answer is XML.
func (m *moto) query(service, version, action string, params map[string]string) []byte {
	m.t.Helper()
	form := url.Values{"Action": {action}, "Version": {version}}
	for k, v := range params {
		form.Set(k, v)
	}
	status, raw := m.do(service, "POST", "/", "application/x-www-form-urlencoded", nil, []byte(form.Encode()))
	if status != 200 {
		m.t.Fatalf("%s %s: %d %s", service, action, status, raw)
	}
	return raw
}

// json11 is a JSON-protocol call (DynamoDB 1.0; KMS, Logs, Secrets
// Manager 1.1), decoded into out.
func (m *moto) json(service, target, version string, in any, out any) {
	m.t.Helper()
	body, _ := json.Marshal(in)
	status, raw := m.do(service, "POST", "/", "application/x-amz-json-"+version, map[string]string{"X-Amz-Target": target}, body)
	if status != 200 {
		m.t.Fatalf("%s %s: %d %s", service, target, status, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		m.t.Fatalf("%s %s: %v: %s", service, target, err, raw)
	}
}

// rest is a REST call (Lambda, S3) returning the body.
func (m *moto) rest(service, method, path string, body []byte) []byte {
	m.t.Helper()
	status, raw := m.do(service, method, path, "", nil, body)
	if status >= 300 {
		m.t.Fatalf("%s %s %s: %d %s", service, method, path, status, raw)
	}
	return raw
}

// xmlValues collects the text of every <name> element, in order.
func xmlValues(raw []byte, name string) []string {
	var out []string
	s := string(raw)
	open, end := "<"+name+">", "</"+name+">"
	for {
		i := strings.Index(s, open)
		if i < 0 {
			return out
		}
		s = s[i+len(open):]
		j := strings.Index(s, end)
		if j < 0 {
			return out
		}
		out = append(out, xmlUnescape(s[:j]))
		s = s[j+len(end):]
	}
}

func xmlUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#34;", `"`, "&apos;", "'", "&#39;", "'", "&amp;", "&").Replace(s)
}
