// The texts the service sends, and how they are sent.

package binding

import (
	"context"
	"fmt"
	"time"
)

// Texts of the messages the service sends. Codes never appear anywhere else.
const (
	codeText          = "Код подтверждения: %s. Никому не сообщайте его, даже сотрудникам Госуслуг. Действует %s."
	unbindCodeText    = "Код для отвязки номера от профиля Госуслуг: %s. Никому не сообщайте его. Действует %s."
	changeRequestText = "Запрошена смена номера телефона в профиле Госуслуг. Если это были не вы, смените пароль и обратитесь в поддержку."
	unbindDoneText    = "Номер телефона отвязан от профиля Госуслуг. Если это были не вы, срочно обратитесь в поддержку."
	changeDoneText    = "Номер телефона в профиле Госуслуг изменён. Если это были не вы, срочно обратитесь в поддержку."

	unbindEmailSubject = "Код для отвязки номера телефона от профиля Госуслуг"
	unbindEmailBody    = "Здравствуйте!\n\n" +
		"Вы запросили отвязку номера %s от профиля Госуслуг. Код подтверждения: %s. Код действует %s.\n\n" +
		"Никому не сообщайте код, даже сотрудникам Госуслуг. Если вы не запрашивали отвязку, " +
		"не вводите код, смените пароль и обратитесь в поддержку."
)

// IsAlertText reports whether text is one of the alerts the service sends
// to a number about a change on its account (they carry no code). The
// alert function (shared/notify/alertsms) sends nothing else, so the
// function that asks it for an SMS cannot make it send arbitrary text.
func IsAlertText(text string) bool {
	switch text {
	case changeRequestText, unbindDoneText, changeDoneText:
		return true
	}
	return false
}

// lifetime says how long a code lives in the words of the SMS: whole
// minutes, or seconds for the short TTLs used in tests.
func lifetime(ttl time.Duration) string {
	if ttl < time.Minute {
		return fmt.Sprintf("%d сек", int(ttl.Seconds()))
	}
	return fmt.Sprintf("%d мин", int(ttl/time.Minute))
}

// alert tells a number about a change on its account. A lost alert must not
// fail the user's request, so failures are only logged.
func (s *Service) alert(ctx context.Context, to SealedPhone, text string) {
	e164, err := s.keys.Open(to.KeyID, to.Ciphertext)
	if err != nil {
		s.log.ErrorContext(ctx, "open number for alert", "error", err.Error(), "phone", to.Masked)
		return
	}
	if _, test := s.cfg.TestNumbers[e164]; test {
		return
	}
	if err := s.sms.SendSMS(ctx, e164, text); err != nil {
		s.log.WarnContext(ctx, "alert not sent", "error", err.Error(), "phone", to.Masked)
	}
}

// sendCodeSMS sends a text that carries code, through SendCodeSMS when the
// sender has it.
func (s *Service) sendCodeSMS(ctx context.Context, to, text, code string) error {
	if c, ok := s.sms.(CodeSMS); ok {
		return c.SendCodeSMS(ctx, to, text, code)
	}
	return s.sms.SendSMS(ctx, to, text)
}

// sendCodeEmail mails a letter that carries code, through SendCodeEmail
// when the sender has it.
func (s *Service) sendCodeEmail(ctx context.Context, to, subject, body, code string) error {
	if c, ok := s.email.(CodeEmail); ok {
		return c.SendCodeEmail(ctx, to, subject, body, code)
	}
	return s.email.SendEmail(ctx, to, subject, body)
}
