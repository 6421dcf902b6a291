package httpapi

import (
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// caller is who made a request, as the JWT authorizer vouched for them.
type caller struct {
	accountID string
	email     string
	sourceIP  string
	session   binding.Session
}

// callerOf reads the authorizer's claims. The authorizer has already checked
// the token; a missing sub means the route was wired without it, and the
// request must not reach any account.
func callerOf(req events.APIGatewayV2HTTPRequest) (caller, error) {
	c := caller{sourceIP: req.RequestContext.HTTP.SourceIP}
	auth := req.RequestContext.Authorizer
	if auth == nil || auth.JWT == nil {
		return c, ErrUnauthorized
	}
	claims := auth.JWT.Claims
	c.accountID = claims["sub"]
	// Only an address the identity provider verified is used; one that
	// does not parse is treated as none, so it can never receive a code.
	if claims["email_verified"] == "true" {
		c.email = address(claims["email"])
	}
	c.session = binding.Session{AMR: claimList(claims["amr"]), ACR: claims["acr"], AuthTime: claimTime(claims["auth_time"])}
	if strings.TrimSpace(c.accountID) == "" {
		return c, ErrUnauthorized
	}
	return c, nil
}

// address is the e-mail address in v, or "" when v is not one bare
// address (a display name, a list, garbage).
func address(v string) string {
	if a, err := mail.ParseAddress(v); err == nil && a.Name == "" {
		return a.Address
	}
	return ""
}

// claimList reads an array claim as API Gateway passes it: "[mfa otp]".
// A bare value is a list of one.
func claimList(v string) []string {
	v = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "["), "]")
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
}

// claimTime reads a NumericDate claim (seconds since the epoch, as API
// Gateway passes it: "1764830400" or "1.7648304e+09"); zero when absent or
// not a number.
func claimTime(v string) time.Time {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(f > 0 && f < 1<<40) { // NaN and Inf fail too
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}
