package runner

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// The local stand-in for the HTTP API JWT authorizer: HS256 only, with a
// shared secret, since there is no identity provider on a laptop. It checks
// what the real authorizer checks that makes sense locally (signature,
// algorithm, exp, nbf) and hands the claims over in the same string form.

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// SignHS256 makes a compact JWT over claims, signed with HMAC-SHA256 under
// secret. It is for local runs and tests; nothing deployed trusts it.
func SignHS256(secret []byte, claims map[string]any) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("sign JWT: empty secret")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign JWT: %w", err)
	}
	signingInput := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac(secret, signingInput)), nil
}

func mac(secret []byte, signingInput string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(signingInput))
	return h.Sum(nil)
}

// verifyHS256 checks a compact JWT and returns its claims. Any failure is
// just "invalid": the client learns no more from a real authorizer either.
func verifyHS256(secret []byte, token string, now time.Time) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("jwt: not three segments")
	}
	var header struct {
		Alg  string   `json:"alg"`
		Crit []string `json:"crit"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("jwt header: %w", err)
	}
	// The algorithm is fixed here, never taken from the token: "none" and
	// algorithm-confusion tokens fail this line.
	if header.Alg != "HS256" {
		return nil, fmt.Errorf("jwt: alg %q not accepted", header.Alg)
	}
	if len(header.Crit) > 0 {
		return nil, errors.New("jwt: critical header extensions not supported")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("jwt signature: %w", err)
	}
	if !hmac.Equal(sig, mac(secret, parts[0]+"."+parts[1])) {
		return nil, errors.New("jwt: bad signature")
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("jwt claims: %w", err)
	}
	if claims == nil {
		return nil, errors.New("jwt claims: not an object")
	}
	if exp, ok, err := numericDate(claims, "exp"); err != nil {
		return nil, err
	} else if ok && !now.Before(exp) {
		return nil, errors.New("jwt: expired")
	}
	if nbf, ok, err := numericDate(claims, "nbf"); err != nil {
		return nil, err
	} else if ok && now.Before(nbf) {
		return nil, errors.New("jwt: not valid yet")
	}
	return claims, nil
}

// decodeSegment reads one base64url JSON segment, keeping numbers exact.
func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

const maxSeconds = 1e12

// numericDate reads a NumericDate claim (seconds since the epoch).
func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return time.Time{}, false, fmt.Errorf("jwt: %s is not a number", name)
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("jwt: %s: %w", name, err)
	}
	// Clamp to ±30,000 years so absurd values cannot overflow time.Time.
	sec, frac := math.Modf(max(-maxSeconds, min(maxSeconds, f)))
	return time.Unix(int64(sec), int64(frac*float64(time.Second))), true, nil
}

// claimStrings renders claims the way API Gateway puts them into
// requestContext.authorizer.jwt.claims: every value a string, numbers as
// written, arrays as "[a b c]".
func claimStrings(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		if v == nil {
			continue
		}
		out[k] = claimString(v)
	}
	return out
}

func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// scopes are the token's OAuth scopes, from "scope" (space-separated) or
// "scp" (a list), as the authorizer reports them.
func scopes(claims map[string]any) []string {
	if s, ok := claims["scope"].(string); ok {
		return strings.Fields(s)
	}
	switch v := claims["scp"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
