package config

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		TableName:      "phonebind",
		SMSSenderID:    "Gosuslugi",
		AllowedRegions: []string{"RU"},
		Binding: binding.Config{
			CodeLength:          6,
			CodeTTL:             5 * time.Minute,
			MaxAttempts:         5,
			ResendCooldown:      60 * time.Second,
			CodesPerAccountHour: 5,
			CodesPerPhoneDay:    10,
			CodesPerIPHour:      20,
			MaxFailuresDay:      15,
			CodesPerPrefixDay:   50,
			CodesGlobalDay:      100000,
			ChangeCooldown:      720 * time.Hour,
			UnbindEmailHold:     24 * time.Hour,
			ProfileURL:          "https://www.gosuslugi.ru/profile",
			ConsentVersion:      "2026-01",
			HistoryRetention:    26280 * time.Hour,
			ShareApprovalTTL:    720 * time.Hour,
			AccessLogRetention:  8760 * time.Hour,
			StepUp:              binding.StepUp{AMR: []string{"mfa", "otp", "sms", "hwk", "swk"}, MaxAge: 15 * time.Minute},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}
	if c.UsesEmulators() {
		t.Error("UsesEmulators with no endpoint set")
	}
}

func TestLoadGoodValues(t *testing.T) {
	tests := []struct {
		name, value string
		check       func(Config) any
		want        any
	}{
		{"TABLE_NAME", "phonebind-dev", func(c Config) any { return c.TableName }, "phonebind-dev"},
		{"EVENTS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:phone-events", func(c Config) any { return c.EventsTopicARN }, "arn:aws:sns:us-east-1:123456789012:phone-events"},
		{"SMS_SENDER_ID", "GosUslugi1", func(c Config) any { return c.SMSSenderID }, "GosUslugi1"},
		{"EMAIL_FROM", "Gosuslugi <noreply@gosuslugi.example>", func(c Config) any { return c.EmailFrom }, "Gosuslugi <noreply@gosuslugi.example>"},
		{"ALLOWED_REGIONS", "RU, KZ,BY,RU", func(c Config) any { return c.AllowedRegions }, []string{"RU", "KZ", "BY"}},
		{"CODE_LENGTH", "4", func(c Config) any { return c.Binding.CodeLength }, 4},
		{"CODE_LENGTH", "10", func(c Config) any { return c.Binding.CodeLength }, 10},
		{"CODE_TTL", "3s", func(c Config) any { return c.Binding.CodeTTL }, 3 * time.Second},
		{"CODE_MAX_ATTEMPTS", "1", func(c Config) any { return c.Binding.MaxAttempts }, 1},
		{"RESEND_COOLDOWN", "0s", func(c Config) any { return c.Binding.ResendCooldown }, time.Duration(0)},
		{"RESEND_COOLDOWN", "90s", func(c Config) any { return c.Binding.ResendCooldown }, 90 * time.Second},
		{"CODES_PER_ACCOUNT_HOUR", "1", func(c Config) any { return c.Binding.CodesPerAccountHour }, 1},
		{"CODES_PER_PHONE_DAY", "100", func(c Config) any { return c.Binding.CodesPerPhoneDay }, 100},
		{"CODES_PER_IP_HOUR", "1000", func(c Config) any { return c.Binding.CodesPerIPHour }, 1000},
		{"MAX_FAILURES_DAY", "3", func(c Config) any { return c.Binding.MaxFailuresDay }, 3},
		{"CODES_PER_PREFIX_DAY", "7", func(c Config) any { return c.Binding.CodesPerPrefixDay }, 7},
		{"CODES_GLOBAL_DAY", "500", func(c Config) any { return c.Binding.CodesGlobalDay }, 500},
		{"CHANGE_COOLDOWN", "0", func(c Config) any { return c.Binding.ChangeCooldown }, time.Duration(0)},
		{"CHANGE_COOLDOWN", "24h", func(c Config) any { return c.Binding.ChangeCooldown }, 24 * time.Hour},
		{"UNBIND_EMAIL_HOLD", "0s", func(c Config) any { return c.Binding.UnbindEmailHold }, time.Duration(0)},
		{"UNBIND_EMAIL_HOLD", "72h", func(c Config) any { return c.Binding.UnbindEmailHold }, 72 * time.Hour},
		{"PROFILE_URL", "https://lk.example.ru/profile?tab=phone", func(c Config) any { return c.Binding.ProfileURL }, "https://lk.example.ru/profile?tab=phone"},
		{"TEST_PHONE_NUMBERS", "+79990000001:123456, +79990000002:654321", func(c Config) any { return c.Binding.TestNumbers }, map[string]string{"+79990000001": "123456", "+79990000002": "654321"}},
		{"KEYS_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:keys", func(c Config) any { return c.KeysSecretARN }, "arn:aws:secretsmanager:us-east-1:123456789012:secret:keys"},
		{"DYNAMODB_ENDPOINT", "http://127.0.0.1:8000", func(c Config) any { return c.DynamoDBEndpoint }, "http://127.0.0.1:8000"},
		{"SNS_ENDPOINT", "http://127.0.0.1:5000", func(c Config) any { return c.SNSEndpoint }, "http://127.0.0.1:5000"},
		{"SES_ENDPOINT", "https://email.example.net", func(c Config) any { return c.SESEndpoint }, "https://email.example.net"},
		{"SECRETS_ENDPOINT", "http://localhost:5000/", func(c Config) any { return c.SecretsEndpoint }, "http://localhost:5000/"},
		{"AWS_REGION", "eu-central-1", func(c Config) any { return c.AWSRegion }, "eu-central-1"},
		{"CONSENT_VERSION", "2026-07", func(c Config) any { return c.Binding.ConsentVersion }, "2026-07"},
		{"HISTORY_RETENTION", "8760h", func(c Config) any { return c.Binding.HistoryRetention }, 8760 * time.Hour},
		{"SHARE_APPROVAL_TTL", "24h", func(c Config) any { return c.Binding.ShareApprovalTTL }, 24 * time.Hour},
		{"ACCESS_LOG_RETENTION", "90m", func(c Config) any { return c.Binding.AccessLogRetention }, 90 * time.Minute},
		{"STEP_UP_AMR", "mfa, hwk,mfa", func(c Config) any { return c.Binding.StepUp.AMR }, []string{"mfa", "hwk"}},
		{"STEP_UP_ACR", "urn:esia:loa:high,2fa", func(c Config) any { return c.Binding.StepUp.ACR }, []string{"urn:esia:loa:high", "2fa"}},
		{"STEP_UP_MAX_AGE", "5m", func(c Config) any { return c.Binding.StepUp.MaxAge }, 5 * time.Minute},
		// The edges of the hand-written checks (validate_test.go holds them
		// to the regular expressions they replaced).
		{"TABLE_NAME", "a.b", func(c Config) any { return c.TableName }, "a.b"},
		{"TABLE_NAME", "A_z-0.9", func(c Config) any { return c.TableName }, "A_z-0.9"},
		{"TABLE_NAME", strings.Repeat("t", 255), func(c Config) any { return c.TableName }, strings.Repeat("t", 255)},
		{"SMS_SENDER_ID", "a", func(c Config) any { return c.SMSSenderID }, "a"},
		{"SMS_SENDER_ID", "1-2-3-4-5-x", func(c Config) any { return c.SMSSenderID }, "1-2-3-4-5-x"},
		{"ALLOWED_REGIONS", "ZZ", func(c Config) any { return c.AllowedRegions }, []string{"ZZ"}},
		{"TEST_PHONE_NUMBERS", "+1234567:123456,+123456789012345:654321", func(c Config) any { return c.Binding.TestNumbers }, map[string]string{"+1234567": "123456", "+123456789012345": "654321"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			c, err := Load(env(map[string]string{tt.name: tt.value}))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tt.check(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoadBadValues(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string // the whole error message
	}{
		{map[string]string{"TABLE_NAME": "ab"}, `TABLE_NAME: "ab" is not a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.')`},
		{map[string]string{"TABLE_NAME": "phone bind"}, `TABLE_NAME: "phone bind" is not a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.')`},
		{map[string]string{"EVENTS_TOPIC_ARN": "phone-events"}, `EVENTS_TOPIC_ARN: "phone-events" is not an ARN (arn:aws:sns:REGION:ACCOUNT:NAME)`},
		{map[string]string{"SMS_SENDER_ID": "Госуслуги"}, `SMS_SENDER_ID: "Госуслуги" is not a sender id (1 to 11 Latin letters, digits or '-', at least one letter)`},
		{map[string]string{"SMS_SENDER_ID": "123456"}, `SMS_SENDER_ID: "123456" is not a sender id (1 to 11 Latin letters, digits or '-', at least one letter)`},
		{map[string]string{"SMS_SENDER_ID": "GosuslugiRUS"}, `SMS_SENDER_ID: "GosuslugiRUS" is not a sender id (1 to 11 Latin letters, digits or '-', at least one letter)`},
		{map[string]string{"EMAIL_FROM": "noreply"}, `EMAIL_FROM: "noreply" is not an e-mail address`},
		{map[string]string{"ALLOWED_REGIONS": "ru"}, `ALLOWED_REGIONS: "ru" is not a region code (two capital letters, like RU or KZ)`},
		{map[string]string{"ALLOWED_REGIONS": "RUS"}, `ALLOWED_REGIONS: "RUS" is not a region code (two capital letters, like RU or KZ)`},
		{map[string]string{"ALLOWED_REGIONS": "RU,,KZ"}, `ALLOWED_REGIONS: "" is not a region code (two capital letters, like RU or KZ)`},
		{map[string]string{"CODE_LENGTH": "six"}, `CODE_LENGTH: "six" is not a whole number`},
		{map[string]string{"CODE_LENGTH": "3"}, `CODE_LENGTH: 3 is out of range (allowed 4 to 10)`},
		{map[string]string{"CODE_LENGTH": "11"}, `CODE_LENGTH: 11 is out of range (allowed 4 to 10)`},
		{map[string]string{"CODE_TTL": "5x"}, `CODE_TTL: "5x" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"CODE_TTL": "300"}, `CODE_TTL: "300" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"CODE_TTL": "0s"}, `CODE_TTL: "0s" must be greater than zero`},
		{map[string]string{"CODE_TTL": "-5m"}, `CODE_TTL: "-5m" is negative`},
		{map[string]string{"SHARE_APPROVAL_TTL": "30d"}, `SHARE_APPROVAL_TTL: "30d" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"SHARE_APPROVAL_TTL": "0s"}, `SHARE_APPROVAL_TTL: "0s" must be greater than zero`},
		{map[string]string{"ACCESS_LOG_RETENTION": "1y"}, `ACCESS_LOG_RETENTION: "1y" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"ACCESS_LOG_RETENTION": "-1h"}, `ACCESS_LOG_RETENTION: "-1h" is negative`},
		{map[string]string{"CODE_MAX_ATTEMPTS": "0"}, `CODE_MAX_ATTEMPTS: 0 is too small (at least 1)`},
		{map[string]string{"CODE_MAX_ATTEMPTS": "2.5"}, `CODE_MAX_ATTEMPTS: "2.5" is not a whole number`},
		{map[string]string{"RESEND_COOLDOWN": "-1s"}, `RESEND_COOLDOWN: "-1s" is negative`},
		{map[string]string{"RESEND_COOLDOWN": "1 minute"}, `RESEND_COOLDOWN: "1 minute" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"CODES_PER_ACCOUNT_HOUR": "0"}, `CODES_PER_ACCOUNT_HOUR: 0 is too small (at least 1)`},
		{map[string]string{"CODES_PER_PHONE_DAY": "-3"}, `CODES_PER_PHONE_DAY: -3 is too small (at least 1)`},
		{map[string]string{"CODES_PER_IP_HOUR": "many"}, `CODES_PER_IP_HOUR: "many" is not a whole number`},
		{map[string]string{"CHANGE_COOLDOWN": "30d"}, `CHANGE_COOLDOWN: "30d" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"CHANGE_COOLDOWN": "-1h"}, `CHANGE_COOLDOWN: "-1h" is negative`},
		{map[string]string{"UNBIND_EMAIL_HOLD": "1d"}, `UNBIND_EMAIL_HOLD: "1d" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"UNBIND_EMAIL_HOLD": "-24h"}, `UNBIND_EMAIL_HOLD: "-24h" is negative`},
		{map[string]string{"PROFILE_URL": "www.gosuslugi.ru/profile"}, `PROFILE_URL: "www.gosuslugi.ru/profile" is not a page URL (use https://host/path)`},
		{map[string]string{"PROFILE_URL": "javascript:alert(1)"}, `PROFILE_URL: "javascript:alert(1)" is not a page URL (use https://host/path)`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001"}, `TEST_PHONE_NUMBERS: entry 1 is not number:code`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:123456,89990000002:123456"}, `TEST_PHONE_NUMBERS: entry 2: the number is not E.164 ('+' then 7 to 15 digits, no spaces)`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:12345a"}, `TEST_PHONE_NUMBERS: entry 1: the code is not all digits`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:12345"}, `TEST_PHONE_NUMBERS: entry 1: the code has 5 digits, CODE_LENGTH is 6`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:1234", "CODE_LENGTH": "4"}, ``},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:123456,+79990000001:654321"}, `TEST_PHONE_NUMBERS: entry 2 repeats the number of an earlier entry`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:123456,"}, `TEST_PHONE_NUMBERS: entry 2 is not number:code`},
		{map[string]string{"DYNAMODB_ENDPOINT": "localhost:8000"}, `DYNAMODB_ENDPOINT: "localhost:8000" is not an endpoint URL (use http://host:port or https://host)`},
		{map[string]string{"SNS_ENDPOINT": "127.0.0.1:5000"}, `SNS_ENDPOINT: "127.0.0.1:5000" is not an endpoint URL (use http://host:port or https://host)`},
		{map[string]string{"SES_ENDPOINT": "ftp://host"}, `SES_ENDPOINT: "ftp://host" is not an endpoint URL (use http://host:port or https://host)`},
		{map[string]string{"SECRETS_ENDPOINT": "http://"}, `SECRETS_ENDPOINT: "http://" is not an endpoint URL (use http://host:port or https://host)`},
		{map[string]string{"HISTORY_RETENTION": "0"}, `HISTORY_RETENTION: "0" must be greater than zero`},
		{map[string]string{"STEP_UP_AMR": "mfa otp"}, `STEP_UP_AMR: "mfa otp" is not a claim value (letters, digits and ._:/- only)`},
		{map[string]string{"STEP_UP_AMR": "none"}, `STEP_UP_AMR: is none and STEP_UP_ACR is empty: no session could ever change or remove a number`},
		{map[string]string{"STEP_UP_AMR": "none", "STEP_UP_ACR": "2fa"}, ``},
		{map[string]string{"STEP_UP_MAX_AGE": "0s"}, `STEP_UP_MAX_AGE: "0s" must be greater than zero`},
		{map[string]string{"HISTORY_RETENTION": "3y"}, `HISTORY_RETENTION: "3y" is not a duration (use Go syntax like 90s or 5m)`},
		{map[string]string{"TABLE_NAME": strings.Repeat("t", 256)}, `TABLE_NAME: "` + strings.Repeat("t", 256) + `" is not a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.')`},
		{map[string]string{"TABLE_NAME": "таблица"}, `TABLE_NAME: "таблица" is not a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.')`},
		{map[string]string{"TABLE_NAME": "phone/bind"}, `TABLE_NAME: "phone/bind" is not a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.')`},
		{map[string]string{"SMS_SENDER_ID": "---"}, `SMS_SENDER_ID: "---" is not a sender id (1 to 11 Latin letters, digits or '-', at least one letter)`},
		{map[string]string{"SMS_SENDER_ID": "Gos_uslugi"}, `SMS_SENDER_ID: "Gos_uslugi" is not a sender id (1 to 11 Latin letters, digits or '-', at least one letter)`},
		{map[string]string{"ALLOWED_REGIONS": "R1"}, `ALLOWED_REGIONS: "R1" is not a region code (two capital letters, like RU or KZ)`},
		{map[string]string{"ALLOWED_REGIONS": "ÄB"}, `ALLOWED_REGIONS: "ÄB" is not a region code (two capital letters, like RU or KZ)`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+123456:123456"}, `TEST_PHONE_NUMBERS: entry 1: the number is not E.164 ('+' then 7 to 15 digits, no spaces)`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+1234567890123456:123456"}, `TEST_PHONE_NUMBERS: entry 1: the number is not E.164 ('+' then 7 to 15 digits, no spaces)`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+0123456789:123456"}, `TEST_PHONE_NUMBERS: entry 1: the number is not E.164 ('+' then 7 to 15 digits, no spaces)`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+7912345678٣:123456"}, `TEST_PHONE_NUMBERS: entry 1: the number is not E.164 ('+' then 7 to 15 digits, no spaces)`},
		{map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:"}, `TEST_PHONE_NUMBERS: entry 1: the code is not all digits`},
	}
	for _, tt := range tests {
		name, _, _ := strings.Cut(tt.want, ":")
		if name == "" {
			name = "good"
		}
		t.Run(name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("env %v: %v", tt.env, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("env %v: no error, config %+v", tt.env, c)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
			var ve *VarError
			if !errors.As(err, &ve) || ve.Var != name {
				t.Errorf("error is not a *VarError for %s: %#v", name, err)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("config returned with an error: %+v", c)
			}
		})
	}
}

func TestLoadTestNumbersErrorsDoNotEchoValues(t *testing.T) {
	_, err := Load(env(map[string]string{
		"TEST_PHONE_NUMBERS": "+79990000001:98765,79990000002:111111,+79990000003:12x456,nonsense",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"9990000001", "9990000002", "9990000003", "98765", "111111", "12x456", "nonsense"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error echoes %q: %v", s, err)
		}
	}
	if n := strings.Count(err.Error(), "TEST_PHONE_NUMBERS: entry"); n != 4 {
		t.Errorf("%d entry errors, want 4: %v", n, err)
	}
}

func TestLoadReportsEveryBadVariable(t *testing.T) {
	_, err := Load(env(map[string]string{
		"CODE_TTL":          "5x",
		"CODE_LENGTH":       "2",
		"ALLOWED_REGIONS":   "ru",
		"DYNAMODB_ENDPOINT": "nope",
		"CODE_MAX_ATTEMPTS": "0",
		// Not checked against CODE_LENGTH while that is itself bad.
		"TEST_PHONE_NUMBERS": "+79990000001:123456",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	var names []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ve *VarError
		if !errors.As(e, &ve) {
			t.Fatalf("%v is not a *VarError", e)
		}
		names = append(names, ve.Var)
	}
	want := []string{"ALLOWED_REGIONS", "CODE_LENGTH", "CODE_TTL", "CODE_MAX_ATTEMPTS", "DYNAMODB_ENDPOINT"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("variables reported = %v, want %v", names, want)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.Contains(line, ": ") {
			t.Errorf("line %q does not name its variable", line)
		}
	}
}

func TestLoadRegionAndEmulators(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantRegion string
		emulators  bool
	}{
		{"nothing set: SDK decides", nil, "", false},
		{"region set", map[string]string{"AWS_REGION": "eu-west-1"}, "eu-west-1", false},
		{"endpoint set: us-east-1", map[string]string{"SNS_ENDPOINT": "http://127.0.0.1:5000"}, "us-east-1", true},
		{"secrets endpoint alone counts", map[string]string{"SECRETS_ENDPOINT": "http://127.0.0.1:5000"}, "us-east-1", true},
		{"endpoint and region", map[string]string{"DYNAMODB_ENDPOINT": "http://127.0.0.1:8000", "AWS_REGION": "ru-central1"}, "ru-central1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.AWSRegion != tt.wantRegion || c.UsesEmulators() != tt.emulators {
				t.Errorf("AWSRegion = %q, UsesEmulators = %v; want %q, %v", c.AWSRegion, c.UsesEmulators(), tt.wantRegion, tt.emulators)
			}
		})
	}
}

func TestAWSCredentials(t *testing.T) {
	testenv.NoAWSProfile(t)
	ctx := context.Background()
	awsFor := func(t *testing.T, vars map[string]string) aws.Config {
		t.Helper()
		c, err := Load(env(vars))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := c.AWS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	t.Run("emulator without credentials uses local/local", func(t *testing.T) {
		cfg := awsFor(t, map[string]string{"SNS_ENDPOINT": "http://127.0.0.1:5000"})
		if cfg.Region != "us-east-1" {
			t.Errorf("region = %q", cfg.Region)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if creds.AccessKeyID != "local" || creds.SecretAccessKey != "local" {
			t.Errorf("credentials = %s/%s, want local/local", creds.AccessKeyID, creds.SecretAccessKey)
		}
	})

	t.Run("emulator with env credentials keeps them", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		cfg := awsFor(t, map[string]string{"SNS_ENDPOINT": "http://127.0.0.1:5000", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"})
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if creds.AccessKeyID != "AKIDEXAMPLE" {
			t.Errorf("access key = %q, want the environment's", creds.AccessKeyID)
		}
	})

	t.Run("deployed: region from config", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		cfg := awsFor(t, map[string]string{"AWS_REGION": "eu-north-1"})
		if cfg.Region != "eu-north-1" {
			t.Errorf("region = %q", cfg.Region)
		}
	})
}

// The environment reaches the binding rules as binding.Config itself.
func TestBindingConfigFromTheEnvironment(t *testing.T) {
	cfg, err := Load(func(k string) string {
		return map[string]string{"CODE_TTL": "3m", "CHANGE_COOLDOWN": "1h", "CODES_PER_PHONE_DAY": "4", "TEST_PHONE_NUMBERS": "+79990000001:123456"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Binding
	if b.CodeTTL != 3*time.Minute || b.ChangeCooldown != time.Hour || b.CodesPerPhoneDay != 4 ||
		b.TestNumbers["+79990000001"] != "123456" || b.MaxAttempts != DefaultCodeMaxAttempts || b.HistoryRetention != DefaultHistoryRetention {
		t.Fatalf("binding config %+v", b)
	}
}
