package sesnotify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

type fakeSES struct {
	in  *sesv2.SendEmailInput
	err error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	return &sesv2.SendEmailOutput{}, f.err
}

func TestSESEmail(t *testing.T) {
	f := &fakeSES{}
	if err := NewSESEmail(f, "no-reply@phonebind.test").SendEmail(context.Background(), "alice@example.ru", "Тема", "Код: 123456"); err != nil {
		t.Fatal(err)
	}
	msg := f.in.Content.Simple
	if aws.ToString(f.in.FromEmailAddress) != "no-reply@phonebind.test" || len(f.in.Destination.ToAddresses) != 1 || f.in.Destination.ToAddresses[0] != "alice@example.ru" ||
		aws.ToString(msg.Subject.Data) != "Тема" || aws.ToString(msg.Body.Text.Data) != "Код: 123456" ||
		aws.ToString(msg.Subject.Charset) != "UTF-8" || aws.ToString(msg.Body.Text.Charset) != "UTF-8" {
		t.Errorf("input %+v", f.in)
	}

	boom := errors.New("rejected alice@example.ru: Код: 123456")
	err := NewSESEmail(&fakeSES{err: boom}, "no-reply@phonebind.test").SendEmail(context.Background(), "alice@example.ru", "Тема", "Код: 123456")
	if !errors.Is(err, boom) || strings.Contains(err.Error(), "alice@example.ru") || strings.Contains(err.Error(), "123456") {
		t.Errorf("error %v: must wrap the cause and show neither the address nor the body", err)
	}
}
