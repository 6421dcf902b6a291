package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/phone"
)

// Every text a user can read, in Russian and English, kept together so that a
// translator (or a reviewer) sees them all at once. Machine codes are stable:
// frontends switch on them, so a code is never renamed once shipped.

// Machine codes of problem responses (SPEC §5).
const (
	codeUnauthorized         = "unauthorized"
	codeInsufficientAuth     = "insufficient_authentication"
	codeNotFound             = "not_found"
	codeInvalidJSON          = "invalid_json"
	codeInvalidRequest       = "invalid_request"
	codePayloadTooLarge      = "payload_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codePurposeMismatch      = "purpose_mismatch"
	codeInvalidPhone         = "invalid_phone"
	codeConsentRequired      = "consent_required"
	codeSamePhone            = "same_phone"
	codePhoneTaken           = "phone_taken"
	codeChangeTooSoon        = "change_too_soon"
	codeVerificationNotFound = "verification_not_found"
	codeCodeInvalid          = "code_invalid"
	codeCodeExpired          = "code_expired"
	codeAttemptsExceeded     = "code_attempts_exceeded"
	codeRateLimited          = "rate_limited"
	codeSMSUnavailable       = "sms_unavailable"
	codeNoPhoneBound         = "no_phone_bound"
	codeEmailUnavailable     = "email_unavailable"
	codeUnbindPending        = "unbind_pending"
	codeNoUnbindPending      = "no_unbind_pending"
	codePhoneOptedOut        = "phone_opted_out"
	codeUnavailable          = "temporarily_unavailable"
	codeIdempotencyReused    = "idempotency_key_reused"
	codeIdempotencyBusy      = "idempotency_in_progress"
	codeEmailSendFailed      = "email_send_failed"
	codeTicketNotFound       = "ticket_not_found"
	codeInvalidContact       = "invalid_contact"
	// The partners' access requests (access.go): an id the account does
	// not have, and one already decided or lapsed (reason says which).
	codeAccessRequestNotFound = "access_request_not_found"
	codeAccessRequestClosed   = "access_request_closed"
	codeInternal              = "internal"
)

// kind is what a code always means: its status and its English title.
type kind struct {
	status int
	title  string
}

var kinds = map[string]kind{
	codeUnauthorized:          {http.StatusUnauthorized, "Unauthorized"},
	codeInsufficientAuth:      {http.StatusUnauthorized, "Insufficient authentication"},
	codeNotFound:              {http.StatusNotFound, "Not found"},
	codeInvalidJSON:           {http.StatusBadRequest, "Invalid JSON"},
	codeInvalidRequest:        {http.StatusBadRequest, "Invalid request"},
	codePayloadTooLarge:       {http.StatusRequestEntityTooLarge, "Payload too large"},
	codeUnsupportedMediaType:  {http.StatusUnsupportedMediaType, "Unsupported media type"},
	codePurposeMismatch:       {http.StatusUnprocessableEntity, "Code for another action"},
	codeInvalidPhone:          {http.StatusUnprocessableEntity, "Invalid phone number"},
	codeConsentRequired:       {http.StatusUnprocessableEntity, "Consent required"},
	codeSamePhone:             {http.StatusConflict, "Same phone number"},
	codePhoneTaken:            {http.StatusConflict, "Phone number taken"},
	codeChangeTooSoon:         {http.StatusConflict, "Change too soon"},
	codeVerificationNotFound:  {http.StatusNotFound, "Verification not found"},
	codeCodeInvalid:           {http.StatusUnprocessableEntity, "Invalid code"},
	codeCodeExpired:           {http.StatusGone, "Code expired"},
	codeAttemptsExceeded:      {http.StatusGone, "Code attempts exceeded"},
	codeRateLimited:           {http.StatusTooManyRequests, "Too many requests"},
	codeSMSUnavailable:        {http.StatusServiceUnavailable, "SMS unavailable"},
	codeNoPhoneBound:          {http.StatusConflict, "No phone bound"},
	codeEmailUnavailable:      {http.StatusUnprocessableEntity, "E-mail unavailable"},
	codeUnbindPending:         {http.StatusConflict, "Removal of the number scheduled"},
	codeNoUnbindPending:       {http.StatusConflict, "No removal scheduled"},
	codePhoneOptedOut:         {http.StatusUnprocessableEntity, "Phone number opted out of SMS"},
	codeUnavailable:           {http.StatusServiceUnavailable, "Temporarily unavailable"},
	codeIdempotencyReused:     {http.StatusUnprocessableEntity, "Idempotency key reused"},
	codeIdempotencyBusy:       {http.StatusConflict, "Request in progress"},
	codeEmailSendFailed:       {http.StatusServiceUnavailable, "E-mail could not be sent"},
	codeTicketNotFound:        {http.StatusNotFound, "Ticket not found"},
	codeInvalidContact:        {http.StatusUnprocessableEntity, "Invalid contact"},
	codeAccessRequestNotFound: {http.StatusNotFound, "Access request not found"},
	codeAccessRequestClosed:   {http.StatusConflict, "Access request closed"},
	codeInternal:              {http.StatusInternalServerError, "Internal error"},
}

// text is one message in both languages.
type text struct{ ru, en string }

func (t text) in(l lang) string {
	if l == langEN {
		return t.en
	}
	return t.ru
}

// Detail keys: a code's own key, or code.variant where one code has several
// explanations. Formats take the arguments the mapping passes (see render).
const (
	detailVerificationUsed     = "verification_not_found.used"
	detailVerificationStale    = "verification_not_found.stale"
	detailEmptyBody            = "invalid_json.empty"
	detailTrailingData         = "invalid_json.trailing"
	detailNotObject            = "invalid_request.not_object"
	detailUnknownField         = "invalid_request.unknown_field"
	detailOtherPurpose         = "invalid_request.other_purpose"
	detailWrongType            = "invalid_request.wrong_type"
	detailRequired             = "invalid_request.required"
	detailCodeFormat           = "invalid_request.code_format"
	detailVerificationIDFormat = "invalid_request.verification_id_format"
	detailOneOf                = "invalid_request.one_of"
	detailIdempotencyKey       = "invalid_request.idempotency_key"
	detailSetting              = "invalid_request.setting"
	detailStepUpSecondFactor   = "insufficient_authentication.second_factor"
	detailStepUpFresh          = codeInsufficientAuth
	detailCooldown             = "rate_limited." + binding.LimitCooldown
	detailFailuresAccount      = "rate_limited." + binding.LimitFailuresAccount
	detailFailuresPhone        = "rate_limited." + binding.LimitFailuresPhone
)

// Detail keys of the support-ticket routes.
const (
	detailTooLong           = "invalid_request.too_long"
	detailNotAllowed        = "invalid_request.not_allowed"
	detailInvalidCursor     = "invalid_request.cursor"
	detailPageSize          = "invalid_request.limit"
	detailContactEmail      = "invalid_contact." + feedback.ContactInvalidEmail
	detailContactCharacters = "invalid_contact." + string(phone.ReasonInvalidCharacters)
	detailFeedbackDay       = "rate_limited." + feedback.LimitDaily
)

// Detail keys of the access routes.
const (
	detailAccessDecided = codeAccessRequestClosed
	detailAccessExpired = codeAccessRequestClosed + ".expired"
)

var details = map[string]text{
	codeUnauthorized: {
		"Требуется вход в систему.",
		"Sign-in required."},
	detailStepUpSecondFactor: {
		"Для этого действия войдите заново с подтверждением вторым фактором (например, кодом из SMS или приложения). Вход должен быть не раньше чем %d мин назад.",
		"For this action, sign in again with a second factor (such as a code from an SMS or an app), no more than %d min before."},
	detailStepUpFresh: {
		"Для этого действия войдите в систему заново: вход должен быть не раньше чем %d мин назад.",
		"For this action, sign in again: the sign-in must be no more than %d min old."},
	codeNotFound: {
		"Такого адреса нет.",
		"No such resource."},
	codeInvalidJSON: {
		"Тело запроса не является корректным JSON.",
		"The request body is not valid JSON."},
	detailEmptyBody: {
		"Тело запроса пустое, ожидается JSON-объект.",
		"The request body is empty; a JSON object is expected."},
	detailTrailingData: {
		"После JSON-объекта в теле запроса есть лишние данные.",
		"The request body has extra data after the JSON object."},
	codeInvalidRequest: {
		"Некорректный запрос.",
		"The request is invalid."},
	detailNotObject: {
		"Тело запроса должно быть JSON-объектом.",
		"The request body must be a JSON object."},
	detailUnknownField: {
		"Неизвестное поле «%s».",
		`Unknown field "%s".`},
	detailOtherPurpose: {
		"Поле «%s» не принимается в запросе с purpose «%s».",
		`Field "%s" is not accepted on a request with purpose "%s".`},
	detailWrongType: {
		"Поле «%s» имеет неверный тип: ожидается %s.",
		`Field "%s" has the wrong type: expected %s.`},
	detailRequired: {
		"Не заполнено обязательное поле «%s».",
		`Required field "%s" is missing.`},
	detailSetting: {
		"Такого значения настройки нет. Настройки не изменены.",
		"No such value for a setting. The settings were not changed."},
	detailCodeFormat: {
		"Код состоит только из цифр: введите цифры из сообщения.",
		"The code is digits only: enter the digits from the message."},
	detailVerificationIDFormat: {
		"Такого verification_id не бывает: возьмите его из ответа на запрос кода.",
		"No verification_id looks like this: take it from the answer to the code request."},
	detailOneOf: {
		"Недопустимое значение поля «%s»; допустимо: %s.",
		`Field "%s" has an unsupported value; allowed: %s.`},
	codePayloadTooLarge: {
		"Тело запроса больше %d байт.",
		"The request body is larger than %d bytes."},
	codePurposeMismatch: {
		"Этот код подтверждает другое действие. Попытка не потрачена.",
		"This code confirms another action. No attempt was spent."},
	codePurposeMismatch + ".bind": {
		"Этот код подтверждает привязку номера: отправьте его в POST /v1/phone/verification/confirm. Попытка не потрачена.",
		"This code confirms binding a number: send it to POST /v1/phone/verification/confirm. No attempt was spent."},
	codePurposeMismatch + ".unbind": {
		"Этот код подтверждает отвязку номера: отправьте его в POST /v1/phone/unbind. Попытка не потрачена.",
		"This code confirms removing the number: send it to POST /v1/phone/unbind. No attempt was spent."},
	codeUnsupportedMediaType: {
		"Тело запроса должно быть JSON: передайте заголовок Content-Type: application/json.",
		"The request body must be JSON: send the header Content-Type: application/json."},
	codeInvalidPhone: {
		"Неверный номер телефона.",
		"Invalid phone number."},
	codeInvalidPhone + "." + string(phone.ReasonEmpty): {
		"Введите номер телефона.",
		"Enter a phone number."},
	codeInvalidPhone + "." + string(phone.ReasonInvalidCharacters): {
		"Номер может содержать только цифры, пробелы, «+», дефисы, точки и скобки.",
		`A phone number may contain only digits, spaces, "+", hyphens, dots and parentheses.`},
	codeInvalidPhone + "." + string(phone.ReasonInvalidLength): {
		"В номере неверное количество цифр.",
		"The number has the wrong number of digits."},
	codeInvalidPhone + "." + string(phone.ReasonInvalidNumber): {
		"Такого номера не существует.",
		"This is not a valid phone number."},
	codeInvalidPhone + "." + string(phone.ReasonRegionNotAllowed): {
		"Номера этой страны не принимаются.",
		"Numbers from this country are not accepted."},
	codeInvalidPhone + "." + string(phone.ReasonNotMobile): {
		"Укажите номер мобильного телефона.",
		"Enter a mobile phone number."},
	codeConsentRequired: {
		"Нужно согласие на обработку персональных данных.",
		"Consent to the processing of personal data is required."},
	codeSamePhone: {
		"Этот номер уже привязан к вашей учётной записи.",
		"This number is already saved to your account."},
	codePhoneTaken: {
		"Этот номер привязан к другой учётной записи.",
		"This number is saved to another account."},
	codeChangeTooSoon: {
		"Номер недавно менялся. Сменить его снова можно будет после %s.",
		"The number was changed recently. It can be changed again after %s."},
	codeVerificationNotFound: {
		"Запрос на подтверждение не найден. Запросите новый код.",
		"Verification request not found. Request a new code."},
	detailVerificationUsed: {
		"Этот код уже использован или заменён новым запросом. Запросите новый код.",
		"This code was already used or replaced by a newer request. Request a new code."},
	detailVerificationStale: {
		"Данные профиля изменились после запроса кода. Запросите новый код.",
		"Your profile changed after the code was requested. Request a new code."},
	codeCodeInvalid: {
		"Неверный код. Осталось попыток: %d.",
		"Wrong code. Attempts left: %d."},
	codeCodeExpired: {
		"Срок действия кода истёк. Запросите новый код.",
		"The code has expired. Request a new one."},
	codeAttemptsExceeded: {
		"Превышено число попыток ввода кода. Запросите новый код.",
		"Too many wrong attempts. Request a new code."},
	codeRateLimited: {
		"Слишком много запросов. Повторите через %d с.",
		"Too many requests. Try again in %d s."},
	detailCooldown: {
		"Новый код можно запросить через %d с.",
		"A new code can be requested in %d s."},
	detailFailuresAccount: {
		"Слишком много неверных кодов за сутки. Новый код можно будет запросить через %d с.",
		"Too many wrong codes today. A new code can be requested in %d s."},
	detailFailuresPhone: {
		"Для этого номера введено слишком много неверных кодов за сутки. Новый код можно будет запросить через %d с.",
		"Too many wrong codes were entered for this number today. A new code can be requested in %d s."},
	detailIdempotencyKey: {
		"Заголовок Idempotency-Key должен содержать от 1 до 255 печатных символов ASCII.",
		"The Idempotency-Key header must be 1 to 255 printable ASCII characters."},
	codeIdempotencyReused: {
		"Этот ключ Idempotency-Key уже использован с другим запросом. Для нового запроса нужен новый ключ.",
		"This Idempotency-Key was already used with a different request. Use a new key for a new request."},
	codeIdempotencyBusy: {
		"Запрос с этим ключом Idempotency-Key ещё выполняется. Повторите через %d с.",
		"A request with this Idempotency-Key is still in progress. Try again in %d s."},
	codeUnavailable: {
		"Сервис временно перегружен. Повторите попытку через %d с.",
		"The service is busy. Try again in %d s."},
	codePhoneOptedOut: {
		"Этот номер отказался от SMS-рассылок, поэтому код не может быть доставлен. Отправьте оператору связи SMS «START» (или обратитесь к нему), затем запросите код снова, либо укажите другой номер.",
		"This number has opted out of SMS, so the code cannot be delivered. Reply START to the service or ask your carrier to opt back in, then request a code again, or use another number."},
	codeSMSUnavailable: {
		"Не удалось отправить SMS. Повторите попытку через %d с.",
		"The SMS could not be sent. Try again in %d s."},
	codeNoPhoneBound: {
		"К учётной записи не привязан номер телефона.",
		"No phone number is saved to your account."},
	codeEmailUnavailable: {
		"В учётной записи нет подтверждённого адреса электронной почты. Отвяжите номер кодом из SMS или обратитесь в поддержку.",
		"Your account has no verified e-mail address. Remove the number with an SMS code or contact support."},
	codeUnbindPending: {
		"Номер будет отвязан по вашему запросу. Чтобы привязать другой номер, сначала отмените отвязку.",
		"Your number is scheduled for removal. To save another number, cancel the removal first."},
	codeNoUnbindPending: {
		"Отвязка номера не запланирована: отменять нечего.",
		"No removal of the number is scheduled, so there is nothing to cancel."},
	codeEmailSendFailed: {
		"Не удалось отправить письмо. Повторите попытку через %d с.",
		"The e-mail could not be sent. Try again in %d s."},
	codeTicketNotFound: {
		"Обращение не найдено.",
		"Ticket not found."},
	codeInvalidContact: {
		"Укажите адрес электронной почты или номер мобильного телефона.",
		"Enter an e-mail address or a mobile phone number."},
	detailContactCharacters: {
		"Укажите адрес электронной почты или номер мобильного телефона.",
		"Enter an e-mail address or a mobile phone number."},
	detailContactEmail: {
		"Неверный адрес электронной почты.",
		"Invalid e-mail address."},
	detailTooLong: {
		"Поле «%s» длиннее %d символов.",
		`Field "%s" is longer than %d characters.`},
	detailNotAllowed: {
		"Поле «%s» здесь не допускается.",
		`Field "%s" is not allowed here.`},
	detailInvalidCursor: {
		"Неверный курсор страницы. Запросите список с начала.",
		"Invalid page cursor. Request the list from the start."},
	detailPageSize: {
		"Параметр «limit» должен быть целым числом от 1 до %d.",
		`Parameter "limit" must be a whole number from 1 to %d.`},
	detailFeedbackDay: {
		"Можно отправить не больше %d обращений в сутки. Следующее — после %s.",
		"At most %d tickets a day. You can send the next one after %s."},
	codeAccessRequestNotFound: {
		"Запрос на доступ к номеру не найден.",
		"Access request not found."},
	detailAccessDecided: {
		"По этому запросу решение уже принято.",
		"This access request has already been decided."},
	detailAccessExpired: {
		"Срок запроса истёк. Сервис запросит доступ снова при следующем обращении.",
		"This access request has expired. The service will ask again the next time it reads the number."},
	codeInternal: {
		"Внутренняя ошибка. Повторите попытку позже.",
		"Internal error. Please try again later."},
}

// jsonTypes names what a field expects, for wrong-type details.
var jsonTypes = map[string]text{
	"string":  {"строка", "a string"},
	"boolean": {"true или false", "true or false"},
	"number":  {"число", "a number"},
	"object":  {"объект", "an object"},
	"array":   {"массив", "an array"},
}

// stateTexts are the status_text values of SPEC §4.4.
var stateTexts = map[binding.State]text{
	binding.StateNone:     {"Номер не привязан", "No number saved"},
	binding.StatePending:  {"Ожидание подтверждения", "Awaiting confirmation"},
	binding.StateVerified: {"Номер сохранён", "Number saved"},
}

// requestStateTexts are the request.state_text values of SPEC §4.4.
var requestStateTexts = map[binding.RequestState]text{
	binding.RequestPending:   {"В обработке", "In progress"},
	binding.RequestCompleted: {"Успешно завершено", "Completed"},
	binding.RequestRejected:  {"Отклонено", "Rejected"},
	binding.RequestScheduled: {"Запланировано", "Scheduled"},
}

// ticketStatusTexts are the status_text values of a support ticket.
var ticketStatusTexts = map[feedback.Status]text{
	feedback.StatusNew:        {"Новое", "New"},
	feedback.StatusInProgress: {"В работе", "In progress"},
	feedback.StatusAnswered:   {"Получен ответ", "Answered"},
	feedback.StatusClosed:     {"Закрыто", "Closed"},
}

// render fills a detail format for l. Times are shown in UTC in each
// language's usual way; text arguments are picked in l.
func render(key string, l lang, args ...any) string {
	t, ok := details[key]
	if !ok {
		code, _, _ := strings.Cut(key, ".")
		t = details[code]
	}
	if len(args) == 0 {
		return t.in(l)
	}
	local := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case time.Time:
			if l == langEN {
				local[i] = a.UTC().Format("2 January 2006, 15:04 UTC")
			} else {
				local[i] = a.UTC().Format("02.01.2006 15:04 UTC")
			}
		case text:
			local[i] = a.in(l)
		default:
			local[i] = a
		}
	}
	return fmt.Sprintf(t.in(l), local...)
}
