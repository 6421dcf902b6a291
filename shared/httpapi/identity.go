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
	if email := auth.JWT.Claims["email"]; plainAddress(email) {
		c.email = email // what mail.ParseAddress would give, without its allocations
	} else if a, err := mail.ParseAddress(email); err == nil && a.Name == "" {
		c.email = a.Address
	}
	if strings.TrimSpace(c.accountID) == "" {
		return c, ErrUnauthorized
	}
	return c, nil
}

// plainAddress reports whether s is an address mail.ParseAddress reads as
// itself, with no display name: dot-atoms of letters, digits, '_', '+' and
// '-' on either side of one '@'. Anything else is left to mail.ParseAddress.
func plainAddress(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && dotAtom(local) && dotAtom(domain)
}

// dotAtom reports whether s is non-empty runs of atext (the subset above)
// joined by single dots.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '+', c == '-':
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
