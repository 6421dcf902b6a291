// The texts the service sends, and how they are sent.

package binding

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Texts of the messages the service sends. Codes never appear anywhere else.
const (
	codeText          = "Код подтверждения: %s. Никому не сообщайте его, даже сотрудникам Госуслуг. Действует %s."
	unbindCodeText    = "Код для отвязки номера от профиля Госуслуг: %s. Никому не сообщайте его. Действует %s."
	changeRequestText = "Запрошена смена номера телефона в профиле Госуслуг. Если это были не вы, смените пароль и обратитесь в поддержку."
	unbindDoneText    = "Номер телефона отвязан от профиля Госуслуг. Если это были не вы, срочно обратитесь в поддержку."
	changeDoneText    = "Номер телефона в профиле Госуслуг изменён. Если это были не вы, срочно обратитесь в поддержку."

	unbindScheduledText = "Номер будет отвязан от профиля Госуслуг %s. Если это не вы, отмените отвязку в профиле или обратитесь в поддержку."
	unbindCancelledText = "Отвязка номера от профиля Госуслуг отменена. Номер остаётся в профиле."

	unbindScheduledSubject = "Номер телефона будет отвязан от профиля Госуслуг / Your phone number will be removed"
	unbindScheduledBody    = "Здравствуйте!\n\n" +
		"Номер %[1]s будет отвязан от профиля Госуслуг %[2]s. " +
		"Если это не вы, отмените отвязку в профиле или обратитесь в поддержку.\n\n" +
		"The phone number %[1]s will be removed from your Gosuslugi profile on %[2]s. " +
		"If this was not you, cancel the removal in your profile or contact support."

	unbindDoneSubject = "Номер телефона отвязан от профиля Госуслуг / Your phone number was removed"
	unbindDoneBody    = "Здравствуйте!\n\n" +
		"Номер %[1]s отвязан от профиля Госуслуг. Если это были не вы, срочно смените пароль и обратитесь в поддержку. " +
		"Профиль: %[2]s\n\n" +
		"The phone number %[1]s was removed from your Gosuslugi profile. " +
		"If this was not you, change your password and contact support at once. Profile: %[2]s"

	// The letters after a bind (a notice, sent with e-mail notices on) and
	// a change (a security alert, sent whatever is set).
	boundSubject = "Номер телефона сохранён в профиле Госуслуг / Your phone number was saved"
	boundBody    = "Здравствуйте!\n\n" +
		"Номер сохранён в профиле Госуслуг: %[1]s. Его можно посмотреть, изменить или удалить в профиле: %[2]s\n\n" +
		"The phone number %[1]s was saved to your Gosuslugi profile. " +
		"You can view, change or remove it in your profile: %[2]s"
	changeDoneSubject = "Номер телефона в профиле Госуслуг изменён / Your phone number was changed"
	changeDoneBody    = "Здравствуйте!\n\n" +
		"Номер сохранён в профиле Госуслуг вместо прежнего: %[1]s. Если это были не вы, срочно смените пароль и обратитесь в поддержку. " +
		"Профиль: %[2]s\n\n" +
		"The phone number %[1]s was saved to your Gosuslugi profile in place of the previous one. " +
		"If this was not you, change your password and contact support at once. Profile: %[2]s"

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
	case changeRequestText, unbindDoneText, changeDoneText, unbindCancelledText:
		return true
	}
	// The hold's notice names its date: unbindScheduledText with a
	// moscowTime in it, nothing else.
	before, after, _ := strings.Cut(unbindScheduledText, "%s")
	when, ok := strings.CutPrefix(text, before)
	if ok {
		when, ok = strings.CutSuffix(when, after)
	}
	return ok && scheduledWhen.MatchString(when)
}

// scheduledWhen is what moscowTime writes.
var scheduledWhen = regexp.MustCompile(`^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(МСК\)$`)

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

// letter mails a security notice to the account's verified address. Like
// alert it is best effort, after the commit: a lost letter is logged, never
// undoes the change. No address, or no e-mail sender, sends nothing.
func (s *Service) letter(ctx context.Context, to, subject, body string) {
	if to == "" || s.email == nil {
		return
	}
	if err := s.email.SendEmail(ctx, to, subject, body); err != nil {
		s.log.WarnContext(ctx, "letter not sent", "error", err.Error(), "to", maskEmail(to))
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
