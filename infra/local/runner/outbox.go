package runner

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/phone"
)

// serveOutbox answers GET /_local/outbox with what the local notifiers
// sent, oldest first (only what went to ?to= when it is given), and
// DELETE /_local/outbox by forgetting all of it (204).
func (s *server) serveOutbox(w http.ResponseWriter, r *http.Request, req *events.APIGatewayV2HTTPRequest) int {
	if r.Method == http.MethodDelete {
		s.outbox.Clear()
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	msgs := s.outbox.Messages()
	if r.URL.Query().Has("to") {
		to, err := s.destination(r.URL.Query().Get("to"))
		if err != nil {
			return writeMessage(w, http.StatusBadRequest, err.Error())
		}
		msgs = s.outbox.MessagesTo(to)
	}
	body, err := json.Marshal(msgs)
	if err != nil {
		s.logger.Error("encode outbox", slog.String("error", err.Error()))
		return s.write(w, req, httpapi.ErrorResponse(*req, err))
	}
	return s.write(w, req, okResponse(body, map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}))
}

// destination reads ?to= as the outbox keeps it: an e-mail address as it
// is, a number in any form the API accepts (+7 912 345-67-89,
// 8 (912) 345 67 89, …) as its E.164 form.
func (s *server) destination(to string) (string, error) {
	to = strings.TrimSpace(to)
	if strings.Contains(to, "@") {
		return to, nil
	}
	n, err := s.phones.Parse(to)
	if err != nil {
		var inv *phone.InvalidError
		if errors.As(err, &inv) {
			return "", errors.New("to: neither an e-mail address nor a phone number the API accepts (" + string(inv.Reason) + ")")
		}
		return "", err
	}
	return n.E164(), nil
}
