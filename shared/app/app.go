// Package app assembles the whole service from its configuration, with
// every AWS client: the assembly of shared/app/core with all of core.AWS
// filled in, and the AWS configuration loaded through the SDK's default
// chain (profiles and shared files included). The local runner (make run),
// make invoke and the tests build the service here.
//
// The Lambda mains use core directly, each naming only the clients its
// function uses (functions/*/main.go), so that no function links or
// initialises a client it never calls: see core.AWS.
package app

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/config/awsdefault"
	"github.com/gosuslugi/phonebind/shared/notify/sesnotify"
	"github.com/gosuslugi/phonebind/shared/notify/snsnotify"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

// All is every AWS-backed part, the AWS configuration through the SDK's
// default chain (shared/config/awsdefault).
func All() core.AWS {
	return core.AWS{
		Config: awsdefault.Load,
		SMS:    snsnotify.SMS,
		Email:  sesnotify.Email,
		Events: snsnotify.Events,
		Keys:   devOrSecret,
	}
}

// devOrSecret loads the key ring from KEYS_SECRET_ARN, or gives the
// development keys when it is not set (core.New asks then only in a local
// run).
func devOrSecret(ctx context.Context, awsCfg aws.Config, cfg config.Config) (binding.Keys, error) {
	if cfg.KeysSecretARN == "" {
		return secure.DevKeyring(), nil
	}
	return awssecret.Keys(ctx, awsCfg, cfg)
}

// New assembles the service (core.New) with every part of opts.AWS left
// nil taken from All. It is called once per cold start.
func New(ctx context.Context, cfg config.Config, opts core.Options) (*core.App, error) {
	all := All()
	if opts.AWS.Config == nil {
		opts.AWS.Config = all.Config
	}
	if opts.AWS.SMS == nil {
		opts.AWS.SMS = all.SMS
	}
	if opts.AWS.Email == nil {
		opts.AWS.Email = all.Email
	}
	if opts.AWS.Events == nil {
		opts.AWS.Events = all.Events
	}
	if opts.AWS.Keys == nil {
		opts.AWS.Keys = all.Keys
	}
	return core.New(ctx, cfg, opts)
}

// Start is a cold start of the whole service, as core.Start with All: it
// reads the environment, assembles the service and, when a variable is bad
// or a dependency cannot be loaded, stops the process with a message naming
// the problem. The Lambda mains call core.Start with their own parts.
func Start() *core.App {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(1)
	}
	a, err := New(context.Background(), cfg, core.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	return a
}
