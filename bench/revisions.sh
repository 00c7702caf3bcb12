#!/usr/bin/env bash
# The request/reply path of several revisions, or of runtime settings, against each other (never run
# in CI): for each variant, builds the user service, the gateway and bench/MovieDb.Bench of a git
# revision (a worktree under bench/results/state; '.' is this checkout as it is) in Release, starts
# the user service (LiteDB file, Production, warnings-only logging) and the gateway (limits in memory,
# lifted) alone on this machine's RabbitMQ, and measures `users.get` at 32 clients for
# BENCH_RR_SECONDS (10) s, BENCH_RR_RUNS (4) times per start; the first run of every start is the
# JIT's warm-up and is marked so. Every variant is built first; then the starts take turns between
# the variants, BENCH_RR_STARTS (2) starts each (the runs of one start follow each other).
#
#   bench/revisions.sh ae66908 .                          two revisions
#   bench/revisions.sh . '.|DOTNET_gcServer=1'            a runtime setting of the user service
#                                                         (VARIANT|ENV; ENV is one or more words)
#   BENCH_RR_PATH=me bench/revisions.sh . '.||DOTNET_gcServer=0'
#                                                         GET /api/users/me through the gateway, and
#                                                         a setting of the gateway (VARIANT||ENV)
#
# Reported per run: requests (round trips)/s, the bench tool's failed requests, and the CPU per
# request of the user service, the gateway and RabbitMQ (every beam.smp; idle, this machine's
# RabbitMQ spends ~2.4 ms a second), from /proc. MariaDB and Redis run too (moviedb_start_servers)
# but are idle. bench/RESULTS.md (round three, 2026-12-08) used it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/lib/servers.sh
source scripts/lib/servers.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

[ "$#" -gt 0 ] || { echo "usage: bench/revisions.sh VARIANT... (VARIANT: REV, REV|USER-SERVICE-ENV or REV||GATEWAY-ENV)" >&2; exit 2; }
RUNS="${BENCH_RR_RUNS:-4}" SECONDS_PER_RUN="${BENCH_RR_SECONDS:-10}" STARTS="${BENCH_RR_STARTS:-2}" WHAT="${BENCH_RR_PATH:-amqp}"
STATE="$ROOT/bench/results/state/revisions"
USER_PORT=5391 GATEWAY_PORT=5392
# REV, REV|ENV or REV||ENV: one separator, and none inside ENV.
for variant in "$@"; do
  if [[ "$variant" == *"||"* ]]; then head="${variant%%||*}" tail="${variant#*||}"
  elif [[ "$variant" == *"|"* ]]; then head="${variant%%|*}" tail="${variant#*|}"
  else head="$variant" tail=""; fi
  [[ "$head" != *"|"* && "$tail" != *"|"* ]] || { echo "$variant: give the user service's settings (REV|ENV) or the gateway's (REV||ENV), not both" >&2; exit 2; }
done

PIDS=()
stop_services() {
  [ "${#PIDS[@]}" -gt 0 ] || return 0
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
}
trap 'stop_services; moviedb_stop_started_servers' EXIT
trap 'exit 130' INT TERM
moviedb_start_servers || { echo "MariaDB, RabbitMQ and Redis could not be started" >&2; exit 1; }
mkdir -p "$STATE"

# Where a revision's build is: this checkout for '.', else a worktree.
checkout_dir() {
  if [ "$1" = "." ]; then echo "$ROOT"; else echo "$STATE/wt-$(git rev-parse --short "$1")"; fi
}

# Builds every revision once, before anything is measured.
build() {
  local rev="$1" dir
  dir="$(checkout_dir "$rev")" || { echo "no such revision: $rev" >&2; exit 1; }
  if [ "$rev" != "." ] && [ ! -d "$dir" ]; then
    git worktree add --detach -f "$dir" "$rev" >"$STATE/worktree.log" 2>&1 || { cat "$STATE/worktree.log" >&2; exit 1; }
  fi
  for project in UserService Gateway bench/MovieDb.Bench; do
    # Older revisions may warn on today's SDK: warnings are not what is measured here. No build
    # servers stay behind to take CPU from the runs.
    dotnet build "$dir/$project" -c Release -nologo -nodeReuse:false -p:UseSharedCompilation=false -p:TreatWarningsAsErrors=false >"$STATE/build.log" 2>&1 \
      || { tail -n 20 "$STATE/build.log" >&2; echo "build of $project at $rev failed" >&2; exit 1; }
  done
}

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
beam() { local total=0 pid; for pid in $(pgrep -f beam.smp); do total=$((total + $(cpu "$pid"))); done; echo "$total"; }

measure() {
  local variant="$1" rev user_env="" gateway_env="" dir
  rev="${variant%%|*}"
  case "$variant" in *"||"*) gateway_env="${variant#*||}" ;; *"|"*) user_env="${variant#*|}" ;; esac
  dir="$(checkout_dir "$rev")"
  local signing events admin broker amqp
  signing="$(moviedb_random_secret)$(moviedb_random_secret)" events="$(moviedb_random_secret)$(moviedb_random_secret)"
  admin="$(moviedb_random_secret | head -c 20)" broker="$(moviedb_random_secret)"
  moviedb_as_root rabbitmqctl -q delete_vhost moviedb-revisions >/dev/null 2>&1 || true
  moviedb_rabbitmq_account moviedb_revisions "$broker" moviedb-revisions >/dev/null
  amqp="amqp://moviedb_revisions:$broker@127.0.0.1:5672/moviedb-revisions"
  rm -f "$STATE"/users*.db
  # shellcheck disable=SC2086 # the variant's settings are words on purpose
  (cd "$dir/UserService/bin/Release/net10.0" && exec env $user_env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$USER_PORT" \
    Logging__LogLevel__Default=Warning ConnectionStrings__messaging="$amqp" ConnectionStrings__userdb="Filename=$STATE/users.db" \
    Admin__Password="$admin" Accounts__RequireActivation=false Messaging__SigningKey="$signing" Messaging__EventSigningKey="$events" \
    dotnet UserService.dll) >"$STATE/UserService.log" 2>&1 &
  local user_pid=$!
  PIDS+=("$user_pid")
  # shellcheck disable=SC2086
  (cd "$dir/Gateway/bin/Release/net10.0" && exec env $gateway_env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$GATEWAY_PORT" \
    Logging__LogLevel__Default=Warning ConnectionStrings__messaging="$amqp" services__movieservice__http__0="http://127.0.0.1:1" \
    Jwt__SigningKey="$signing" Jwt__AccessTokenLifetime=01:00:00 GatewayIdentity__SigningKey="$events" Messaging__SigningKey="$signing" \
    RateLimiting__SignIn__PermitLimit=100000000 RateLimiting__Registration__PermitLimit=100000000 \
    RateLimiting__Api__TokenLimit=100000000 RateLimiting__Api__TokensPerSecond=100000000 \
    RateLimiting__PerAddress__TokenLimit=100000000 RateLimiting__PerAddress__TokensPerSecond=100000000 \
    dotnet Gateway.dll) >"$STATE/Gateway.log" 2>&1 &
  local gateway_pid=$!
  PIDS+=("$gateway_pid")
  MOVIEDB_SERVER_WAIT_SECONDS=120 moviedb_wait_for "the user service" moviedb_http_ok "$USER_PORT" /health || { tail "$STATE/UserService.log"; exit 1; }
  MOVIEDB_SERVER_WAIT_SECONDS=120 moviedb_wait_for "the gateway" moviedb_http_ok "$GATEWAY_PORT" /alive || { tail "$STATE/Gateway.log"; exit 1; }
  local bench="$dir/bench/MovieDb.Bench/bin/Release/net10.0/MovieDb.Bench.dll" run
  dotnet "$bench" user --gateway "http://127.0.0.1:$GATEWAY_PORT" --user revisions --password bench-passw0rd >/dev/null
  for run in $(seq 1 "$RUNS"); do
    local u0 g0 b0 u1 g1 b1 row rate failed
    u0=$(cpu "$user_pid"); g0=$(cpu "$gateway_pid"); b0=$(beam)
    local started=$SECONDS
    if [ "$WHAT" = me ]; then
      row="$(dotnet "$bench" latency --gateway "http://127.0.0.1:$GATEWAY_PORT" --user revisions --password bench-passw0rd \
        --seconds "$SECONDS_PER_RUN" --concurrency 32 --only-me true | tail -n 1)"
    else
      row="$(dotnet "$bench" amqp --messaging "$amqp" --key "$signing" --name revisions --password bench-passw0rd \
        --seconds "$SECONDS_PER_RUN" --concurrency 32 | tail -n 1)"
    fi
    u1=$(cpu "$user_pid"); g1=$(cpu "$gateway_pid"); b1=$(beam)
    rate="$(awk -F'|' '{ gsub(/ /, "", $4); print $4 }' <<<"$row")"
    failed="$(awk -F'|' '{ gsub(/ /, "", $9); print $9 }' <<<"$row")"
    # CPU ticks (1/100 s) over the requests of the whole invocation: the tool's 2 s warm-up at the
    # same rate and the measured seconds (its one sign-in, a password hash, adds ~5 us at 10 s).
    awk -v v="$variant" -v n="$run" -v r="$rate" -v s="$((SECONDS - started))" -v m="$SECONDS_PER_RUN" \
      -v u=$((u1 - u0)) -v g=$((g1 - g0)) -v b=$((b1 - b0)) -v w="$WHAT" -v f="$failed" 'BEGIN {
        requests = r * (m + 2); if (requests == 0) { printf "%s run %d: no requests\n", v, n; exit }
        printf "%-28s run %d%s: %6.0f %s/s, user service %4.0f, gateway %4.0f, RabbitMQ %4.0f us per request (%d s)%s\n",
          v, n, (n == 1 ? " (warm-up)" : ""), r, (w == "me" ? "/me" : "users.get"), u * 10000 / requests, g * 10000 / requests, b * 10000 / requests, s,
          (f + 0 > 0 ? "  FAILED REQUESTS: " f " (the figures do not count)" : "") }'
  done
  stop_services
}

for variant in "$@"; do
  build "${variant%%|*}"
done
for _ in $(seq 1 "$STARTS"); do
  for variant in "$@"; do
    measure "$variant"
  done
done
stop_services
moviedb_as_root rabbitmqctl -q delete_vhost moviedb-revisions >/dev/null 2>&1 || true
moviedb_as_root rabbitmqctl -q delete_user moviedb_revisions >/dev/null 2>&1 || true
git worktree prune
