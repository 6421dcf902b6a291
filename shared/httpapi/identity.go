package httpapi

import (
	"net/mail"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// caller is who made a request, as the JWT authorizer vouched for them.
type caller struct {
	accountID string
	email     string
	sourceIP  string
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
	c.accountID = auth.JWT.Claims["sub"]
	// The identity provider verified the address; one that does not parse
	// is treated as none, so it can never receive a code.
	if a, err := mail.ParseAddress(auth.JWT.Claims["email"]); err == nil && a.Name == "" {
		c.email = a.Address
	}
	if strings.TrimSpace(c.accountID) == "" {
		return c, ErrUnauthorized
	}
	return c, nil
}
