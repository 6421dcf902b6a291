package main

// Prices in US dollars, us-east-1, on-demand, without free tiers, as
// published on 2026-11-23. The report prints them with their sources, so a
// reader can check them and a change of price is one edit here.
const (
	// priceHTTPAPIRequest: API Gateway HTTP API, first 300 million requests
	// a month, $1.00 per million (each 512 KB of a request is one request).
	priceHTTPAPIRequest = 1.00 / 1e6
	// priceLambdaRequest: $0.20 per million requests.
	priceLambdaRequest = 0.20 / 1e6
	// priceLambdaGBSecondARM: $0.0000133334 per GB-second on arm64 (first
	// 7.5 billion GB-seconds a month), billed per millisecond; since
	// 2025-08-01 the init phase is billed like the handler.
	priceLambdaGBSecondARM = 0.0000133334
	// priceDynamoWRU / priceDynamoRRU: on-demand write and read request
	// units, $0.625 and $0.125 per million (since the 2024-11 price cut).
	priceDynamoWRU = 0.625 / 1e6
	priceDynamoRRU = 0.125 / 1e6
	// priceTwilioVerify: Twilio Verify, $0.05 per successful verification
	// (plus its SMS channel fee), the comparison the issue asks for.
	priceTwilioVerify = 0.05
	// priceLogsGB: CloudWatch Logs ingestion, $0.50 per GB (first tier).
	priceLogsGB = 0.50
	// priceXRayTrace: X-Ray, $5.00 per million traces recorded.
	priceXRayTrace = 5.00 / 1e6
	// priceSecretsCall: Secrets Manager, $0.05 per 10,000 API calls.
	priceSecretsCall = 0.05 / 1e4
)

// priceSources are printed under the dollars table.
var priceSources = []struct{ item, price, url string }{
	{"API Gateway HTTP API", "$1.00 per million requests (first 300 M/month)", "https://aws.amazon.com/api-gateway/pricing/"},
	{"Lambda requests", "$0.20 per million", "https://aws.amazon.com/lambda/pricing/"},
	{"Lambda duration, arm64", "$0.0000133334 per GB-second, 1 ms granularity; init billed since 2025-08-01", "https://aws.amazon.com/lambda/pricing/"},
	{"DynamoDB on-demand", "$0.625 per million write request units, $0.125 per million read request units", "https://aws.amazon.com/dynamodb/pricing/on-demand/"},
	{"Twilio Verify", "$0.05 per successful verification, plus channel (SMS) fees", "https://www.twilio.com/en-us/verify/pricing"},
	{"CloudWatch Logs", "$0.50 per GB ingested", "https://aws.amazon.com/cloudwatch/pricing/"},
	{"X-Ray", "$5.00 per million traces recorded (first 100,000/month free)", "https://aws.amazon.com/xray/pricing/"},
	{"Secrets Manager", "$0.05 per 10,000 API calls", "https://aws.amazon.com/secrets-manager/pricing/"},
}

// Targets of issue 7. In-process microseconds and allocations are not
// targets (no user notices them next to a DynamoDB round trip); the report
// shows them for whoever changes a hot path.
const (
	targetInitRatio      = 1.5
	targetBinaryBytes    = 20_000_000
	targetRequestCodeOps = 2
	targetDollarsPerM    = 7.0
)

// coldStartShare is the assumed share of invocations that start a new
// execution environment, for pricing the billed init phase.
const coldStartShare = 0.01
