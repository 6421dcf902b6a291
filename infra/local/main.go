// Command local serves the whole HTTP API on a laptop (`make run`): the routes
// template.yaml declares, the same handlers the Lambda functions run, HS256
// development tokens in place of the JWT authorizer, and by default an
// in-memory store and a console outbox in place of DynamoDB and SNS.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/infra/local/runner"
	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// defaultJWTSecret signs development tokens; it is public on purpose.
const defaultJWTSecret = "local-dev-secret"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv, err := newServer(ctx, getenv, stdout, logger, nil)
	if err != nil {
		return err
	}
	port := getenv("PORT")
	if port == "" {
		port = "3000"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("PORT: %w", err)
	}
	fmt.Fprintf(stdout, "Phone binding API on http://%s (%s)\n", ln.Addr(), srv.describe)
	fmt.Fprintf(stdout, "Rules: %s\n", srv.rules)
	fmt.Fprintf(stdout, "Citizen's page at http://%s/ (make web builds it)\n", ln.Addr())
	fmt.Fprintf(stdout, "CORS for %s; API reference at /reference, OpenAPI document at /openapi.yaml\n", strings.Join(srv.origins, ", "))
	fmt.Fprintf(stdout, "Token: make token SUB=alice; outbox: GET|DELETE /_local/outbox[?to=…]; events: make invoke FN=… EVENT=…\n")
	hs := &http.Server{Handler: srv.handler, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	go srv.completeDue(ctx, logger)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// server is the assembled local API.
type server struct {
	handler  http.Handler
	app      *core.App
	describe string
	// rules sums up the limits in force, origins the CORS origins allowed.
	rules   string
	origins []string
}

// newServer assembles the API from the environment, as a Lambda cold start
// would, and puts the local runner in front of it. clock may be nil; extra
// adjusts the assembly (tests capture metrics with it).
func newServer(ctx context.Context, getenv func(string) string, console io.Writer, logger *slog.Logger, clock binding.Clock, extra ...func(*core.Options)) (*server, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	if cfg.DynamoDBEndpoint != "" {
		if err := ensureTable(ctx, cfg); err != nil {
			return nil, err
		}
	}
	opts := core.Options{
		Local:  true,
		Logger: logger,
		Outbox: notify.NewOutbox(console, nil),
		Clock:  clock,
	}
	for _, f := range extra {
		f(&opts)
	}
	a, err := app.New(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	tpl, root, err := template.LoadProject()
	if err != nil {
		return nil, err
	}
	secret := getenv("LOCAL_JWT_SECRET")
	if secret == "" {
		secret = defaultJWTSecret
	}
	ropts := runner.Options{
		Routes:            tpl.Routes(),
		Handlers:          a.Handlers(),
		JWTSecret:         []byte(secret),
		TrustForwardedFor: getenv("TRUST_FORWARDED_FOR") == "1",
		Logger:            logger,
	}
	if a.Outbox != nil {
		ropts.Outbox = a.Outbox
		ropts.Phones = phone.NewParser(cfg.AllowedRegions)
	}
	// CORS as the deployed API answers it: the template's configuration,
	// with the origins CORS_ALLOWED_ORIGINS names (the stack's
	// CorsAllowedOrigins parameter), by default a dev server on any port.
	if ropts.CORS, err = runner.TemplateCORS(tpl); err != nil {
		return nil, fmt.Errorf("%s: %w", template.FileName, err)
	}
	origins := runner.DefaultLocalOrigins
	if v := getenv("CORS_ALLOWED_ORIGINS"); strings.TrimSpace(v) != "" {
		if origins, err = runner.ParseOrigins(v); err != nil {
			return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err)
		}
	}
	if ropts.CORS != nil {
		ropts.CORS.AllowOrigins = origins
	}
	// Read from the repository on each request (not embedded: go:embed
	// cannot reach infra/ from here, and an edit to the contract shows at
	// the next reload). `make run` and `go run ./infra/local` start in the
	// repository, where FindRoot finds it.
	ropts.OpenAPIFile = filepath.Join(root, "infra", "openapi.yaml")
	// The citizen's page, as `make web` builds it (read on each request).
	ropts.WebDir = filepath.Join(root, "infra", "web", "dist")
	ropts.Invoke = a.Invoke
	store, sms := "in-memory store", "SMS to the console outbox"
	if cfg.DynamoDBEndpoint != "" {
		store = "DynamoDB at " + cfg.DynamoDBEndpoint + ", table " + cfg.TableName
	}
	if cfg.SNSEndpoint != "" {
		sms = "SMS through SNS at " + cfg.SNSEndpoint
	}
	ropts.About = store + ", " + sms
	h, err := runner.New(ropts)
	if err != nil {
		return nil, err
	}
	b := cfg.Binding
	rules := fmt.Sprintf("resend cooldown %s, change cooldown %s, %d codes per account an hour, %d per number a day, %d wrong codes a day",
		b.ResendCooldown, b.ChangeCooldown, b.CodesPerAccountHour, b.CodesPerPhoneDay, b.MaxFailuresDay)
	if n := len(b.TestNumbers); n > 0 {
		rules += fmt.Sprintf(", %d test numbers (TEST_PHONE_NUMBERS: no SMS, fixed codes)", n)
	}
	return &server{handler: h, app: a, describe: ropts.About, rules: rules, origins: origins}, nil
}

// ensureTable creates TABLE_NAME on a local DynamoDB endpoint from
// template.yaml's definition when it is not there yet, so
// `DYNAMODB_ENDPOINT=… make run` needs no separate set-up step.
func ensureTable(ctx context.Context, cfg config.Config) error {
	db := dynamotest.NewClient(cfg.DynamoDBEndpoint)
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &cfg.TableName}); err == nil {
		return nil
	}
	if err := dynamotest.CreateTable(ctx, db, cfg.TableName); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("DYNAMODB_ENDPOINT: %w", err)
		}
	}
	return nil
}
