// Command token prints an HS256 JWT that the local runner accepts, so that
//
//	TOKEN=$(make -s token SUB=alice)
//	curl -H "Authorization: Bearer $TOKEN" localhost:3000/v1/phone
//
// works. The secret is LOCAL_JWT_SECRET (default local-dev-secret), the one
// the runner checks with. Only the token goes to stdout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/infra/local/runner"
)

// defaultSecret matches the runner's default (SPEC §7).
const defaultSecret = "local-dev-secret"

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, time.Now()); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "token:", err)
		}
		os.Exit(2)
	}
}

// run parses args, signs the claims and writes the token to stdout.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "account id (the sub claim); required")
	email := fs.String("email", "", "verified e-mail (the email claim, with email_verified true); optional")
	amr := fs.String("amr", "pwd,mfa", "how the person signed in (the amr claim, comma-separated RFC 8176 methods; pwd alone is a session without a second factor)")
	authTime := fs.String("auth-time", "", "when the person signed in (auth_time): RFC 3339, a duration ago such as 20m, or empty for now")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: token -sub ACCOUNT [-email ADDRESS] [-amr pwd,mfa] [-auth-time 20m|2026-12-04T10:00:00Z] [-ttl 24h]")
		fmt.Fprintln(stderr, "Signs with LOCAL_JWT_SECRET (default "+defaultSecret+").")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *sub == "" {
		fs.Usage()
		return errors.New("-sub is required")
	}
	if *ttl <= 0 {
		return errors.New("-ttl must be positive")
	}
	secret := getenv("LOCAL_JWT_SECRET")
	if secret == "" {
		secret = defaultSecret
	}
	signedIn, err := signInTime(*authTime, now)
	if err != nil {
		return err
	}
	claims := map[string]any{
		"sub":       *sub,
		"iat":       now.Unix(),
		"exp":       now.Add(*ttl).Unix(),
		"auth_time": signedIn.Unix(),
	}
	if methods := strings.FieldsFunc(*amr, func(r rune) bool { return r == ',' || r == ' ' }); len(methods) > 0 {
		claims["amr"] = methods
	}
	if *email != "" {
		claims["email"] = *email
		claims["email_verified"] = true
	}
	tok, err := runner.SignHS256([]byte(secret), claims)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// signInTime reads -auth-time: empty is now, a duration is that long ago,
// anything else RFC 3339.
func signInTime(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return now, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("-auth-time %q is neither a duration (20m) nor an RFC 3339 time", v)
	}
	return t, nil
}
