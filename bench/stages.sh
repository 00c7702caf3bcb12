# shellcheck shell=bash
# BENCH_MODE=stages of bench/run.sh (sourced by it once the services run and the movies are seeded):
# what each stage of the gateway's proxied path costs, measured by taking it away. The movie mix of
# run.sh goes through each variant below in interleaved rounds (each round starts with another
# variant); every variant forwards to the same movie service. Reported per variant: requests/s and
# the CPU its own process spent per request (the steadier figure on this shared 2-core machine).
#   nginx               nginx as a plain reverse proxy (run.sh's), for comparison
#   floor               Kestrel + YARP, the gateway's movie route and nothing else (bench/MovieDb.ProxyFloor)
#   floor+defaults      the same with AddServiceDefaults (OpenTelemetry, health checks, service discovery)
#   memory              the gateway as deployed but with its limits in its own memory (no Redis)
#   memory, no OTel     the same, OTEL_SDK_DISABLED=true (no traces, metrics or OTel logs at all)
#   memory, 10% traced  the same, OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1
#   memory, workstation GC / server GC without DATAS / no tiered PGO / no thread-pool spinning /
#   inline socket completions   runtime settings (DOTNET_*), one each
#   redis               the gateway as deployed: limits in Redis
#   redis, <rev>        with BENCH_BASELINE=<git revision>: the gateway built from that revision (a git
#                       worktree under bench/results/state), limits in Redis — a code change's A/B
# Every variant first takes BENCH_STAGE_WARMUP (20) s of the mix, so that no round measures the JIT.
# BENCH_STAGE_MIX=thin sends instead one request the movie service answers 404 by its routes alone
# (bench/thin.lua: no database), so that the proxy's own cost is most of what the machine does and
# MariaDB's background work cannot blur it; 'movies' (the default) is run.sh's movie mix.
# BENCH_STAGE_ONLY=<extended regex>: only the variants whose names match (e.g. '^(nginx|floor|memory|redis)$').
# BENCH_PROFILE=1 adds a dotnet-trace CPU profile of 'redis' and 'memory' under the mix (needs dotnet-trace).
STAGE_FLOOR_DLL="$ROOT/bench/MovieDb.ProxyFloor/bin/Release/net10.0/MovieDb.ProxyFloor.dll"
dotnet build bench/MovieDb.ProxyFloor -c Release -nologo >"$STATE/build-floor.log" 2>&1 || { tail -n 30 "$STATE/build-floor.log"; fail "build of the proxy floor failed"; }

STAGES=("nginx" "floor" "floor+defaults" "memory" "memory, no OTel" "memory, 10% traced" "memory, workstation GC" "memory, server GC without DATAS"
  "memory, no tiered PGO" "memory, no thread-pool spinning" "memory, inline socket completions" "redis")
if [ -n "${BENCH_BASELINE:-}" ]; then
  BASELINE_NAME="redis, $(git rev-parse --short "$BENCH_BASELINE")" || fail "BENCH_BASELINE: no such revision"
  git worktree prune
  git worktree add --detach -f "$STATE/baseline" "$BENCH_BASELINE" >/dev/null 2>&1 || fail "could not check out $BENCH_BASELINE"
  dotnet build "$STATE/baseline/Gateway" -c Release -nologo >"$STATE/build-baseline.log" 2>&1 || { tail -n 30 "$STATE/build-baseline.log"; fail "build of $BENCH_BASELINE failed"; }
  STAGES+=("$BASELINE_NAME")
fi
if [ -n "${BENCH_STAGE_ONLY:-}" ]; then
  mapfile -t STAGES < <(printf '%s\n' "${STAGES[@]}" | grep -E -- "$BENCH_STAGE_ONLY")
  [ "${#STAGES[@]}" -gt 0 ] || fail "BENCH_STAGE_ONLY matches no variant"
fi
wanted() { printf '%s\n' "${STAGES[@]}" | grep -qxF -- "$1"; }
declare -A STAGE_PORT STAGE_PID
stage_port=5185
start_floor() { # name extra-settings...
  local name=$1; shift
  wanted "$name" || return 0
  (cd "$(dirname "$STAGE_FLOOR_DLL")" && exec env ASPNETCORE_URLS="http://127.0.0.1:$stage_port" \
    ReverseProxy__Clusters__movieservice__Destinations__movieservice__Address="http://127.0.0.1:$MOVIESERVICE_PORT" "$@" \
    dotnet "$STAGE_FLOOR_DLL") >"$STATE/stage-$stage_port.log" 2>&1 &
  SERVICE_PIDS+=($!); STAGE_PID[$name]=$!; STAGE_PORT[$name]=$stage_port; stage_port=$((stage_port + 1))
}
start_stage_gateway() { # name extra-settings...
  local name=$1; shift
  wanted "$name" || return 0
  start_gateway "stage-$stage_port" "$stage_port" "$@"
  STAGE_PID[$name]=${SERVICE_PIDS[-1]}; STAGE_PORT[$name]=$stage_port; stage_port=$((stage_port + 1))
}
STAGE_PID[nginx]="$(nginx_pids)"; STAGE_PORT[nginx]=$NGINX_PORT
start_floor "floor"
start_floor "floor+defaults" Floor__ServiceDefaults=true
STAGE_PID[memory]=${PID[GatewayMemory]}; STAGE_PORT[memory]=$GATEWAY_MEMORY_PORT
start_stage_gateway "memory, no OTel" OTEL_SDK_DISABLED=true
start_stage_gateway "memory, 10% traced" OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1
start_stage_gateway "memory, workstation GC" DOTNET_gcServer=0
start_stage_gateway "memory, server GC without DATAS" DOTNET_GCDynamicAdaptationMode=0
start_stage_gateway "memory, no tiered PGO" DOTNET_TieredPGO=0
start_stage_gateway "memory, no thread-pool spinning" DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0
start_stage_gateway "memory, inline socket completions" DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
STAGE_PID[redis]=${PID[Gateway]}; STAGE_PORT[redis]=$GATEWAY_PORT
[ -n "${BASELINE_NAME:-}" ] && SERVICE_ROOT="$STATE/baseline" start_stage_gateway "$BASELINE_NAME" \
  ConnectionStrings__cache="127.0.0.1:$MOVIEDB_REDIS_PORT" Cache__KeyPrefix=moviedb-bench:
for name in "${STAGES[@]}"; do
  MOVIEDB_SERVER_WAIT_SECONDS=120 moviedb_wait_for "$name" moviedb_port_open "${STAGE_PORT[$name]}" \
    || fail "the stage variant '$name' did not start"
done
sleep 5

stage_target() { # name → "url prefix reader writer"
  case $1 in
    nginx) echo "http://127.0.0.1:$NGINX_PORT /movies $READER_IDENTITY $WRITER_IDENTITY" ;;
    floor*) echo "http://127.0.0.1:${STAGE_PORT[$1]} /api/movies $READER_IDENTITY $WRITER_IDENTITY" ;;
    *) echo "http://127.0.0.1:${STAGE_PORT[$1]} /api/movies $TOKEN $WRITER_TOKEN" ;;
  esac
}
STAGE_MIX="${BENCH_STAGE_MIX:-movies}"
stage_wrk() { # name seconds → prints the RESULT fields of the stage mix through that variant
  local url prefix reader writer
  read -r url prefix reader writer <<<"$(stage_target "$1")"
  case $STAGE_MIX in
    thin) wrk_result bench/thin.lua "$url" "$2" "$prefix" "$reader" ;;
    *) run_wrk "$1" "$url" "$prefix" bearer "$reader" "$writer" "$2" ;;
  esac
}
for name in "${STAGES[@]}"; do
  if [ "$STAGE_MIX" = thin ]; then
    read -r url prefix reader _ <<<"$(stage_target "$name")"
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $reader" "$url$prefix/not-a-movie")
    [ "$status" = 404 ] || fail "the thin mix through '$name' answered $status, not 404"
  fi
  stage_wrk "$name" "${BENCH_STAGE_WARMUP:-20}" >/dev/null
done
moviedb_log "stages: every variant warmed up"

declare -A SRPS SCPU SALL SERR
for round in $(seq 1 "$ROUNDS"); do
  count=${#STAGES[@]}
  for i in $(seq 0 $((count - 1))); do
    name=${STAGES[$(( (i + round - 1) % count ))]}
    stage_wrk "$name" "$WARMUP" >/dev/null
    read -r -a pids <<<"${STAGE_PID[$name]}"
    before=$(cpu_ticks "${pids[@]}"); busy_before=$(busy_ticks)
    read -r rps _ _ _ _ errors requests < <(stage_wrk "$name" "$DURATION")
    [ -n "${requests:-}" ] || fail "wrk printed no result for '$name'"
    own=$(( $(cpu_ticks "${pids[@]}") - before )); all=$(( $(busy_ticks) - busy_before ))
    per_request() { awk -v t="$1" -v n="$requests" -v hz="$HZ" 'BEGIN { printf "%.0f", (n > 0) ? t * 1000000 / hz / n : 0 }'; }
    moviedb_log "stages round $round '$name': $rps req/s, $(per_request "$own") µs own CPU/request, $errors errors of $requests"
    SRPS[$name]+="$rps "; SCPU[$name]+="$(per_request "$own") "; SALL[$name]+="$(per_request "$all") "; SERR[$name]=$(( ${SERR[$name]:-0} + errors ))
  done
done

PROFILES=""
if [ -n "${BENCH_PROFILE:-}" ]; then
  TRACE_TOOL="$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")"
  [ -x "$TRACE_TOOL" ] || fail "BENCH_PROFILE needs dotnet-trace (dotnet tool install -g dotnet-trace)"
  for name in redis memory; do
    stage_wrk "$name" $((DURATION + 6)) >/dev/null &
    load=$!
    sleep 3
    "$TRACE_TOOL" collect -p "${STAGE_PID[$name]}" --profile dotnet-sampled-thread-time \
      --duration "$(printf '00:%02d:%02d:%02d' $((DURATION / 3600)) $((DURATION / 60 % 60)) $((DURATION % 60)))" \
      --format Speedscope -o "$STATE/profile-$name.nettrace" >"$STATE/profile-$name.log" 2>&1 \
      || { kill "$load" 2>/dev/null; tail -n 20 "$STATE/profile-$name.log"; fail "dotnet-trace failed"; }
    wait "$load"
    PROFILES+="### $name"$'\n\n```\n'"$(python3 bench/profile/cpu.py "$STATE/profile-$name.speedscope.json" --top 25)"$'\n```\n\n'
  done
fi

{
  echo "# MovieDb benchmark results, the gateway's stages — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); .NET $(dotnet --version)"
  echo "- Commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
  echo "- Command: \`BENCH_MODE=stages bench/run.sh\` (BENCH_STAGE_MIX=$STAGE_MIX, BENCH_DURATION=$DURATION, BENCH_WARMUP=$WARMUP, BENCH_ROUNDS=$ROUNDS, $CONNECTIONS connections)"
  echo
  if [ "$STAGE_MIX" = thin ]; then
    echo "The thin mix (GET /api/movies/not-a-movie, answered 404 by the movie service's routes without its database; 'errors' are answers other than that 404, and socket errors) through each variant; medians of $ROUNDS interleaved rounds of ${DURATION} s."
  else
    echo "The movie mix (45% list page, 45% get by id, 10% create) through each variant; medians of $ROUNDS interleaved rounds of ${DURATION} s."
  fi
  echo
  echo "| variant | requests/s | own CPU µs/request | Δ against 'memory' | all busy CPU µs/request | errors | runs (own µs) |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  base=""; wanted memory && base=$(median <<<"${SCPU[memory]}")
  for name in "${STAGES[@]}"; do
    own=$(median <<<"${SCPU[$name]}")
    delta="—"; [ -n "$base" ] && delta=$(awk -v a="$own" -v b="$base" 'BEGIN { printf "%+.0f", a - b }')
    echo "| $name | $(median <<<"${SRPS[$name]}") | $own | $delta | $(median <<<"${SALL[$name]}") | ${SERR[$name]} | ${SCPU[$name]}|"
  done
  echo
  [ -n "$PROFILES" ] && { echo "## CPU profiles under the mix (exclusive shares; bench/profile/cpu.py)"; echo; echo "$PROFILES"; }
} > "$REPORT"
cat "$REPORT"
moviedb_log "written to $REPORT"
if [ -n "${BASELINE_NAME:-}" ]; then
  # The baseline's processes stop with the others when run.sh exits; its checkout goes now.
  git worktree remove --force "$STATE/baseline" >/dev/null 2>&1 || true
fi
