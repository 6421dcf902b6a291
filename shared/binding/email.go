package binding

import (
	"strings"
	"unicode/utf8"
)

// maskEmail shows where an e-mailed code went without spelling out the
// address: the first character of the local part and the whole domain,
// "i***@example.ru". An address without "@" is masked whole.
func maskEmail(addr string) string {
	local, domain, ok := strings.Cut(strings.TrimSpace(addr), "@")
	r, _ := utf8.DecodeRuneInString(local)
	if !ok || local == "" || r == utf8.RuneError {
		return "***"
	}
	return string(r) + "***@" + domain
}
