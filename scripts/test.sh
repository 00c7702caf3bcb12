#!/usr/bin/env bash
# The one test command. On a Debian-like machine without Docker it installs MariaDB, RabbitMQ, Redis,
# python3-aiosmtpd (the SMTP server of the mail tests) and Chromium (for the web app's browser tests)
# from apt when they are missing, starts the servers when they are not running, creates a test
# account on each, builds the whole MovieDb.sln (the Aspire AppHost included, warnings as errors) and
# runs every test against the real servers. The last line it prints is "N passed, N failed, N skipped"; it exits non-zero when
# anything failed or did not build. Servers it started are stopped again; running ones are left alone.
#
# Usage: scripts/test.sh [--unit] [extra dotnet test arguments, e.g. --filter "FullyQualifiedName~Movies"]
#   --unit  only the tests that need no server (MovieDb.Tests/Unit): nothing is installed or started,
#           and they run in seconds — the loop to keep going while you change code.
set -uo pipefail

# --unit may come anywhere; with a --filter of the caller's, both apply.
UNIT_ONLY=false
UNIT_FILTER="FullyQualifiedName~MovieDb.Tests.Unit."
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --unit) UNIT_ONLY=true ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ "$UNIT_ONLY" = true ]; then
  filtered=false
  for i in "${!args[@]}"; do
    if [ "${args[$i]}" = "--filter" ] && [ $((i + 1)) -lt ${#args[@]} ]; then
      args[i + 1]="($UNIT_FILTER)&(${args[i + 1]})"
      filtered=true
    fi
  done
  [ "$filtered" = true ] || args=(--filter "$UNIT_FILTER" "${args[@]}")
fi
set -- "${args[@]}"

cd "$(dirname "$0")/.." || exit 1
ROOT="$(pwd)"
# shellcheck source=lib/servers.sh
source scripts/lib/servers.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
RESULTS_DIR="$ROOT/TestResults"
CONFIGURATION="${CONFIGURATION:-Debug}"

summary() {
  # Prints the per-assembly counts and the closing line from the TRX files of this run.
  local total_passed=0 total_failed=0 total_skipped=0 trx name passed failed skipped outcomes
  shopt -s nullglob
  for trx in "$RESULTS_DIR"/*.trx; do
    outcomes="$(grep -o '<UnitTestResult [^>]*' "$trx" | grep -o ' outcome="[A-Za-z]*"' | cut -d'"' -f2)"
    passed=$(grep -cx 'Passed' <<<"$outcomes")
    skipped=$(grep -cx 'NotExecuted' <<<"$outcomes")
    failed=$(grep -cxE 'Failed|Error|Timeout|Aborted' <<<"$outcomes")
    name="$(grep -o 'storage="[^"]*"' "$trx" | head -n 1 | cut -d'"' -f2)"
    name="$(basename "${name:-$trx}")"
    printf '%s: %d passed, %d failed, %d skipped\n' "${name%.dll}" "$passed" "$failed" "$skipped"
    total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed)); total_skipped=$((total_skipped + skipped))
  done
  if [ "$total_failed" -gt 0 ]; then
    # Names the failures again at the end, where a CI log that keeps only its tail still shows them.
    echo "failed tests (the first line of each message; the whole of it is above and in $RESULTS_DIR):"
    for trx in "$RESULTS_DIR"/*.trx; do
      failed_tests "$trx"
    done
    traced_errors
  fi
  if [ "$1" -ne 0 ] && [ "$total_failed" -eq 0 ]; then
    echo "the test run did not complete (exit code $1): counted as 1 failure"
    total_failed=1
  fi
  printf '%d passed, %d failed, %d skipped\n' "$total_passed" "$total_failed" "$total_skipped"
}

failed_tests() {
  # "  - <test name>: <first line of its message>" for each failed test of a TRX file.
  awk '
    function unescape(t) {
      gsub(/&quot;/, "\"", t); gsub(/&apos;/, "\047", t); gsub(/&lt;/, "<", t); gsub(/&gt;/, ">", t); gsub(/&amp;/, "\\&", t)
      return t
    }
    /<UnitTestResult / {
      name = ""; failed = 0
      if (match($0, /testName="[^"]*"/)) name = unescape(substr($0, RSTART + 10, RLENGTH - 11))
      if ($0 ~ / outcome="(Failed|Error|Timeout|Aborted)"/) { failed = 1; printed = 0 }
      if (failed && $0 ~ /\/>[[:space:]]*$/) { print "  - " name; failed = 0 }
    }
    failed && !printed && /<Message>/ {
      line = $0; sub(/.*<Message>/, "", line); sub(/<\/Message>.*/, "", line)
      print "  - " name ": " substr(unescape(line), 1, 300); printed = 1; failed = 0
    }
    failed && /<\/UnitTestResult>/ { print "  - " name; failed = 0 }
  ' "$1"
}

traced_errors() {
  # The errors that in-process services logged under a trace id a failure names (an error page shows
  # only its trace id): from $MOVIEDB_TEST_SERVICE_ERRORS (MovieDb.Tests/Infrastructure/ServiceErrorLog.cs).
  local trace
  [ -s "$MOVIEDB_TEST_SERVICE_ERRORS" ] || return 0
  grep -ohE '\b00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]\b' "$RESULTS_DIR"/*.trx | cut -d- -f2 | sort -u | while read -r trace; do
    echo "errors the services logged for trace $trace:"
    awk -v id="trace=$trace" '/^[0-9][0-9][0-9][0-9]-/ { keep = index($0, id) > 0 } keep' "$MOVIEDB_TEST_SERVICE_ERRORS" | head -n 60
  done
}

fail_before_tests() {
  moviedb_log "$1"
  trap - EXIT
  moviedb_stop_started_servers
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
}

if ! command -v dotnet >/dev/null 2>&1; then
  fail_before_tests "the .NET SDK 10 is not installed: see https://dot.net (global.json pins 10.0.x)"
fi

trap 'moviedb_stop_started_servers' EXIT
trap 'exit 130' INT TERM

start_test_servers() {
  moviedb_start_servers || fail_before_tests "MariaDB, RabbitMQ and Redis are needed for the tests and could not be started (see above)"
  # Not fatal: without a browser, the browser tests report themselves skipped with the reason.
  moviedb_install_chromium || true
  moviedb_install_shellcheck || true

  # The mail tests start their own SMTP servers (aiosmtpd) on free ports. Not fatal here: without it
  # they skip, saying why — and fail under CI=true.
  moviedb_install_aiosmtpd || moviedb_log "no SMTP server for the mail tests: they will skip (and fail under CI=true)"
  export MOVIEDB_TEST_SMTP_PYTHON="$MOVIEDB_SMTP_PYTHON"

  local password
  password="$(moviedb_random_secret)"
  # The tests create a database per test and a virtual host per test (through the management API):
  # their account has rights on every database (without GRANT OPTION) and the broker's administrator tag.
  moviedb_mariadb_account moviedb_test "$password" '*' || fail_before_tests "could not create the MariaDB test account"
  moviedb_rabbitmq_account moviedb_test "$password" / administrator || fail_before_tests "could not create the RabbitMQ test account"
  export MOVIEDB_TEST_MYSQL="Server=127.0.0.1;Port=3306;User ID=moviedb_test;Password=$password"
  export MOVIEDB_TEST_RABBITMQ="amqp://moviedb_test:$password@127.0.0.1:5672/"
  export MOVIEDB_TEST_RABBITMQ_MANAGEMENT="http://127.0.0.1:15672/"
  # Each test system keeps its keys under a prefix of its own in this Redis.
  export MOVIEDB_TEST_REDIS="127.0.0.1:$MOVIEDB_REDIS_PORT"
  # Lets the fault tests stop and start the servers (scripts/serverctl.sh).
  export MOVIEDB_TEST_SERVERCTL="$ROOT/scripts/serverctl.sh"
}

if [ "$UNIT_ONLY" = false ]; then
  start_test_servers
fi

moviedb_log "building MovieDb.sln ($CONFIGURATION)"
dotnet restore MovieDb.sln -v quiet \
  || fail_before_tests "restore failed: every package comes from nuget.org (on the build machines, .ci/run adds a package source for the few their registry lacks)"
dotnet build MovieDb.sln -c "$CONFIGURATION" --no-restore -v quiet -clp:ErrorsOnly \
  || fail_before_tests "build failed"

rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"
export MOVIEDB_TEST_SERVICE_ERRORS="$RESULTS_DIR/service-errors.log"
moviedb_log "running the tests"
dotnet test MovieDb.sln -c "$CONFIGURATION" --no-build \
  --results-directory "$RESULTS_DIR" --logger "trx" --logger "console;verbosity=normal" \
  --blame-hang-timeout 10m "$@"
status=$?

# Servers stop before the summary, so that the summary stays the last line printed.
trap - EXIT
moviedb_stop_started_servers
summary "$status"
[ "$status" -eq 0 ]
