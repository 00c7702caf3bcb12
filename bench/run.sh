#!/usr/bin/env bash
# MovieDb's benchmarks (never run in CI). Starts the movie service, the user service and the gateway
# as plain processes on this machine's MariaDB and RabbitMQ — no AppHost: neither DCP's proxies nor
# the dashboard's telemetry intake should be measured — with the keys the AppHost gives them (Release
# builds, Production environment, warnings-only logging, rate limits lifted), seeds 10,000
# movies for one user, then measures on this machine, in one run:
#   1. movie reads and writes with wrk — the same mix (45% list page, 45% get by id, 10% create)
#      against the movie service directly, through nginx as a plain reverse proxy, and through the
#      gateway; interleaved rounds, medians reported, ratios against the goals;
#   2. deep pages of that list, found by page number and by cursor (straight to the movie service);
#   3. request/reply latency of GET /api/users/me and of sign-in through the gateway at 1, 8 and 32
#      clients, and the same round trip over raw AMQP without HTTP;
#   4. registration throughput and the cost of one password hash;
#   5. each service's working set, idle and under load;
#   6. for every path, the CPU each process spent per request (movie service, gateway, user service,
#      MariaDB, RabbitMQ, nginx), read from /proc before and after each measured run.
# Writes bench/results/results-<UTC time>.md (and prints it). Knobs: BENCH_DURATION (15 s),
# BENCH_WARMUP (5 s), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_MOVIES (10000), BENCH_LATENCY_SECONDS (10), BENCH_FLOOD_SECONDS (30), BENCH_GATEWAY_SETTINGS (none).
# Two gateways run side by side, the same build and settings: 'gateway' keeps its rate limits and
# sign-in throttle in Redis, as deployed; 'gateway-memory' in its own memory (no cache). The movie
# mix goes through both in the same interleaved rounds: the difference is what Redis costs.
#   7. another user's sign-in latency while one account floods the gateway with account changes
#      (50 clients; wrong current passwords, then the right one).
# BENCH_MODE=stages measures instead what each stage of the gateway's proxied path costs, by taking it
# away (bench/stages.sh: a bare YARP floor, telemetry, GC and JIT settings, Redis); BENCH_PROFILE=1
# adds a CPU profile of the gateway with its limits in Redis and in memory.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT="$(pwd)"
# shellcheck source=../scripts/lib/servers.sh
source scripts/lib/servers.sh

DURATION="${BENCH_DURATION:-15}"
WARMUP="${BENCH_WARMUP:-5}"
ROUNDS="${BENCH_ROUNDS:-3}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
MOVIES="${BENCH_MOVIES:-10000}"
LATENCY_SECONDS="${BENCH_LATENCY_SECONDS:-10}"
GATEWAY_PORT=5180 MOVIESERVICE_PORT=5181 USERSERVICE_PORT=5182 NGINX_PORT=5183 GATEWAY_MEMORY_PORT=5184
OUT="$ROOT/bench/results"
STATE="$OUT/state"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
REPORT="$OUT/results-$STAMP.md"
BENCH_TOOL="$ROOT/bench/MovieDb.Bench/bin/Release/net10.0/MovieDb.Bench.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

SERVICE_PIDS=()
SAMPLER=""
cleanup() {
  trap - EXIT INT TERM
  # Everything this script started goes: the memory sampler, nginx, the services.
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  [ -f "$STATE/nginx.pid" ] && kill "$(cat "$STATE/nginx.pid")" 2>/dev/null
  if [ "${#SERVICE_PIDS[@]}" -gt 0 ]; then
    kill -TERM "${SERVICE_PIDS[@]}" 2>/dev/null
    wait "${SERVICE_PIDS[@]}" 2>/dev/null
  fi
  moviedb_stop_started_servers
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { moviedb_log "$1"; exit 1; }

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
[ "${#missing[@]}" -eq 0 ] || moviedb_apt_install "${missing[@]}" || fail "could not install ${missing[*]}"
moviedb_start_servers || fail "MariaDB, RabbitMQ and Redis could not be started"

rm -rf "$STATE" && mkdir -p "$STATE"
moviedb_log "building (Release)"
for project in MovieService UserService Gateway bench/MovieDb.Bench; do
  dotnet build "$project" -c Release -nologo >"$STATE/build.log" 2>&1 || { tail -n 30 "$STATE/build.log"; fail "build of $project failed"; }
done

# A fresh database and virtual host for every run.
moviedb_as_root mysql --protocol=socket -e "DROP DATABASE IF EXISTS moviedb_bench" || fail "could not reset the bench database"
moviedb_as_root rabbitmqctl -q delete_vhost moviedb-bench >/dev/null 2>&1 || true

# The load clients register and sign in at once: activation by mail is not what is measured.
moviedb_log "starting the movie service, the user service and the gateway (Release, Production)"
DB_PASSWORD="$(moviedb_random_secret)" BROKER_PASSWORD="$(moviedb_random_secret)"
ADMIN_PASSWORD="$(moviedb_random_secret | head -c 20)"
JWT_SIGNING_KEY="$(moviedb_random_secret)$(moviedb_random_secret)" GATEWAY_IDENTITY_KEY="$(moviedb_random_secret)$(moviedb_random_secret)"
MESSAGING_SIGNING_KEY="$(moviedb_random_secret)$(moviedb_random_secret)" EVENT_SIGNING_KEY="$(moviedb_random_secret)$(moviedb_random_secret)"
{ moviedb_mariadb_database moviedb_bench && moviedb_mariadb_account moviedb_bench "$DB_PASSWORD" moviedb_bench; } \
  || fail "could not create the bench database and its account"
moviedb_rabbitmq_account moviedb_bench "$BROKER_PASSWORD" moviedb-bench || fail "could not create the bench broker account"
export ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__messaging="amqp://moviedb_bench:$BROKER_PASSWORD@127.0.0.1:5672/moviedb-bench" \
  Logging__LogLevel__Default=Warning
start_service() { # project port settings... (SERVICE_NAME names the process and its log; default: the project;
  # SERVICE_ROOT: the checkout whose build runs; default: this one)
  local project="$1" port="$2" name="${SERVICE_NAME:-$1}"; shift 2
  local dll="${SERVICE_ROOT:-$ROOT}/$project/bin/Release/net10.0/$project.dll"
  (cd "$(dirname "$dll")" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" "$@" dotnet "$dll") >"$STATE/$name.log" 2>&1 &
  SERVICE_PIDS+=($!)
  echo "$name $!" >> "$STATE/pids"
}
start_service MovieService "$MOVIESERVICE_PORT" \
  ConnectionStrings__moviedb="Server=127.0.0.1;Port=3306;User ID=moviedb_bench;Password=$DB_PASSWORD;Database=moviedb_bench" \
  GatewayIdentity__SigningKey="$GATEWAY_IDENTITY_KEY" Messaging__EventSigningKey="$EVENT_SIGNING_KEY"
start_service UserService "$USERSERVICE_PORT" \
  ConnectionStrings__userdb="Filename=$STATE/users.db" Admin__Password="$ADMIN_PASSWORD" Accounts__RequireActivation=false \
  Messaging__SigningKey="$MESSAGING_SIGNING_KEY" Messaging__EventSigningKey="$EVENT_SIGNING_KEY"
# The gateway's rate limits and sign-in throttle in Redis, as deployed; a second gateway keeps them in its memory.
start_gateway() { # name port extra-settings...
  local name=$1 port=$2; shift 2
  SERVICE_NAME="$name" start_service Gateway "$port" "$@" \
    services__movieservice__http__0="http://127.0.0.1:$MOVIESERVICE_PORT" \
    Jwt__SigningKey="$JWT_SIGNING_KEY" Jwt__AccessTokenLifetime=01:00:00 GatewayIdentity__SigningKey="$GATEWAY_IDENTITY_KEY" \
    Messaging__SigningKey="$MESSAGING_SIGNING_KEY" \
    RateLimiting__SignIn__PermitLimit=100000000 RateLimiting__Registration__PermitLimit=100000000 \
    RateLimiting__Api__TokenLimit=100000000 RateLimiting__Api__TokensPerSecond=100000000 \
    RateLimiting__PerAddress__TokenLimit=100000000 RateLimiting__PerAddress__TokensPerSecond=100000000
}
# BENCH_GATEWAY_SETTINGS: more settings for the Redis gateway only (space-separated KEY=value), to measure
# what one of them costs against the in-memory gateway, e.g. Aspire__StackExchange__Redis__DisableTracing=true.
read -r -a GATEWAY_EXTRA <<<"${BENCH_GATEWAY_SETTINGS:-}"
start_gateway Gateway "$GATEWAY_PORT" ConnectionStrings__cache="127.0.0.1:$MOVIEDB_REDIS_PORT" Cache__KeyPrefix=moviedb-bench: "${GATEWAY_EXTRA[@]}"
start_gateway GatewayMemory "$GATEWAY_MEMORY_PORT"
for service in "MovieService $MOVIESERVICE_PORT" "UserService $USERSERVICE_PORT" "Gateway $GATEWAY_PORT" "GatewayMemory $GATEWAY_MEMORY_PORT"; do
  read -r name port <<<"$service"
  MOVIEDB_SERVER_WAIT_SECONDS=120 moviedb_wait_for "$name" moviedb_http_ok "$port" /health \
    || { tail -n 30 "$STATE/$name.log"; fail "$name did not become healthy"; }
done

GATEWAY="http://127.0.0.1:$GATEWAY_PORT"
read -r USER_ID TOKEN < <(dotnet "$BENCH_TOOL" user --gateway "$GATEWAY" --user benchuser --password bench-passw0rd) || fail "could not create the bench user"
read -r WRITER_ID WRITER_TOKEN < <(dotnet "$BENCH_TOOL" user --gateway "$GATEWAY" --user benchwriter --password bench-passw0rd) || fail "could not create the writer"
moviedb_log "seeding $MOVIES movies for $USER_ID"
# The movie service believes only identities the gateway signed: the direct and nginx paths carry
# tokens signed with the same key (GatewayIdentity:SigningKey, in the run's secrets).
READER_IDENTITY="$(dotnet "$BENCH_TOOL" identity --key "$GATEWAY_IDENTITY_KEY" --user "$USER_ID")"
WRITER_IDENTITY="$(dotnet "$BENCH_TOOL" identity --key "$GATEWAY_IDENTITY_KEY" --user "$WRITER_ID")"
dotnet "$BENCH_TOOL" seed --movies "http://127.0.0.1:$MOVIESERVICE_PORT" --key "$GATEWAY_IDENTITY_KEY" --user "$USER_ID" --count "$MOVIES" --ids "$STATE/ids.txt" || fail "seeding failed"

rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
declare -A PID
while read -r name pid; do PID[$name]=$pid; done < "$STATE/pids"
sleep 3
declare -A IDLE PEAK
for name in Gateway MovieService UserService; do IDLE[$name]=$(rss_mb "${PID[$name]}"); PEAK[$name]=${IDLE[$name]}; done

sed -e "s|@STATE@|$STATE|g" -e "s|@MOVIESERVICE_PORT@|$MOVIESERVICE_PORT|g" -e "s|@NGINX_PORT@|$NGINX_PORT|g" \
  bench/nginx.conf.template > "$STATE/nginx.conf"
nginx -c "$STATE/nginx.conf" -p "$STATE" || fail "nginx did not start"

# CPU time of processes, in clock ticks (user + system), from /proc; nginx counts with its workers.
HZ=$(getconf CLK_TCK)
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0) )); done; echo "$total"; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# The broker's own process, asked of the node the services use (another broker on this machine would
# fool a search by process name); MariaDB's server process.
BEAM_PID=$(moviedb_as_root rabbitmqctl -q eval 'list_to_integer(os:getpid()).' 2>/dev/null) || fail "could not ask RabbitMQ for its process id"
DB_PID=$(pgrep -x mariadbd | head -n 1); [ -n "$DB_PID" ] || DB_PID=$(pgrep -x mysqld | head -n 1)
nginx_pids() { local master; master=$(cat "$STATE/nginx.pid"); echo "$master $(pgrep -P "$master" | tr '\n' ' ')"; }
REDIS_PID=$(redis-cli -p "$MOVIEDB_REDIS_PORT" info server 2>/dev/null | awk -F: '/^process_id/ { print $2 + 0 }')
[ -n "$REDIS_PID" ] || fail "could not ask Redis for its process id"
CPU_PROCS=(MovieService Gateway UserService MariaDB RabbitMQ nginx GatewayMemory Redis)
pids_of() {
  case $1 in
    MariaDB) echo "$DB_PID" ;;
    RabbitMQ) echo "$BEAM_PID" ;;
    Redis) echo "$REDIS_PID" ;;
    nginx) nginx_pids ;;
    *) echo "${PID[$1]}" ;;
  esac
}
process_ticks() { local -a pids; read -r -a pids <<<"$(pids_of "$1")"; cpu_ticks "${pids[@]}"; }
declare -A CPU_MARK
cpu_mark() { local name; for name in "${CPU_PROCS[@]}"; do CPU_MARK[$name]=$(process_ticks "$name"); done; CPU_MARK[busy]=$(busy_ticks); }
# cpu_since REQUESTS → "movie gateway user mariadb rabbitmq nginx all" in microseconds of CPU per request
cpu_since() {
  local name out="" ticks
  for name in "${CPU_PROCS[@]}" busy; do
    if [ "$name" = busy ]; then ticks=$(( $(busy_ticks) - CPU_MARK[busy] )); else ticks=$(( $(process_ticks "$name") - CPU_MARK[$name] )); fi
    out+="$(awk -v t="$ticks" -v n="$1" -v hz="$HZ" 'BEGIN { printf "%.0f", (n > 0) ? t * 1000000 / hz / n : 0 }') "
  done
  echo "$out"
}

wrk_result() { # script url seconds script-args... → prints the fields of the script's RESULT line
  local script=$1 url=$2 seconds=$3
  shift 3
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${seconds}s" --latency -s "$script" "$url" -- "$@" \
    | awk '/^RESULT/ { $1 = ""; print substr($0, 2) }'
}
run_wrk() { # name url prefix mode reader writer seconds → prints the RESULT fields
  wrk_result bench/mix.lua "$2" "$7" "$3" "$4" "$5" "$6" "$STATE/ids.txt"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if [ "${BENCH_MODE:-all}" = stages ]; then
  # shellcheck source=stages.sh
  source bench/stages.sh
  exit 0
fi

declare -A RPS P50 P99 ERR CPU
ORDERS=("direct nginx gateway gateway-memory" "nginx gateway gateway-memory direct" "gateway gateway-memory direct nginx" "gateway-memory direct nginx gateway")
for round in $(seq 1 "$ROUNDS"); do
  # Each round starts with another path, so that no path always runs first or last.
  for path in ${ORDERS[$(( (round - 1) % 4 ))]}; do
    case $path in
      direct) url="http://127.0.0.1:$MOVIESERVICE_PORT"; prefix=/movies; mode=bearer; value=$READER_IDENTITY; writer=$WRITER_IDENTITY ;;
      nginx) url="http://127.0.0.1:$NGINX_PORT"; prefix=/movies; mode=bearer; value=$READER_IDENTITY; writer=$WRITER_IDENTITY ;;
      gateway) url="$GATEWAY"; prefix=/api/movies; mode=bearer; value=$TOKEN; writer=$WRITER_TOKEN ;;
      gateway-memory) url="http://127.0.0.1:$GATEWAY_MEMORY_PORT"; prefix=/api/movies; mode=bearer; value=$TOKEN; writer=$WRITER_TOKEN ;;
    esac
    run_wrk "$path" "$url" "$prefix" "$mode" "$value" "$writer" "$WARMUP" >/dev/null
    if [ "$path" = gateway ]; then
      ( while true; do for name in Gateway MovieService UserService; do echo "$name $(rss_mb "${PID[$name]}")"; done; sleep 0.5; done ) > "$STATE/rss-$round.txt" &
      SAMPLER=$!
    fi
    cpu_mark
    read -r rps p50 _ p99 _ errors requests < <(run_wrk "$path" "$url" "$prefix" "$mode" "$value" "$writer" "$DURATION")
    read -r -a used < <(cpu_since "$requests")
    for i in "${!CPU_PROCS[@]}"; do CPU[$path,${CPU_PROCS[$i]}]+="${used[$i]} "; done
    CPU[$path,all]+="${used[${#CPU_PROCS[@]}]} "
    if [ "$path" = gateway ]; then
      kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""
    fi
    moviedb_log "round $round $path: $rps req/s, p50 $p50 ms, p99 $p99 ms, $errors errors of $requests"
    RPS[$path]+="$rps "; P50[$path]+="$p50 "; P99[$path]+="$p99 "; ERR[$path]=$(( ${ERR[$path]:-0} + errors ))
  done
done
for round in $(seq 1 "$ROUNDS"); do
  [ -f "$STATE/rss-$round.txt" ] || continue
  while read -r name mb; do
    [ -n "$mb" ] && [ "$mb" -gt "${PEAK[$name]}" ] && PEAK[$name]=$mb
  done < "$STATE/rss-$round.txt"
done

declare -A MRPS MP50 MP99
for path in direct nginx gateway gateway-memory; do
  MRPS[$path]=$(median <<<"${RPS[$path]}"); MP50[$path]=$(median <<<"${P50[$path]}"); MP99[$path]=$(median <<<"${P99[$path]}")
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }

# Deep pages: every page of the 10,000-movie list (sort=title, 20 per page) at random, found by page
# number (offset, plus the count of all matches) or by the previous page's cursor (a seek, no count),
# straight to the movie service; interleaved rounds, medians.
moviedb_log "deep pages: by number and by cursor"
dotnet "$BENCH_TOOL" pages --movies "http://127.0.0.1:$MOVIESERVICE_PORT" --key "$GATEWAY_IDENTITY_KEY" --user "$USER_ID" \
  --numbers "$STATE/pages-numbers.txt" --cursors "$STATE/pages-cursors.txt" >/dev/null || fail "could not walk the list"
run_pages() { # numbers|cursors seconds → prints the RESULT fields
  wrk_result bench/pages.lua "http://127.0.0.1:$MOVIESERVICE_PORT" "$2" /movies "$READER_IDENTITY" "$STATE/pages-$1.txt"
}
declare -A DRPS DP50 DP99 DERR DMOVIE DDB
for round in $(seq 1 "$ROUNDS"); do
  order="numbers cursors"; [ $(( round % 2 )) -eq 0 ] && order="cursors numbers"
  for mode in $order; do
    run_pages "$mode" "$WARMUP" >/dev/null
    cpu_mark
    read -r rps p50 _ p99 _ errors requests < <(run_pages "$mode" "$DURATION")
    read -r -a used < <(cpu_since "$requests")
    moviedb_log "round $round pages by $mode: $rps req/s, p50 $p50 ms, p99 $p99 ms, $errors errors of $requests"
    DRPS[$mode]+="$rps "; DP50[$mode]+="$p50 "; DP99[$mode]+="$p99 "; DERR[$mode]=$(( ${DERR[$mode]:-0} + errors ))
    DMOVIE[$mode]+="${used[0]} "; DDB[$mode]+="${used[3]} "
  done
done
PAGE_COUNT=$(wc -l < "$STATE/pages-numbers.txt")

moviedb_log "request/reply latency through the gateway and over AMQP"
LATENCY="$(dotnet "$BENCH_TOOL" latency --gateway "$GATEWAY" --user benchuser --password bench-passw0rd --seconds "$LATENCY_SECONDS" --concurrency 1,8,32)"
AMQP="$(dotnet "$BENCH_TOOL" amqp --messaging "amqp://moviedb_bench:$BROKER_PASSWORD@127.0.0.1:5672/moviedb-bench" --key "$MESSAGING_SIGNING_KEY" --name benchuser --password bench-passw0rd --seconds "$LATENCY_SECONDS" --concurrency 1,8,32 | tail -n +3)"
# Where the time of GET /api/users/me goes: CPU used per process during a 32-client run.
cpu_mark
ME_ONLY="$(dotnet "$BENCH_TOOL" latency --gateway "$GATEWAY" --user benchuser --password bench-passw0rd --seconds "$LATENCY_SECONDS" --concurrency 32 --only-me true | tail -n 1)"
ME_REQUESTS=$(awk -F'|' -v s="$LATENCY_SECONDS" '{ gsub(/ /, "", $4); printf "%.0f", $4 * (s + 2) }' <<<"$ME_ONLY")
read -r -a ME_CPU < <(cpu_since "$ME_REQUESTS")

moviedb_log "registration throughput and hashing cost"
read -r REGISTER_RATE REGISTER_FAILED < <(dotnet "$BENCH_TOOL" register --gateway "$GATEWAY" --count 200 --concurrency 16)
read -r HASH_MS ITERATIONS < <(dotnet "$BENCH_TOOL" hash)

moviedb_log "another user's sign-ins while one account floods the gateway with account changes"
FLOOD="$(dotnet "$BENCH_TOOL" flood --gateway "$GATEWAY" --user benchuser --password bench-passw0rd --attacker benchflood \
  --seconds "${BENCH_FLOOD_SECONDS:-30}" --concurrency 50)" || fail "the flood measurement failed"

ME32=$(grep -F '| GET /api/users/me | 32 |' <<<"$LATENCY")
ME32_P50=$(awk -F'|' '{ gsub(/ /, "", $5); print $5 }' <<<"$ME32")
ME32_P99=$(awk -F'|' '{ gsub(/ /, "", $7); print $7 }' <<<"$ME32")
ME32_RPS=$(awk -F'|' '{ gsub(/ /, "", $4); print $4 }' <<<"$ME32")
AMQP32_RPS=$(grep -F '| users.get over AMQP | 32 |' <<<"$AMQP" | awk -F'|' '{ gsub(/ /, "", $4); print $4 }')
verdict() { awk -v v="$1" -v limit="$2" -v cmp="$3" 'BEGIN { ok = (cmp == "ge") ? (v >= limit) : (v <= limit); print ok ? "met" : "**not met**" }'; }
GW_DIRECT=$(awk -v a="${MRPS[gateway]}" -v b="${MRPS[direct]}" 'BEGIN { print a / b }')
GW_NGINX=$(awk -v a="${MRPS[gateway]}" -v b="${MRPS[nginx]}" 'BEGIN { print a / b }')

{
  echo "# MovieDb benchmark results — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(. /etc/os-release && echo "$PRETTY_NAME"); .NET $(dotnet --version)"
  echo "- Commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
  echo "- Everything on this one machine: wrk ($THREADS threads, $CONNECTIONS connections), nginx, the three services, MariaDB, RabbitMQ"
  echo "- Command: \`bench/run.sh\` (BENCH_DURATION=$DURATION, BENCH_WARMUP=$WARMUP, BENCH_ROUNDS=$ROUNDS, BENCH_MOVIES=$MOVIES${BENCH_GATEWAY_SETTINGS:+, BENCH_GATEWAY_SETTINGS=$BENCH_GATEWAY_SETTINGS})"
  echo
  echo "## Movie reads and writes (45% list page, 45% get by id, 10% create), median of $ROUNDS interleaved rounds of ${DURATION} s (each round starts with another path)"
  echo
  echo "| path | requests/s | p50 ms | p99 ms | errors | runs (req/s) |"
  echo "|---|---:|---:|---:|---:|---|"
  for path in direct nginx gateway gateway-memory; do
    echo "| $path | ${MRPS[$path]} | ${MP50[$path]} | ${MP99[$path]} | ${ERR[$path]} | ${RPS[$path]}|"
  done
  echo
  echo "CPU per request of each process (microseconds; median of the rounds; \`all\` is every busy CPU of the machine, wrk included):"
  echo
  header="| path |"; rule="|---|"
  for name in "${CPU_PROCS[@]}" all; do header+=" $name |"; rule+="---:|"; done
  echo "$header"; echo "$rule"
  for path in direct nginx gateway gateway-memory; do
    row="| $path |"
    for name in "${CPU_PROCS[@]}" all; do row+=" $(median <<<"${CPU[$path,$name]}") |"; done
    echo "$row"
  done
  echo
  echo "| goal | measured | |"
  echo "|---|---:|---|"
  echo "| gateway ≥ 90% of direct | $(ratio "${MRPS[gateway]}" "${MRPS[direct]}") | $(verdict "$GW_DIRECT" 0.9 ge) |"
  echo "| gateway ≥ nginx | $(ratio "${MRPS[gateway]}" "${MRPS[nginx]}") of nginx | $(verdict "$GW_NGINX" 1 ge) |"
  echo "| GET /api/users/me at 32 clients ≥ 90% of the raw AMQP round trip's throughput | $(ratio "$ME32_RPS" "$AMQP32_RPS") | $(verdict "$(awk -v a="$ME32_RPS" -v b="$AMQP32_RPS" 'BEGIN { print a / b }')" 0.9 ge) |"
  echo "| GET /api/users/me: gateway + user service + RabbitMQ CPU ≤ 300 µs per request | $(( ME_CPU[1] + ME_CPU[2] + ME_CPU[4] )) µs | $(verdict $(( ME_CPU[1] + ME_CPU[2] + ME_CPU[4] )) 300 le) |"
  echo "| GET /api/users/me p50 ≤ 2 ms at 32 clients | ${ME32_P50} ms | $(verdict "$ME32_P50" 2 le) |"
  echo "| GET /api/users/me p99 ≤ 10 ms at 32 clients | ${ME32_P99} ms | $(verdict "$ME32_P99" 10 le) |"
  echo
  echo "## The gateway's limits in Redis against in its memory (same rounds as above)"
  echo
  echo "| | requests/s | p50 ms | p99 ms | gateway µs CPU/request | Redis µs CPU/request |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| limits in Redis (gateway) | ${MRPS[gateway]} | ${MP50[gateway]} | ${MP99[gateway]} | $(median <<<"${CPU[gateway,Gateway]}") | $(median <<<"${CPU[gateway,Redis]}") |"
  echo "| limits in memory (gateway-memory) | ${MRPS[gateway-memory]} | ${MP50[gateway-memory]} | ${MP99[gateway-memory]} | $(median <<<"${CPU[gateway-memory,GatewayMemory]}") | $(median <<<"${CPU[gateway-memory,Redis]}") |"
  echo
  echo "Throughput with Redis: $(ratio "${MRPS[gateway]}" "${MRPS[gateway-memory]}") of in-memory."
  echo
  echo "## Deep pages: any of the list's $PAGE_COUNT pages at random (sort=title, 20 per page), straight to the movie service; median of $ROUNDS interleaved rounds of ${DURATION} s"
  echo
  echo "| found by | requests/s | p50 ms | p99 ms | errors | movie service µs CPU/request | MariaDB µs CPU/request |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for mode in numbers cursors; do
    echo "| $([ "$mode" = numbers ] && echo 'page number (offset + count)' || echo 'cursor (seek, no count)') | $(median <<<"${DRPS[$mode]}") | $(median <<<"${DP50[$mode]}") | $(median <<<"${DP99[$mode]}") | ${DERR[$mode]} | $(median <<<"${DMOVIE[$mode]}") | $(median <<<"${DDB[$mode]}") |"
  done
  echo
  echo "## Request/reply latency"
  echo
  echo "$LATENCY"
  echo "$AMQP"
  echo
  echo "CPU per \`GET /api/users/me\` at 32 clients (${ME_REQUESTS} requests including the warm-up; microseconds of CPU per request):"
  echo
  echo "| gateway | user service | RabbitMQ | the three | all busy CPU (load client and kernel included) |"
  echo "|---:|---:|---:|---:|---:|"
  echo "| ${ME_CPU[1]} | ${ME_CPU[2]} | ${ME_CPU[4]} | $(( ME_CPU[1] + ME_CPU[2] + ME_CPU[4] )) | ${ME_CPU[8]} |"
  echo
  echo "## Registration"
  echo
  echo "- 200 registrations through the gateway from 16 clients: ${REGISTER_RATE} per second (${REGISTER_FAILED} failed)."
  echo "- One password hash (PBKDF2-HMAC-SHA512, $ITERATIONS iterations, ASP.NET Core's default): ${HASH_MS} ms; with $(nproc) cores that alone caps registrations (and sign-ins) at about $(awk -v ms="$HASH_MS" -v c="$(nproc)" 'BEGIN { printf "%.0f", c * 1000 / ms }') per second."
  echo
  echo "## Another user's sign-ins during a flood of account changes (${BENCH_FLOOD_SECONDS:-30} s each, in this order)"
  echo
  echo "$FLOOD"
  echo
  echo "## Working set (MB)"
  echo
  echo "| service | idle | peak under the gateway load |"
  echo "|---|---:|---:|"
  for name in Gateway MovieService UserService; do echo "| $name | ${IDLE[$name]} | ${PEAK[$name]} |"; done
} > "$REPORT"

cat "$REPORT"
moviedb_log "written to $REPORT"
