// Package sesnotify sends the service's e-mail through Amazon SES v2. It
// is apart from package notify so that only the function that e-mails codes
// (request-code) links the SES client.
package sesnotify

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
)

var _ binding.Email = (*SESEmail)(nil)

// SESSender is the one SES v2 call SESEmail needs; *sesv2.Client satisfies it.
type SESSender interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SESEmail sends plain-text e-mail through SES v2 from one verified sender
// identity (EMAIL_FROM).
type SESEmail struct {
	client SESSender
	from   string
}

// NewSESEmail sends through client from the address from.
func NewSESEmail(client SESSender, from string) *SESEmail {
	return &SESEmail{client: client, from: from}
}

// SendEmail sends a UTF-8 text e-mail. A failure is returned as an error that
// never shows the address or the body (which holds a code).
func (s *SESEmail) SendEmail(ctx context.Context, to, subject, body string) error {
	_, err := s.client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(body), Charset: aws.String("UTF-8")}},
		}},
	})
	if err != nil {
		return notify.SendFailure("send e-mail via ses", err, to, body)
	}
	return nil
}

// NewClient is an SES v2 client from awsCfg, addressed at endpoint when it
// is not empty (moto in local runs).
func NewClient(awsCfg aws.Config, endpoint string) *sesv2.Client {
	return sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// Email is the e-mail sender as a deployed function assembles it
// (shared/app/core.AWS.Email): SES v2 at cfg.SESEndpoint when set, from
// cfg.EmailFrom.
func Email(awsCfg aws.Config, cfg config.Config) binding.Email {
	return NewSESEmail(NewClient(awsCfg, cfg.SESEndpoint), cfg.EmailFrom)
}
