package testenv

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// MotoConfig is an AWS configuration for moto at endpoint: its region,
// any access key (moto takes every one) and the endpoint itself, so that
// sns.NewFromConfig, secretsmanager.NewFromConfig, … talk to moto.
func MotoConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}
