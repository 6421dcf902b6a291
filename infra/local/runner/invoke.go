package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Invoke posts event to a running runner at baseURL for the function
// (POST /_local/invoke/{function}), as `make invoke` and the smoke test's
// local invoker do, and returns what the function answered. Any status but
// 200 is an error that names the function, the status and the start of the
// body.
func Invoke(ctx context.Context, baseURL, function string, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+InvokePath+function, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		s := strings.TrimSpace(string(body))
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		return nil, fmt.Errorf("invoke %s: status %d: %s", function, res.StatusCode, s)
	}
	return body, nil
}
