// Package config reads the service's settings from environment variables
// (SPEC §6) once, at cold start, and builds the AWS configuration from them.
// A bad value stops the function with a message that names the variable.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Config is every setting of SPEC §6, validated.
type Config struct {
	// TableName is the DynamoDB table (TABLE_NAME, default "phonebind").
	TableName string
	// EventsTopicARN is the SNS topic for domain events (EVENTS_TOPIC_ARN);
	// empty means events are not published.
	EventsTopicARN string
	// AlertFunction is the alert function's name or ARN (ALERT_FUNCTION),
	// through which confirm-code and unbind send the SMS that tells a number
	// it was replaced or removed: they publish domain events, so they may
	// not hold the Resource "*" SMS grant themselves (template.yaml). Empty
	// outside those functions.
	AlertFunction string
	// SMSSenderID is the SNS SMS sender id (SMS_SENDER_ID, default
	// "Gosuslugi").
	SMSSenderID string
	// EmailFrom is the SES sender address for e-mailed codes (EMAIL_FROM).
	EmailFrom string
	// AllowedRegions are the ISO 3166 regions numbers may come from
	// (ALLOWED_REGIONS, comma-separated, default RU).
	AllowedRegions []string
	// Binding is the binding rules, read straight into the domain's own
	// type from CODE_LENGTH, CODE_TTL, CODE_MAX_ATTEMPTS, RESEND_COOLDOWN,
	// CODES_PER_ACCOUNT_HOUR, CODES_PER_PHONE_DAY, CODES_PER_IP_HOUR,
	// MAX_FAILURES_DAY, CODES_PER_PREFIX_DAY, CODES_GLOBAL_DAY,
	// CHANGE_COOLDOWN, TEST_PHONE_NUMBERS ("+79990000001:123456,…", no SMS
	// is sent to them), CONSENT_VERSION, HISTORY_RETENTION and the step-up
	// STEP_UP_AMR, STEP_UP_ACR (comma-separated; "none" for no value) and
	// STEP_UP_MAX_AGE, and UNBIND_EMAIL_HOLD (how long a removal by e-mail
	// code waits; 0 removes at once), and PROFILE_URL (the portal's profile
	// page the letters link to, an http(s) URL); the defaults are the
	// constants below.
	Binding binding.Config
	// KeysSecretARN is the Secrets Manager secret holding the key material
	// (KEYS_SECRET_ARN); empty means the development keys.
	KeysSecretARN string
	// DynamoDBEndpoint overrides the DynamoDB endpoint (DYNAMODB_ENDPOINT),
	// for DynamoDB Local or a DynamoDB-compatible service.
	DynamoDBEndpoint string
	// SNSEndpoint overrides the SNS endpoint (SNS_ENDPOINT).
	SNSEndpoint string
	// SESEndpoint overrides the SES endpoint (SES_ENDPOINT).
	SESEndpoint string
	// SecretsEndpoint overrides the Secrets Manager endpoint
	// (SECRETS_ENDPOINT).
	SecretsEndpoint string
	// AWSRegion is the region (AWS_REGION). It defaults to us-east-1 when an
	// endpoint is overridden (emulators need one) and is otherwise left to
	// the SDK (Lambda always sets it).
	AWSRegion string

	// envCredentials says whether the environment names credentials, so that
	// AWS does not replace them with the emulator placeholders.
	envCredentials bool
}

// Defaults for the variables that have one.
const (
	DefaultTableName       = "phonebind"
	DefaultSMSSenderID     = "Gosuslugi"
	DefaultAllowedRegions  = "RU"
	DefaultCodeLength      = 6
	DefaultCodeTTL         = 5 * time.Minute
	DefaultCodeMaxAttempts = 5
	DefaultResendCooldown  = 60 * time.Second
	DefaultPerAccountHour  = 5
	DefaultPerPhoneDay     = 10
	DefaultPerIPHour       = 20
	DefaultMaxFailuresDay  = 15
	DefaultPerPrefixDay    = 50
	DefaultGlobalDay       = 100000
	DefaultChangeCooldown  = 720 * time.Hour
	// DefaultUnbindEmailHold is how long a removal by e-mail code waits.
	DefaultUnbindEmailHold = 24 * time.Hour
	// DefaultProfileURL is the portal's profile page the letters link to.
	DefaultProfileURL       = "https://www.gosuslugi.ru/profile"
	DefaultConsentVersion   = "2026-01"
	DefaultHistoryRetention = 26280 * time.Hour
	// DefaultShareApprovalTTL is how long a partner's approval lasts
	// (SPEC §4.8), and how long a request waits and a decline holds.
	DefaultShareApprovalTTL = 720 * time.Hour
	// DefaultAccessLogRetention is how long a read stays in the access log.
	DefaultAccessLogRetention = 8760 * time.Hour
	// DefaultStepUpAMR are the RFC 8176 methods that show a second factor.
	DefaultStepUpAMR    = "mfa,otp,sms,hwk,swk"
	DefaultStepUpMaxAge = 15 * time.Minute
	// DefaultEmulatorRegion is the region used when an endpoint is
	// overridden and AWS_REGION is unset.
	DefaultEmulatorRegion = "us-east-1"
)

// VarError is one bad environment variable. Load joins them all, so one run
// reports every mistake.
type VarError struct {
	// Var is the variable's name, e.g. CODE_TTL.
	Var string
	// Problem says what is wrong with the value, e.g. `"5x" is not a duration`.
	Problem string
}

func (e *VarError) Error() string { return e.Var + ": " + e.Problem }

// The value checks are written by hand rather than as regular expressions:
// compiling six of them took ~3 ms of every cold start (package init).
// config_test.go holds each one to the expression it replaces.

// isRegion is ^[A-Z]{2}$.
func isRegion(s string) bool {
	return len(s) == 2 && isUpper(s[0]) && isUpper(s[1])
}

// isE164 is ^\+[1-9][0-9]{6,14}$: '+', a non-zero digit, 6 to 14 more.
func isE164(s string) bool {
	return len(s) >= 8 && len(s) <= 16 && s[0] == '+' && s[1] >= '1' && s[1] <= '9' && isDigits(s[2:])
}

// isDigits is ^[0-9]+$.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isTableName is ^[A-Za-z0-9_.-]{3,255}$.
func isTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// isSenderID is ^[A-Za-z0-9-]{1,11}$ with at least one letter.
func isSenderID(s string) bool {
	if len(s) < 1 || len(s) > 11 {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isLetter(c):
			letter = true
		case isDigit(c) || c == '-':
		default:
			return false
		}
	}
	return letter
}

func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isLetter(c byte) bool { return isUpper(c) || 'a' <= c && c <= 'z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// Load reads and checks every variable through getenv (os.Getenv in mains,
// a map in tests). Unset or blank variables take their defaults. On any bad
// value it returns a zero Config and all the *VarError problems joined.
func Load(getenv func(string) string) (Config, error) {
	l := loader{getenv: getenv}
	c := Config{
		TableName:      l.str("TABLE_NAME", DefaultTableName),
		EventsTopicARN: l.str("EVENTS_TOPIC_ARN", ""),
		AlertFunction:  l.str("ALERT_FUNCTION", ""),
		SMSSenderID:    l.str("SMS_SENDER_ID", DefaultSMSSenderID),
		EmailFrom:      l.str("EMAIL_FROM", ""),
		AllowedRegions: l.regions("ALLOWED_REGIONS"),
		Binding: binding.Config{
			CodeLength:          l.integer("CODE_LENGTH", DefaultCodeLength, 4, 10),
			CodeTTL:             l.duration("CODE_TTL", DefaultCodeTTL, false),
			MaxAttempts:         l.integer("CODE_MAX_ATTEMPTS", DefaultCodeMaxAttempts, 1, 0),
			ResendCooldown:      l.duration("RESEND_COOLDOWN", DefaultResendCooldown, true),
			CodesPerAccountHour: l.integer("CODES_PER_ACCOUNT_HOUR", DefaultPerAccountHour, 1, 0),
			CodesPerPhoneDay:    l.integer("CODES_PER_PHONE_DAY", DefaultPerPhoneDay, 1, 0),
			CodesPerIPHour:      l.integer("CODES_PER_IP_HOUR", DefaultPerIPHour, 1, 0),
			MaxFailuresDay:      l.integer("MAX_FAILURES_DAY", DefaultMaxFailuresDay, 1, 0),
			CodesPerPrefixDay:   l.integer("CODES_PER_PREFIX_DAY", DefaultPerPrefixDay, 1, 0),
			CodesGlobalDay:      l.integer("CODES_GLOBAL_DAY", DefaultGlobalDay, 1, 0),
			ChangeCooldown:      l.duration("CHANGE_COOLDOWN", DefaultChangeCooldown, true),
			UnbindEmailHold:     l.duration("UNBIND_EMAIL_HOLD", DefaultUnbindEmailHold, true),
			ProfileURL:          l.pageURL("PROFILE_URL", DefaultProfileURL),
			ConsentVersion:      l.str("CONSENT_VERSION", DefaultConsentVersion),
			HistoryRetention:    l.duration("HISTORY_RETENTION", DefaultHistoryRetention, false),
			ShareApprovalTTL:    l.duration("SHARE_APPROVAL_TTL", DefaultShareApprovalTTL, false),
			AccessLogRetention:  l.duration("ACCESS_LOG_RETENTION", DefaultAccessLogRetention, false),
			StepUp: binding.StepUp{
				AMR:    l.names("STEP_UP_AMR", DefaultStepUpAMR),
				ACR:    l.names("STEP_UP_ACR", ""),
				MaxAge: l.duration("STEP_UP_MAX_AGE", DefaultStepUpMaxAge, false),
			},
		},
		KeysSecretARN:    l.str("KEYS_SECRET_ARN", ""),
		DynamoDBEndpoint: l.endpoint("DYNAMODB_ENDPOINT"),
		SNSEndpoint:      l.endpoint("SNS_ENDPOINT"),
		SESEndpoint:      l.endpoint("SES_ENDPOINT"),
		SecretsEndpoint:  l.endpoint("SECRETS_ENDPOINT"),
		AWSRegion:        l.str("AWS_REGION", ""),
		envCredentials:   l.str("AWS_ACCESS_KEY_ID", "") != "" || l.str("AWS_PROFILE", "") != "",
	}
	codeLengthOK := l.ok("CODE_LENGTH")
	c.Binding.TestNumbers = l.testNumbers("TEST_PHONE_NUMBERS", c.Binding.CodeLength, codeLengthOK)

	if !isTableName(c.TableName) {
		l.fail("TABLE_NAME", fmt.Sprintf("%q is not a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.')", c.TableName))
	}
	if c.EventsTopicARN != "" && !strings.HasPrefix(c.EventsTopicARN, "arn:") {
		l.fail("EVENTS_TOPIC_ARN", fmt.Sprintf("%q is not an ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", c.EventsTopicARN))
	}
	if !isSenderID(c.SMSSenderID) {
		l.fail("SMS_SENDER_ID", fmt.Sprintf("%q is not a sender id (1 to 11 Latin letters, digits or '-', at least one letter)", c.SMSSenderID))
	}
	if c.EmailFrom != "" {
		if a, err := mail.ParseAddress(c.EmailFrom); err != nil || a.Address == "" {
			l.fail("EMAIL_FROM", fmt.Sprintf("%q is not an e-mail address", c.EmailFrom))
		}
	}
	if up := c.Binding.StepUp; len(up.AMR) == 0 && len(up.ACR) == 0 && l.ok("STEP_UP_AMR") && l.ok("STEP_UP_ACR") {
		l.fail("STEP_UP_AMR", "is none and STEP_UP_ACR is empty: no session could ever change or remove a number")
	}
	if c.AWSRegion == "" && c.UsesEmulators() {
		c.AWSRegion = DefaultEmulatorRegion
	}
	if len(l.errs) > 0 {
		return Config{}, errors.Join(l.errs...)
	}
	return c, nil
}

// UsesEmulators reports whether any AWS endpoint is overridden, as it is for
// local runs against DynamoDB Local and moto.
func (c Config) UsesEmulators() bool {
	return c.DynamoDBEndpoint != "" || c.SNSEndpoint != "" || c.SESEndpoint != "" || c.SecretsEndpoint != ""
}

// loader reads variables and collects what is wrong with them.
type loader struct {
	getenv func(string) string
	errs   []error
	bad    map[string]bool
}

func (l *loader) fail(name, problem string) {
	l.errs = append(l.errs, &VarError{Var: name, Problem: problem})
	if l.bad == nil {
		l.bad = map[string]bool{}
	}
	l.bad[name] = true
}

func (l *loader) ok(name string) bool { return !l.bad[name] }

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

// integer reads a whole number in [lo, hi]; hi 0 means no upper bound.
func (l *loader) integer(name string, def, lo, hi int) int {
	raw := l.str(name, "")
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		l.fail(name, fmt.Sprintf("%q is not a whole number", raw))
		return def
	}
	switch {
	case hi > 0 && (n < lo || n > hi):
		l.fail(name, fmt.Sprintf("%d is out of range (allowed %d to %d)", n, lo, hi))
	case n < lo:
		l.fail(name, fmt.Sprintf("%d is too small (at least %d)", n, lo))
	}
	return n
}

// duration reads a Go duration; zero is allowed only when zeroOK.
func (l *loader) duration(name string, def time.Duration, zeroOK bool) time.Duration {
	raw := l.str(name, "")
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		l.fail(name, fmt.Sprintf("%q is not a duration (use Go syntax like 90s or 5m)", raw))
		return def
	}
	switch {
	case d < 0:
		l.fail(name, fmt.Sprintf("%q is negative", raw))
	case d == 0 && !zeroOK:
		l.fail(name, fmt.Sprintf("%q must be greater than zero", raw))
	}
	return d
}

func (l *loader) regions(name string) []string {
	raw := l.str(name, DefaultAllowedRegions)
	var out []string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(raw, ",") {
		r := strings.TrimSpace(part)
		if !isRegion(r) {
			l.fail(name, fmt.Sprintf("%q is not a region code (two capital letters, like RU or KZ)", r))
			continue
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// names reads a comma-separated list of claim values (amr methods, acr
// classes: letters, digits and ._:/-). "none" is the empty list, since a
// blank variable takes the default.
func (l *loader) names(name, def string) []string {
	raw := l.str(name, def)
	if raw == "" || raw == "none" {
		return nil
	}
	var out []string
	for part := range strings.SplitSeq(raw, ",") {
		v := strings.TrimSpace(part)
		if v == "" || strings.IndexFunc(v, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:/-", r))
		}) >= 0 {
			l.fail(name, fmt.Sprintf("%q is not a claim value (letters, digits and ._:/- only)", v))
			continue
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// pageURL reads the address of a page a letter links to: an absolute
// http(s) URL with a host, nothing a reader could not open.
func (l *loader) pageURL(name, def string) string {
	raw := l.str(name, def)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(raw, " \t\r\n") {
		l.fail(name, fmt.Sprintf("%q is not a page URL (use https://host/path)", raw))
	}
	return raw
}

func (l *loader) endpoint(name string) string {
	raw := l.str(name, "")
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, fmt.Sprintf("%q is not an endpoint URL (use http://host:port or https://host)", raw))
	}
	return raw
}

// testNumbers parses "number:code,…". Its messages name entries by position
// and never repeat a number or a code: the variable is a secret of sorts.
func (l *loader) testNumbers(name string, codeLength int, checkLength bool) map[string]string {
	raw := l.str(name, "")
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	i := 0
	for part := range strings.SplitSeq(raw, ",") {
		i++
		number, code, found := strings.Cut(strings.TrimSpace(part), ":")
		number, code = strings.TrimSpace(number), strings.TrimSpace(code)
		switch {
		case !found:
			l.fail(name, fmt.Sprintf("entry %d is not number:code", i))
		case !isE164(number):
			l.fail(name, fmt.Sprintf("entry %d: the number is not E.164 ('+' then 7 to 15 digits, no spaces)", i))
		case !isDigits(code):
			l.fail(name, fmt.Sprintf("entry %d: the code is not all digits", i))
		case checkLength && len(code) != codeLength:
			l.fail(name, fmt.Sprintf("entry %d: the code has %d digits, CODE_LENGTH is %d", i, len(code), codeLength))
		case out[number] != "":
			l.fail(name, fmt.Sprintf("entry %d repeats the number of an earlier entry", i))
		default:
			out[number] = code
		}
	}
	return out
}
