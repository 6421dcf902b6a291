package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/smithy-go/logging"
)

// The SDK retryer's bounds: 3 attempts, at most 200 ms between them.
const (
	SDKMaxAttempts = 3
	SDKMaxBackoff  = 200 * time.Millisecond
)

// NewRetryer is the retryer of every AWS client: a bounded one, since every
// call, retries included, has to fit in the function's time budget (the
// handlers cut the context short of the Lambda deadline).
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = SDKMaxAttempts
		o.MaxBackoff = SDKMaxBackoff
	})
}

// PlaceholderCredentials are what the emulators get when the environment
// names no credentials of its own (UsesPlaceholderCredentials).
var PlaceholderCredentials = credentials.NewStaticCredentialsProvider("local", "local", "")

// UsesPlaceholderCredentials reports whether AWS calls carry
// PlaceholderCredentials: an endpoint is overridden (emulators) and the
// environment names no credentials (AWS_ACCESS_KEY_ID or AWS_PROFILE), so
// that nothing searches the machine for real ones to send to an emulator.
func (c Config) UsesPlaceholderCredentials() bool {
	return c.UsesEmulators() && !c.envCredentials
}

// AWS builds the AWS configuration from the process environment alone, the
// way a Lambda function receives it; call it once per cold start and build
// every client from its result, each with its own endpoint override
// (BaseEndpoint) from c.
//
// It reads what Lambda sets: the region (AWS_REGION, else
// AWS_DEFAULT_REGION) and the role's credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), or a container credentials
// endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE), as the SDK would; and
// AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT and AWS_CA_BUNDLE. With
// an endpoint overridden and no credentials named, it uses
// PlaceholderCredentials.
//
// It does not read shared config or credentials files: the SDK's default
// chain (config.LoadDefaultConfig), which does, links the STS, SSO, SSO OIDC
// and Sign-In clients into every binary and initialises them at every cold
// start, for sources a Lambda function never has. The local tools load
// through that chain instead (shared/config/awsdefault). Settings only that
// chain honours (AWS_PROFILE, AWS_ENDPOINT_URL*) are refused here rather
// than ignored.
func (c Config) AWS(ctx context.Context) (aws.Config, error) {
	return c.awsFromEnv(ctx, os.Getenv, os.Environ())
}

func (c Config) awsFromEnv(_ context.Context, getenv func(string) string, environ []string) (aws.Config, error) {
	cfg := aws.Config{
		Region:                      firstSet(c.AWSRegion, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")),
		Retryer:                     NewRetryer,
		Logger:                      logging.NewStandardLogger(os.Stderr),
		RequestMinCompressSizeBytes: 10240, // the SDK's default
	}
	if err := refuseChainOnly(getenv, environ); err != nil {
		return aws.Config{}, err
	}
	endpoints, err := endpointVariantsFromEnv(getenv)
	if err != nil {
		return aws.Config{}, err
	}
	if endpoints != (endpointVariants{}) {
		cfg.ConfigSources = []any{endpoints}
	}
	if bundle := getenv("AWS_CA_BUNDLE"); bundle != "" {
		if cfg.HTTPClient, err = withCABundle(bundle); err != nil {
			return aws.Config{}, err
		}
	}
	creds, err := c.credentialsFromEnv(getenv)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.Credentials = creds
	return cfg, nil
}

// withCABundle is an HTTP client that trusts the PEM certificates in the
// file bundle, as the SDK's default chain makes one for AWS_CA_BUNDLE.
func withCABundle(bundle string) (aws.HTTPClient, error) {
	pem, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
	}
	ok := false
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		if tr.TLSClientConfig.RootCAs == nil {
			tr.TLSClientConfig.RootCAs = x509.NewCertPool()
		}
		ok = tr.TLSClientConfig.RootCAs.AppendCertsFromPEM(pem)
	})
	if !ok {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: no PEM certificate in %s", bundle)
	}
	return client, nil
}

// refuseChainOnly fails on the settings only the SDK's default chain reads,
// so that a deployment relying on one learns it at its first cold start.
func refuseChainOnly(getenv func(string) string, environ []string) error {
	chain := "only the SDK's default chain reads it (the local tools' loader, shared/config/awsdefault); a deployed function takes everything from its environment"
	if getenv("AWS_PROFILE") != "" && getenv("AWS_ACCESS_KEY_ID") == "" {
		return fmt.Errorf("AWS_PROFILE: %s", chain)
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_ENDPOINT_URL") && value != "" {
			return fmt.Errorf("%s: %s; use DYNAMODB_ENDPOINT, SNS_ENDPOINT, SES_ENDPOINT or SECRETS_ENDPOINT", name, chain)
		}
	}
	return nil
}

// credentialsFromEnv picks credentials as the SDK's default chain does for
// what a Lambda environment can hold: static keys first, then a container
// credentials endpoint.
func (c Config) credentialsFromEnv(getenv func(string) string) (aws.CredentialsProvider, error) {
	if c.UsesPlaceholderCredentials() {
		return PlaceholderCredentials, nil
	}
	id := firstSet(getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_ACCESS_KEY"))
	secret := firstSet(getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SECRET_KEY"))
	if id != "" && secret != "" {
		return credentials.StaticCredentialsProvider{Value: aws.Credentials{
			AccessKeyID:     id,
			SecretAccessKey: secret,
			SessionToken:    getenv("AWS_SESSION_TOKEN"),
			Source:          "EnvConfigCredentials",
		}}, nil
	}
	endpoint := ""
	if rel := getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		endpoint = "http://169.254.170.2" + rel
	} else if full := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full != "" {
		if err := checkContainerEndpoint(full); err != nil {
			return nil, fmt.Errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI: %w", err)
		}
		endpoint = full
	}
	if endpoint == "" {
		return nil, errors.New("no AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
			"(Lambda sets them from the function's role) or AWS_CONTAINER_CREDENTIALS_FULL_URI")
	}
	token, tokenFile := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"), getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
	provider := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.AuthorizationToken = token
		if tokenFile != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return "", fmt.Errorf("read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
				}
				return string(b), nil
			})
		}
		o.Retryer = NewRetryer()
	})
	return aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

// checkContainerEndpoint allows what the SDK allows: https anywhere, http
// only to a loopback address or the ECS and EKS credential agents.
func checkContainerEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	switch {
	case host == "":
		return fmt.Errorf("%q has no host", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("%q is neither http nor https", raw)
	}
	addrs := []string{host}
	if net.ParseIP(host) == nil {
		if addrs, err = net.LookupHost(host); err != nil {
			return err
		}
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil || !(ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) || ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23"))) {
			return fmt.Errorf("http host %q is not loopback or an ECS/EKS credentials agent", host)
		}
	}
	return nil
}

// endpointVariants carries AWS_USE_FIPS_ENDPOINT and
// AWS_USE_DUALSTACK_ENDPOINT to the clients, which look for these two
// methods among aws.Config.ConfigSources, as they find them on the SDK's
// own environment configuration.
type endpointVariants struct {
	fips      aws.FIPSEndpointState
	dualStack aws.DualStackEndpointState
}

func (e endpointVariants) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	return e.fips, e.fips != aws.FIPSEndpointStateUnset, nil
}

func (e endpointVariants) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	return e.dualStack, e.dualStack != aws.DualStackEndpointStateUnset, nil
}

func endpointVariantsFromEnv(getenv func(string) string) (endpointVariants, error) {
	var e endpointVariants
	fips, err := envBool(getenv, "AWS_USE_FIPS_ENDPOINT")
	if err != nil {
		return e, err
	}
	dual, err := envBool(getenv, "AWS_USE_DUALSTACK_ENDPOINT")
	if err != nil {
		return e, err
	}
	e.fips = [...]aws.FIPSEndpointState{aws.FIPSEndpointStateUnset, aws.FIPSEndpointStateEnabled, aws.FIPSEndpointStateDisabled}[fips]
	e.dualStack = [...]aws.DualStackEndpointState{aws.DualStackEndpointStateUnset, aws.DualStackEndpointStateEnabled, aws.DualStackEndpointStateDisabled}[dual]
	return e, nil
}

// envBool reads true or false in any case, as the SDK does: 0 unset, 1
// true, 2 false.
func envBool(getenv func(string) string, name string) (int, error) {
	switch v := getenv(name); {
	case v == "":
		return 0, nil
	case strings.EqualFold(v, "true"):
		return 1, nil
	case strings.EqualFold(v, "false"):
		return 2, nil
	default:
		return 0, fmt.Errorf("%s: %q is neither true nor false", name, v)
	}
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
