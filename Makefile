# Phone binding service: local runs, tests, lint and the SAM build.
# `make` (or `make help`) lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

GO ?= go

# Lambda functions as LogicalId=directory under functions/. To add one, add
# its pair here and the resource to template.yaml: `make build` and
# `sam build` (which runs `make build-<LogicalId>`) pick it up.
FUNCTIONS := \
	RequestCodeFunction=request-code \
	ConfirmCodeFunction=confirm-code \
	StatusFunction=status \
	UnbindFunction=unbind \
	FeedbackFunction=feedback \
	PhoneReadFunction=phone-read \
	AlertFunction=alert

LOGICAL_IDS := $(foreach f,$(FUNCTIONS),$(firstword $(subst =, ,$(f))))
BUILD_TARGETS := $(addprefix build-,$(LOGICAL_IDS))
# function_dir maps a LogicalId to its directory under functions/.
function_dir = $(word 2,$(subst =, ,$(filter $(1)=%,$(FUNCTIONS))))

# Where `make build` puts bootstrap files; `sam build` passes ARTIFACTS_DIR.
SAM_BUILD_DIR ?= .aws-sam/build

# Emulator ports for `make test` (infra/emulators.sh reads the same names).
export DYNAMODB_PORT ?= 8000
export MOTO_PORT ?= 5000
EMULATOR_ENV := DYNAMODB_ENDPOINT=http://127.0.0.1:$(DYNAMODB_PORT) \
	MOTO_ENDPOINT=http://127.0.0.1:$(MOTO_PORT) \
	REQUIRE_EMULATORS=1

# cfn-lint from PATH, else from .emulators/venv (installed there on demand).
CFN_LINT_VERSION := 1.51.0
# openapi-spec-validator checks infra/openapi.yaml, found the same way.
OPENAPI_VALIDATOR_VERSION := 0.9.0
# staticcheck 2025.1.1 is the Go module version v0.6.1.
STATICCHECK_VERSION := v0.6.1

SUB ?=
EMAIL ?=
AMR ?=
AUTH_TIME ?=
FN ?=
EVENT ?=
URL ?=
TOKEN ?=
STACK ?=
LOCAL ?=
KEYS_FILE ?=
SECRET_NAME ?=
REGION ?=

MEMORY ?=

# `make run-dev`: every code at once, limits far off, and the fictional
# test numbers of samconfig.toml's dev stack plus two more (no SMS, fixed
# codes). Any of them set in the shell wins.
DEV_ENV := RESEND_COOLDOWN=$${RESEND_COOLDOWN:-0s} CHANGE_COOLDOWN=$${CHANGE_COOLDOWN:-0s} \
	CODES_PER_ACCOUNT_HOUR=$${CODES_PER_ACCOUNT_HOUR:-1000} CODES_PER_PHONE_DAY=$${CODES_PER_PHONE_DAY:-1000} \
	CODES_PER_IP_HOUR=$${CODES_PER_IP_HOUR:-10000} MAX_FAILURES_DAY=$${MAX_FAILURES_DAY:-1000} \
	CODES_PER_PREFIX_DAY=$${CODES_PER_PREFIX_DAY:-10000} \
	TEST_PHONE_NUMBERS=$${TEST_PHONE_NUMBERS:-+79990000001:123456,+79990000002:234567,+79990000003:345678}

.PHONY: help run run-dev web web-check web-test web-screenshots token invoke smoke keys-secret enum-timing soak test check cfn-lint openapi lint bench build $(BUILD_TARGETS) \
	emulators-start emulators-stop emulators-status clean

help: ## Show this help
	@awk 'BEGIN { FS = ":.*## " } \
		/^[a-zA-Z0-9_%-]+:.*## / { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)

run: ## Serve the API on 127.0.0.1:3000 (PORT overrides; env vars pass through)
	$(GO) run ./infra/local

run-dev: web ## Like run, for a front end: no cooldowns, limits raised, test numbers +7999000000{1,2,3} (codes 123456, 234567, 345678); builds the page at / first
	@env $(DEV_ENV) $(GO) run ./infra/local

# The citizen's page (infra/web): TypeScript compiled by tsc into
# infra/web/dist, which the runner serves at /. Neither dist nor the types
# generated from infra/openapi.yaml are committed: make rebuilds them when
# the contract or the sources change, so a contract change the page does not
# follow fails its type check.
WEB := infra/web
WEB_SRC := $(wildcard $(WEB)/src/*.ts $(WEB)/src/*.html $(WEB)/src/*.css)
# Chromium for the browser tests (apt: chromium); REQUIRE_BROWSER=1 makes
# its absence a failure instead of a skip.
CHROMIUM ?= /usr/bin/chromium
REQUIRE_BROWSER ?=

$(WEB)/node_modules/.package-lock.json: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

$(WEB)/src/api.d.ts: infra/openapi.yaml $(WEB)/node_modules/.package-lock.json
	cd $(WEB) && npx --no-install openapi-typescript ../openapi.yaml -o src/api.d.ts

$(WEB)/dist/index.html: $(WEB_SRC) $(WEB)/src/api.d.ts $(WEB)/tsconfig.json
	rm -rf $(WEB)/dist
	cd $(WEB) && npx --no-install tsc -p . && cp src/index.html src/style.css dist/

web: $(WEB)/dist/index.html ## Build the citizen's page into infra/web/dist (npm ci, types from infra/openapi.yaml, tsc)

web-check: $(WEB)/src/api.d.ts ## Type-check the page against infra/openapi.yaml (tsc --noEmit)
	cd $(WEB) && npx --no-install tsc --noEmit -p .

web-test: ## Type-check and build the page, then drive it in Chromium against a runner the tests start (skips without chromium unless REQUIRE_BROWSER=1)
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		if [ "$(REQUIRE_BROWSER)" = 1 ]; then echo 'web-test: node and npm are required (REQUIRE_BROWSER=1)' >&2; exit 1; fi; \
		echo '>> web-test skipped: node/npm not installed (set REQUIRE_BROWSER=1 to fail instead)'; exit 0; \
	fi; \
	$(MAKE) --no-print-directory web-check web || exit $$?; \
	if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$(REQUIRE_BROWSER)" = 1 ]; then echo 'web-test: $(CHROMIUM) is missing (apt-get install -y chromium); REQUIRE_BROWSER=1' >&2; exit 1; fi; \
		echo '>> browser tests skipped: $(CHROMIUM) not found (apt-get install -y chromium; REQUIRE_BROWSER=1 to fail instead)'; exit 0; \
	fi; \
	echo '>> browser tests (infra/web/test, Chromium $(CHROMIUM))'; \
	cd $(WEB) && CHROMIUM='$(CHROMIUM)' node --test --test-concurrency=1 test/

web-screenshots: web ## Retake the screenshots of the page in docs/screenshots (runs the browser tests)
	@cd $(WEB) && CHROMIUM='$(CHROMIUM)' SCREENSHOTS_DIR=../../docs/screenshots node --test --test-concurrency=1 test/

token: ## Print a dev JWT for the local runner: make token SUB=acc-1 [EMAIL=a@b.ru] [AMR=pwd] [AUTH_TIME=20m] (default: signed in now with a second factor)
	@test -n "$(SUB)" || { echo 'usage: make token SUB=<account id> [EMAIL=<address>] [AMR=pwd,mfa] [AUTH_TIME=20m|RFC 3339]' >&2; exit 2; }
	@$(GO) run ./infra/token -sub '$(SUB)' $(if $(EMAIL),-email '$(EMAIL)') $(if $(AMR),-amr '$(AMR)') $(if $(AUTH_TIME),-auth-time '$(AUTH_TIME)')

invoke: ## Run an event through a function of the running `make run` (PORT): make invoke FN=unbind EVENT=infra/events/support-unbind.json [MEMORY=1]
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo 'usage: make invoke FN=<function dir or logical id> EVENT=<event file> [MEMORY=1: a fresh in-memory store]' >&2; exit 2; }
	@$(GO) run ./infra/invoke -fn '$(FN)' -event '$(EVENT)' $(if $(MEMORY),-memory)

smoke: ## After a deploy: make smoke URL=<ApiUrl> TOKEN=<portal token> STACK=<stack> [REGION=<region>] (or LOCAL=1 against make run)
	@test -n "$(URL)" -a -n "$(TOKEN)" -a -n "$(STACK)$(LOCAL)" || { echo 'usage: make smoke URL=<ApiUrl> TOKEN=<access token> (STACK=<stack name> [REGION=<region>] | LOCAL=1)' >&2; exit 2; }
	@$(GO) run ./infra/smoke -url '$(URL)' -token '$(TOKEN)' $(if $(STACK),-stack '$(STACK)') $(if $(REGION),-region '$(REGION)') $(if $(LOCAL),-local)

keys-secret: ## Create the key ring secret, material never on a command line: make keys-secret SECRET_NAME=phonebind/prod/keys REGION=… [KEYS_FILE=…]
	@test -n "$(SECRET_NAME)" || { echo 'usage: make keys-secret SECRET_NAME=<name> [REGION=<region>] [KEYS_FILE=<file to import>]' >&2; exit 2; }
	@$(GO) run ./infra/keysecret -name '$(SECRET_NAME)' $(if $(REGION),-region '$(REGION)') $(if $(KEYS_FILE),-file '$(KEYS_FILE)')

# The emulators are stopped by infra/emulators.sh's trap whatever happens;
# its exit code is check's.
test: ## Start the emulators, run vet, all tests (-race), cfn-lint and openapi, stop them; then 2000 inputs of each fuzz target
	@rc=0; \
	bash infra/emulators.sh run -- env $(EMULATOR_ENV) $(MAKE) --no-print-directory check || rc=$$?; \
	$(MAKE) --no-print-directory fuzz-short || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	exit $$rc

# Runs every step even when one fails, and exits with the first failure.
check: ## Vet, test, cfn-lint, openapi and the page's type check and browser tests, without starting emulators (their tests skip)
	@rc=0; \
	echo '>> go vet ./...'; $(GO) vet ./... || rc=$$?; \
	echo '>> go test -race -count=1 ./...'; $(GO) test -race -count=1 ./... || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	echo '>> go test -count=1 ./shared/phone/ (every differential input; -race samples them)'; \
	$(GO) test -count=1 ./shared/phone/ || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	$(MAKE) --no-print-directory cfn-lint || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	$(MAKE) --no-print-directory openapi || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	$(MAKE) --no-print-directory web-test || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
	exit $$rc

cfn-lint: ## Lint template.yaml (pip-installs cfn-lint into .emulators/venv if missing)
	@cfn="$$(command -v cfn-lint || echo .emulators/venv/bin/cfn-lint)"; \
	if [ ! -x "$$cfn" ]; then \
		echo '>> cfn-lint not found: pip install cfn-lint==$(CFN_LINT_VERSION) into .emulators/venv'; \
		bash infra/emulators.sh pip-install 'cfn-lint==$(CFN_LINT_VERSION)' || { \
			echo 'cfn-lint is missing and pip could not install it (PyPI unreachable?); install cfn-lint==$(CFN_LINT_VERSION)' >&2; \
			exit 1; }; \
	fi; \
	echo '>> cfn-lint template.yaml'; \
	"$$cfn" template.yaml

openapi: ## Validate infra/openapi.yaml (pip-installs openapi-spec-validator into .emulators/venv if missing)
	@v="$$(command -v openapi-spec-validator || echo .emulators/venv/bin/openapi-spec-validator)"; \
	if [ ! -x "$$v" ]; then \
		echo '>> openapi-spec-validator not found: pip install openapi-spec-validator==$(OPENAPI_VALIDATOR_VERSION) into .emulators/venv'; \
		bash infra/emulators.sh pip-install 'openapi-spec-validator==$(OPENAPI_VALIDATOR_VERSION)' || { \
			echo 'openapi-spec-validator is missing and pip could not install it (PyPI unreachable?); install openapi-spec-validator==$(OPENAPI_VALIDATOR_VERSION)' >&2; \
			exit 1; }; \
	fi; \
	echo '>> openapi-spec-validator infra/openapi.yaml'; \
	"$$v" infra/openapi.yaml

lint: ## gofmt, go vet, staticcheck (when it resolves) and go mod tidy -diff
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo 'gofmt: these files need formatting (gofmt -w):'; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then \
		echo '>> staticcheck ./...'; staticcheck ./...; \
	elif GOFLAGS=-mod=mod $(GO) list -m honnef.co/go/tools@$(STATICCHECK_VERSION) >/dev/null 2>&1; then \
		echo '>> staticcheck $(STATICCHECK_VERSION) (2025.1.1) ./...'; \
		$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...; \
	else \
		echo '>> staticcheck skipped: not installed and honnef.co/go/tools@$(STATICCHECK_VERSION) does not resolve'; \
	fi
	$(GO) mod tidy -diff

# Builds the bootstraps, measures cold starts, the in-process route
# benchmarks, DynamoDB units and billed durations on the emulators, and
# prices a million verifications; prints the report and writes it to
# infra/BENCHMARKS.md (tables; docs/benchmarks.md explains them). BASE=<rev>
# measures that revision in the same rounds (-against); BENCH_FLAGS passes
# other flags (go run ./infra/bench -h).
bench: ## Measure cold start, handler cost, DynamoDB cost and $ per million verifications into infra/BENCHMARKS.md (BASE=<rev> compares)
	@bash infra/emulators.sh run -- env $(EMULATOR_ENV) $(GO) run ./infra/bench $(if $(BASE),-against $(BASE)) $(BENCH_FLAGS)

# Every `func Fuzz…` in a *_test.go file, one target at a time (go test
# fuzzes one target per run); all run even when one fails, and the first
# failure is the exit code. A failing input is saved under the package's
# testdata/fuzz/<FuzzName>/, where plain `go test` replays it from then on.
# Budgets are counts of inputs, never wall-clock times: a timed -fuzztime
# fails spuriously on a loaded machine ("context deadline exceeded" with no
# failing input, golang/go#75804, fixed only in Go 1.27).
FUZZTIME ?= 20000x
.PHONY: fuzz fuzz-short
fuzz: ## Run every fuzz target for FUZZTIME inputs each (20000x), one after another
	@rc=0; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' */ | sort); do \
		pkg=./$$(dirname "$$f"); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo ">> go test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$pkg"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg" || { s=$$?; [ $$rc -ne 0 ] || rc=$$s; }; \
		done; \
	done; \
	exit $$rc

fuzz-short: ## Run every fuzz target for 2000 inputs (what make test runs)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=2000x

enum-timing: ## On a quiet machine: request-code's latency for a taken and a free number, 200 pairs (make test checks their DynamoDB calls instead)
	@set -o pipefail; bash infra/emulators.sh run -- env $(EMULATOR_ENV) ENUM_TIMING=1 \
		$(GO) test -count=1 -run '^TestE2ERequestCodeDoesNotRevealTakenNumbers$$' -v ./infra/local/ | grep -E 'round|^(--- |ok|FAIL|PASS)'

SOAK_DURATION ?= 60s
soak: ## Soak the local API on DynamoDB Local for SOAK_DURATION (60s): invariants, p50/p99, answer mix (make test runs 4s)
	@set -o pipefail; bash infra/emulators.sh run -- env $(EMULATOR_ENV) SOAK_DURATION=$(SOAK_DURATION) \
		$(GO) test -count=1 -run '^TestSoak$$' -v ./infra/local/ | grep -E 'soak:|^(--- |ok|FAIL|PASS)'

build: $(BUILD_TARGETS) ## Build every function for linux/arm64 into .aws-sam/build/<LogicalId>/bootstrap

# sam build runs `make build-<LogicalId> ARTIFACTS_DIR=…` in a copy of the
# source (CodeUri: .); run by hand, the bootstrap goes to .aws-sam/build.
$(BUILD_TARGETS): ARTIFACTS_DIR ?= $(SAM_BUILD_DIR)/$*
$(BUILD_TARGETS): build-%:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags="-s -w" -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(call function_dir,$*)

emulators-start: ## Start DynamoDB Local and moto_server (DYNAMODB_PORT, MOTO_PORT)
	@bash infra/emulators.sh start
	@bash infra/emulators.sh env

emulators-stop: ## Stop the emulators started by emulators-start
	@bash infra/emulators.sh stop

emulators-status: ## Say which emulators answer
	@bash infra/emulators.sh status

clean: ## Remove build output (keeps the installed emulators and infra/web/node_modules)
	rm -rf .aws-sam bin $(WEB)/dist
