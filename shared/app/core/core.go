// Package core assembles the service from its configuration: key ring,
// store, message senders, domain service and HTTP handlers. Every Lambda
// main and the local runner build the same thing here, so what runs on a
// laptop is what runs in AWS.
//
// It links no AWS client but DynamoDB's (every function uses the table).
// The others come in through AWS, as constructors a main names: a function
// is linked with, and initialises at its cold start, only the SDK clients
// it uses (Go runs the package initialisation of everything a binary
// imports, and each client's endpoint tables and schemas are a measurable
// part of a cold start). Package shared/app is this assembly with every
// client, for the local tools and the tests.
package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/idempotency"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/privacy"
	"github.com/gosuslugi/phonebind/shared/store"
)

// AWS names the AWS-backed parts a function uses, each as a constructor
// from the AWS configuration and the service's. A nil constructor leaves
// the part out, and its SDK client unlinked:
//
//   - SMS nil: an SMS fails (never nil in a function that sends one);
//   - Email nil: an e-mailed code fails as undeliverable;
//   - Events nil: nothing is published, even with EVENTS_TOPIC_ARN set
//     (a publish fails and is logged);
//   - Keys nil: the function holds no key material and never reads
//     KEYS_SECRET_ARN (status, which shows only stored masked forms); using
//     a key panics. It does not even link the key ring (shared/secure).
//
// The local stand-ins (Options.Local without the service's endpoint) take
// precedence over the constructors.
type AWS struct {
	// Config builds the AWS configuration; nil means config.Config.AWS,
	// the Lambda environment alone.
	Config func(ctx context.Context, cfg config.Config) (aws.Config, error)
	// SMS sends SMS (snsnotify.SMS).
	SMS func(awsCfg aws.Config, cfg config.Config) binding.SMS
	// Email sends e-mail (sesnotify.Email).
	Email func(awsCfg aws.Config, cfg config.Config) binding.Email
	// Events publishes domain events to EVENTS_TOPIC_ARN (snsnotify.Events).
	Events func(awsCfg aws.Config, cfg config.Config) notify.Publisher
	// Keys loads the key ring from KEYS_SECRET_ARN (awssecret.Keys). It is
	// called once, during New: key material is loaded once per cold start,
	// and a failure stops the start. New calls it without KEYS_SECRET_ARN
	// only in a local run (shared/app then gives the development keys).
	Keys func(ctx context.Context, awsCfg aws.Config, cfg config.Config) (binding.Keys, error)
}

// Options say how far the assembly may stand in for AWS.
type Options struct {
	// Local allows the embedded stand-ins: the in-memory store when no
	// DYNAMODB_ENDPOINT is set, the console outbox when no SNS_ENDPOINT
	// (SMS) or SES_ENDPOINT (e-mail) is set, and a key ring without
	// KEYS_SECRET_ARN (AWS.Keys decides which: shared/app's gives the
	// development keys). Deployed functions never set it.
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
	// AWS are the AWS-backed parts the function uses. shared/app.New fills
	// in every one left nil; New leaves them out.
	AWS AWS
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
	// HTTP routes (feedback.go assembles both).
	Tickets     *feedback.Service
	FeedbackAPI *httpapi.FeedbackAPI
	// Privacy reports and erases everything held about an account
	// (SPEC §4.9; privacy.go assembles it).
	Privacy    *privacy.Service
	PrivacyAPI *httpapi.PrivacyAPI
	// ticketStore is where the tickets are, for the privacy store.
	ticketStore feedback.Store
	// Idempotency keeps the answers to requests sent with an
	// Idempotency-Key.
	Idempotency idempotency.Store
	clock       binding.Clock
	// events is where domain events go (nil: nowhere), shared by the
	// binding and the ticket services.
	events notify.Publisher
	// keys is the key ring loaded at the start (noKeys in a function
	// without key material), for the keys_check ops event.
	keys binding.Keys
}

// New assembles the service. It is called once per cold start.
func New(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	a := &App{Config: cfg, Logger: logger, clock: opts.Clock}
	switch {
	case opts.Metrics != nil:
		a.Metrics = metrics.NewEMF(opts.Metrics, opts.Clock)
	case !opts.Local:
		a.Metrics = metrics.NewEMF(os.Stdout, opts.Clock)
	}

	loadKeys := opts.AWS.Keys != nil && cfg.KeysSecretARN != ""
	needAWS := !opts.Local || cfg.UsesEmulators() || loadKeys
	var awsCfg aws.Config
	if needAWS {
		load := opts.AWS.Config
		if load == nil {
			load = func(ctx context.Context, cfg config.Config) (aws.Config, error) { return cfg.AWS(ctx) }
		}
		var err error
		if awsCfg, err = load(ctx, cfg); err != nil {
			return nil, err
		}
	}

	keys, err := a.loadKeys(ctx, cfg, awsCfg, opts)
	if err != nil {
		return nil, err
	}
	a.keys = keys

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

	a.events = a.publisher(cfg, awsCfg, opts)
	senders := a.senders(cfg, awsCfg, opts)
	parser := phone.NewParser(cfg.AllowedRegions)

	a.Service = binding.New(cfg.Binding, st, senders, keys, opts.Clock, logger)
	a.API = httpapi.New(a.Service, parser, logger)
	a.API.SetAccess(a.Service)
	a.API.SetMetrics(a.Metrics)
	a.newFeedback(opts, st, keys, parser)
	a.newPrivacy(opts, st, keys)
	return a, nil
}

// loadKeys is the key ring: loaded by opts.AWS.Keys from KEYS_SECRET_ARN (or,
// in a local run without one, whatever it gives then), or, for a function
// that holds no key material, a stand-in that refuses every use. The
// binding service's keys serve the ticket service too (feedback.Keys is a
// part of binding.Keys).
func (a *App) loadKeys(ctx context.Context, cfg config.Config, awsCfg aws.Config, opts Options) (binding.Keys, error) {
	switch {
	case opts.AWS.Keys == nil:
		return noKeys{}, nil
	case cfg.KeysSecretARN == "" && !opts.Local:
		return nil, errors.New("KEYS_SECRET_ARN: required outside local runs (development keys are public)")
	}
	keys, err := opts.AWS.Keys(ctx, awsCfg, cfg)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	return keys, nil
}

// noKeys stands in for the key ring in a function assembled without one
// (AWS.Keys nil). Nothing such a function does needs a key; if a change
// makes it need one, the first use fails loudly instead of hashing or
// sealing with no key.
type noKeys struct{}

const noKeysPanic = "core: key material used in a function assembled without it (set core.AWS.Keys in its main)"

func (noKeys) PhoneMAC(string) string              { panic(noKeysPanic) }
func (noKeys) SourceMAC(string) string             { panic(noKeysPanic) }
func (noKeys) CodeMAC(string, string) string       { panic(noKeysPanic) }
func (noKeys) Seal(string) (string, string, error) { panic(noKeysPanic) }
func (noKeys) Open(string, string) (string, error) { panic(noKeysPanic) }

// senders picks where SMS and e-mail go: the AWS services (or the
// emulators their endpoints name), or, in a local run without endpoints,
// the outbox; and domain events to a.events.
func (a *App) senders(cfg config.Config, awsCfg aws.Config, opts Options) binding.Senders {
	var s binding.Senders
	switch {
	case opts.Local && cfg.SNSEndpoint == "":
		s.SMS = a.outbox(opts)
	case opts.AWS.SMS != nil:
		s.SMS = opts.AWS.SMS(awsCfg, cfg)
	default:
		s.SMS = unwired{"SMS"}
	}

	switch {
	case opts.Local && cfg.SESEndpoint == "":
		s.Email = a.outbox(opts)
	case opts.AWS.Email == nil:
		// This function sends no e-mail.
	case cfg.EmailFrom == "":
		// Unbinding by e-mail then answers 503; everything else works.
		a.Logger.Warn("EMAIL_FROM is not set: codes cannot be e-mailed")
	default:
		s.Email = opts.AWS.Email(awsCfg, cfg)
	}

	var events binding.Events
	if a.events != nil {
		events = notify.PhoneEvents{Publisher: a.events}
	}
	s.Events = metrics.PhoneEvents{Next: events, Metrics: a.Metrics}
	s.Signals = metrics.Signals{Metrics: a.Metrics}
	return s
}

// publisher is where domain events go: the topic, the log in a local run
// without one, or nowhere.
func (a *App) publisher(cfg config.Config, awsCfg aws.Config, opts Options) notify.Publisher {
	switch {
	case cfg.EventsTopicARN != "" && opts.AWS.Events != nil:
		return opts.AWS.Events(awsCfg, cfg)
	case cfg.EventsTopicARN != "":
		// A function that publishes nothing (request-code, status).
		return unwired{"domain events"}
	case opts.Local:
		return notify.NewEventLog(a.Logger)
	case opts.AWS.Events != nil:
		a.Logger.Warn("EVENTS_TOPIC_ARN is not set: domain events are not published")
	}
	return nil
}

func (a *App) outbox(opts Options) *notify.Outbox {
	if a.Outbox == nil {
		a.Outbox = opts.Outbox
		if a.Outbox == nil {
			a.Outbox = notify.NewOutbox(os.Stdout, nil)
		}
	}
	return a.Outbox
}

// unwired stands in for a sender or publisher a function was assembled
// without: every use fails with an error that says so (and is logged or
// answered like any failed send), never silently.
type unwired struct{ what string }

func (u unwired) err() error {
	return fmt.Errorf("%s: not wired into this function (its main sets no core.AWS constructor for it)", u.what)
}

func (u unwired) SendSMS(context.Context, string, string) error           { return u.err() }
func (u unwired) Publish(context.Context, string, any) error              { return u.err() }
func (u unwired) SendEmail(context.Context, string, string, string) error { return u.err() }

// Start is a Lambda cold start: it reads the environment, assembles the
// service with the AWS parts the function uses and, when a variable is bad
// or a dependency cannot be loaded (the key ring among them), stops the
// process with a message naming the problem (Lambda shows it as an init
// error, and no request is ever served half-configured).
func Start(parts AWS) *App {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(1)
	}
	a, err := New(context.Background(), cfg, Options{AWS: parts})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	return a
}
