// Package app assembles the service from its configuration: key ring, store,
// message senders, domain service and HTTP handlers. Every Lambda main and
// the local runner build the same thing here, so what runs on a laptop is
// what runs in AWS.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/idempotency"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/ops"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
)

// Options say how far the assembly may stand in for AWS.
type Options struct {
	// Local allows the embedded stand-ins: the in-memory store when no
	// DYNAMODB_ENDPOINT is set, the console outbox when no SNS_ENDPOINT is
	// set, and development keys when no KEYS_SECRET_ARN is set. Deployed
	// functions never set it.
	Local bool
	// Logger receives the service's logs; nil means JSON on stdout, which
	// is what CloudWatch Logs expects from a Lambda function.
	Logger *slog.Logger
	// Outbox receives messages when Local stands in for SNS; nil makes one
	// that prints to stdout.
	Outbox *notify.Outbox
	// Clock replaces time.Now, for tests.
	Clock binding.Clock
	// Metrics receives the EMF metric lines. Nil means stdout (where Lambda
	// sends them to CloudWatch) when deployed, and no metrics in a local run.
	Metrics io.Writer
}

// App is the assembled service.
type App struct {
	Config  config.Config
	Service *binding.Service
	API     *httpapi.API
	Logger  *slog.Logger
	// Outbox is the local stand-in for SMS, nil when SNS is used.
	Outbox *notify.Outbox
	// Metrics records EMF metrics; nil records none.
	Metrics *metrics.EMF
	// Tickets is the support-ticket service (SPEC §4.5), FeedbackAPI its
	// HTTP routes (shared/app/feedback.go assembles both).
	Tickets     *feedback.Service
	FeedbackAPI *httpapi.FeedbackAPI
	// Idempotency keeps the answers to requests sent with an
	// Idempotency-Key.
	Idempotency idempotency.Store
	clock       binding.Clock
}

// New assembles the service. It is called once per cold start.
func New(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	a := &App{Config: cfg, Logger: logger}
	switch {
	case opts.Metrics != nil:
		a.Metrics = metrics.NewEMF(opts.Metrics, opts.Clock)
	case !opts.Local:
		a.Metrics = metrics.NewEMF(os.Stdout, opts.Clock)
	}

	needAWS := !opts.Local || cfg.UsesEmulators() || cfg.KeysSecretARN != ""
	var awsCfg aws.Config
	if needAWS {
		var err error
		if awsCfg, err = cfg.AWS(ctx); err != nil {
			return nil, err
		}
	}

	keys, err := loadKeys(ctx, cfg, awsCfg, opts.Local)
	if err != nil {
		return nil, err
	}

	var st binding.Store
	if opts.Local && cfg.DynamoDBEndpoint == "" {
		st = store.NewMemory()
		a.Idempotency = store.NewMemoryIdempotency()
	} else {
		db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			if cfg.DynamoDBEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.DynamoDBEndpoint)
				// DynamoDB Local's CRC header does not match its error
				// bodies; the check matters only on the wire to AWS.
				o.DisableValidateResponseChecksum = true
			}
		})
		st = store.NewDynamo(db, cfg.TableName)
		a.Idempotency = store.NewDynamoIdempotency(db, cfg.TableName)
	}
	a.clock = opts.Clock

	senders := a.senders(cfg, awsCfg, opts)

	a.Service = binding.New(binding.Config{
		CodeLength:          cfg.CodeLength,
		CodeTTL:             cfg.CodeTTL,
		MaxAttempts:         cfg.CodeMaxAttempts,
		ResendCooldown:      cfg.ResendCooldown,
		CodesPerAccountHour: cfg.CodesPerAccountHour,
		CodesPerPhoneDay:    cfg.CodesPerPhoneDay,
		CodesPerIPHour:      cfg.CodesPerIPHour,
		MaxFailuresDay:      cfg.MaxFailuresDay,
		CodesPerPrefixDay:   cfg.CodesPerPrefixDay,
		CodesGlobalDay:      cfg.CodesGlobalDay,
		ChangeCooldown:      cfg.ChangeCooldown,
		TestNumbers:         cfg.TestPhoneNumbers,
		ConsentVersion:      cfg.ConsentVersion,
		HistoryRetention:    cfg.HistoryRetention,
	}, st, senders, keys, opts.Clock, logger)
	a.API = httpapi.New(a.Service, phone.NewParser(cfg.AllowedRegions), logger)
	a.API.SetMetrics(a.Metrics)
	a.newFeedback(cfg, awsCfg, opts, st, keys)
	return a, nil
}

// senders picks where SMS, e-mail and events go: the AWS services (or the
// emulators their endpoints name), or, in a local run without endpoints,
// the outbox and the log.
func (a *App) senders(cfg config.Config, awsCfg aws.Config, opts Options) binding.Senders {
	outbox := func() *notify.Outbox {
		if a.Outbox == nil {
			a.Outbox = opts.Outbox
			if a.Outbox == nil {
				a.Outbox = notify.NewOutbox(os.Stdout, nil)
			}
		}
		return a.Outbox
	}
	var snsClient *sns.Client
	snsAPI := func() *sns.Client {
		if snsClient == nil {
			snsClient = sns.NewFromConfig(awsCfg, func(o *sns.Options) {
				if cfg.SNSEndpoint != "" {
					o.BaseEndpoint = aws.String(cfg.SNSEndpoint)
				}
			})
		}
		return snsClient
	}
	var s binding.Senders

	if opts.Local && cfg.SNSEndpoint == "" {
		s.SMS = outbox()
	} else {
		// Never retried by the SDK: after an ambiguous failure (a timeout
		// once the request was sent) a retry could deliver a second SMS. The
		// caller gets 503 and asks again, under the resend cooldown.
		s.SMS = notify.NewSNSSMS(sns.NewFromConfig(awsCfg, func(o *sns.Options) {
			o.RetryMaxAttempts = 1
			if cfg.SNSEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.SNSEndpoint)
			}
		}), cfg.SMSSenderID)
	}

	switch {
	case opts.Local && cfg.SESEndpoint == "":
		s.Email = outbox()
	case cfg.EmailFrom == "":
		// Unbinding by e-mail then answers 503; everything else works.
		a.Logger.Warn("EMAIL_FROM is not set: codes cannot be e-mailed")
	default:
		s.Email = notify.NewSESEmail(sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) {
			if cfg.SESEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.SESEndpoint)
			}
		}), cfg.EmailFrom)
	}

	switch {
	case cfg.EventsTopicARN != "":
		s.Events = notify.PhoneEvents{Publisher: notify.NewEventTopic(snsAPI(), cfg.EventsTopicARN)}
	case opts.Local:
		s.Events = notify.PhoneEvents{Publisher: notify.NewEventLog(a.Logger)}
	default:
		a.Logger.Warn("EVENTS_TOPIC_ARN is not set: domain events are not published")
	}
	s.Events = metrics.PhoneEvents{Next: s.Events, Metrics: a.Metrics}
	return s
}

func loadKeys(ctx context.Context, cfg config.Config, awsCfg aws.Config, local bool) (*secure.Keyring, error) {
	if cfg.KeysSecretARN == "" {
		if !local {
			return nil, fmt.Errorf("KEYS_SECRET_ARN: required outside local runs (development keys are public)")
		}
		return secure.DevKeyring(), nil
	}
	client := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if cfg.SecretsEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.SecretsEndpoint)
		}
	})
	keys, err := secure.LoadFromSecretsManager(ctx, client, cfg.KeysSecretARN)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	return keys, nil
}

// Function logical ids, as template.yaml names them.
const (
	RequestCodeFunction = "RequestCodeFunction"
	ConfirmCodeFunction = "ConfirmCodeFunction"
	StatusFunction      = "StatusFunction"
	UnbindFunction      = "UnbindFunction"
)

// Handlers maps each function's logical id to its handler, for the local
// runner, which serves the routes template.yaml gives each function.
//
// Every POST is idempotent under an Idempotency-Key header.
func (a *App) Handlers() map[string]httpapi.Handler {
	idem := func(h httpapi.Handler) httpapi.Handler {
		return httpapi.Idempotent(a.Idempotency, h, a.Logger, a.clock)
	}
	return map[string]httpapi.Handler{
		RequestCodeFunction: idem(a.API.RequestCode),
		ConfirmCodeFunction: idem(a.API.ConfirmCode),
		StatusFunction:      a.API.Status,
		UnbindFunction:      idem(a.API.Unbind),
		FeedbackFunction:    idem(a.FeedbackAPI.Handle),
	}
}

// Handler returns one function's handler, for a Lambda main.
func (a *App) Handler(functionID string) (httpapi.Handler, error) {
	h, ok := a.Handlers()[functionID]
	if !ok {
		return nil, fmt.Errorf("no handler for function %s", functionID)
	}
	return h, nil
}

// functionDirs maps each function's directory under functions/ to its
// logical id, so a function can be named either way (make invoke FN=unbind).
var functionDirs = map[string]string{
	"request-code": RequestCodeFunction,
	"confirm-code": ConfirmCodeFunction,
	"status":       StatusFunction,
	"unbind":       UnbindFunction,
	"feedback":     FeedbackFunction,
}

// actions are the ops events each function takes by direct invocation.
func (a *App) actions() map[string]map[string]ops.Action {
	return map[string]map[string]ops.Action{
		UnbindFunction:   {"support_unbind": ops.SupportUnbind(a.Service, a.Logger)},
		FeedbackFunction: {"update_ticket": ops.UpdateTicket(a.Tickets, a.Logger)},
	}
}

// Lambda is a function's whole Lambda handler, named by logical id or by
// directory: its HTTP route and its ops actions, as a direct invocation
// (the console's Test tab, sam local invoke, make invoke) reaches them.
func (a *App) Lambda(function string) (ops.Handler, error) {
	id := function
	if mapped, ok := functionDirs[function]; ok {
		id = mapped
	}
	h, ok := a.Handlers()[id]
	if !ok {
		known := make([]string, 0, len(functionDirs))
		for dir := range functionDirs {
			known = append(known, dir)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("no function %q (known: %s, or their logical ids)", function, strings.Join(known, ", "))
	}
	return ops.Function(h, a.actions()[id], a.Logger), nil
}

// Unbind is the unbind function's Lambda handler: POST /v1/phone/unbind, and
// the operators' support_unbind event by direct invocation.
func (a *App) Unbind() ops.Handler {
	return ops.Function(a.Handlers()[UnbindFunction], a.actions()[UnbindFunction], a.Logger)
}

// Start is a Lambda cold start: it reads the environment, assembles the
// service and, when a variable is bad or a dependency cannot be loaded,
// stops the process with a message naming the problem (Lambda shows it as
// an init error, and no request is ever served half-configured).
func Start() *App {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(1)
	}
	a, err := New(context.Background(), cfg, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	return a
}
