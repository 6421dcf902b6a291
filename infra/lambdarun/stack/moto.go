package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// SMS returns the texts moto's SNS accepted for number, oldest first, from
// moto's state dump (it is shared: use numbers no one else uses).
func SMS(ctx context.Context, moto, number string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(moto, "/")+"/moto-api/data.json", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read moto state: %w", err)
	}
	defer res.Body.Close()
	var data struct {
		SNS struct {
			SMS []struct {
				PhoneNumber string `json:"phone_number"`
				Message     string `json:"message"`
			} `json:"SMS"`
		} `json:"sns"`
	}
	if err := json.NewDecoder(res.Body).Decode(&data); err != nil {
		return nil, fmt.Errorf("read moto state: %w", err)
	}
	var out []string
	for _, m := range data.SNS.SMS {
		if m.PhoneNumber == number {
			out = append(out, m.Message)
		}
	}
	return out, nil
}

var codePattern = regexp.MustCompile(`\b\d{4,10}\b`)

// LatestCode is the code in the newest SMS to number that carries one.
func LatestCode(ctx context.Context, moto, number string) (string, error) {
	msgs, err := SMS(ctx, moto, number)
	if err != nil {
		return "", err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if c := codePattern.FindString(msgs[i]); c != "" {
			return c, nil
		}
	}
	return "", fmt.Errorf("no SMS with a code reached %s in moto", number)
}
