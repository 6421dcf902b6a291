package notify

import "strings"

// SendFailure wraps err, the failure of op (e.g. "send sms via sns"), so
// that errors.Is and errors.As see it, but prints it with every one of
// secrets (the destination and the body, which may hold a code) at least 4
// bytes long cut out: the error is logged, and logs must not hold numbers
// or codes. The SNS and SES senders (snsnotify, sesnotify) wrap theirs.
func SendFailure(op string, err error, secrets ...string) error {
	return &sendError{op: op, err: err, secrets: secrets}
}

// sendError is a SendFailure.
type sendError struct {
	op      string
	err     error
	secrets []string
}

func (e *sendError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return e.op + ": " + msg
}

func (e *sendError) Unwrap() error { return e.err }
