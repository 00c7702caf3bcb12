#!/usr/bin/env bash
# Runs MovieDb without containers: the AppHost in its existing-servers mode, on this machine's own
# servers. Installs MariaDB, RabbitMQ, Redis and an SMTP server (python3-aiosmtpd, in place of
# MailPit) from apt when missing, starts them, creates the database and least-privilege accounts, builds the AppHost
# (and with it the services), and runs it: DCP starts the four services and the web app, the Aspire
# dashboard shows them (resources, console and structured logs, traces, metrics). Waits until each
# service is healthy and prints where everything is — the web app first, then the dashboard — and
# where activation mails land. Ctrl-C stops everything it started. State (the AppHost's log, the
# LiteDB user store, mails, generated secrets) lives in .moviedb/ and is reused by the next run.
#
# Knobs (environment variables), all optional:
#   MOVIEDB_STATE_DIR                state folder (default: .moviedb in the repository)
#   MOVIEDB_WEBAPP_PORT              web app port, also in the activation links of the mails (default 5090)
#   MOVIEDB_GATEWAY_PORT             gateway port (default 5080); movie service 5081, user service 5082:
#   MOVIEDB_MOVIESERVICE_PORT, MOVIEDB_USERSERVICE_PORT
#   MOVIEDB_NOTIFICATIONSERVICE_PORT notification service port (default 5083)
#   MOVIEDB_DASHBOARD_PORT           the Aspire dashboard (default 15180); it receives telemetry on
#   MOVIEDB_OTLP_PORT, MOVIEDB_RESOURCE_SERVICE_PORT   19180 and serves the AppHost's resources on 20180
#   MOVIEDB_SMTP_PORT                the local SMTP server's port (default 2525)
#   MOVIEDB_REDIS_PORT               Redis's port (default 6379; started with its data in the state folder)
#   MOVIEDB_DATABASE                 MariaDB database (default moviedb)
#   MOVIEDB_VHOST                    RabbitMQ virtual host (default /)
#   MOVIEDB_ACCOUNT                  MariaDB and RabbitMQ account the services use (default moviedb)
#   MOVIEDB_CONFIGURATION            Release (default) or Debug
#   MOVIEDB_NO_BUILD=1               use what is already built
#   MOVIEDB_ADMIN_PASSWORD, MOVIEDB_JWT_SIGNING_KEY   instead of the generated ones
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT="$(pwd)"
# shellcheck source=lib/servers.sh
source scripts/lib/servers.sh

STATE="${MOVIEDB_STATE_DIR:-$ROOT/.moviedb}"
WEBAPP_PORT="${MOVIEDB_WEBAPP_PORT:-5090}"
GATEWAY_PORT="${MOVIEDB_GATEWAY_PORT:-5080}"
MOVIESERVICE_PORT="${MOVIEDB_MOVIESERVICE_PORT:-5081}"
USERSERVICE_PORT="${MOVIEDB_USERSERVICE_PORT:-5082}"
NOTIFICATIONSERVICE_PORT="${MOVIEDB_NOTIFICATIONSERVICE_PORT:-5083}"
DASHBOARD_PORT="${MOVIEDB_DASHBOARD_PORT:-15180}"
OTLP_PORT="${MOVIEDB_OTLP_PORT:-19180}"
RESOURCE_SERVICE_PORT="${MOVIEDB_RESOURCE_SERVICE_PORT:-20180}"
SMTP_PORT="${MOVIEDB_SMTP_PORT:-2525}"
DATABASE="${MOVIEDB_DATABASE:-moviedb}"
VHOST="${MOVIEDB_VHOST:-/}"
ACCOUNT="${MOVIEDB_ACCOUNT:-moviedb}"
CONFIGURATION="${MOVIEDB_CONFIGURATION:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

PIDS=()
APPHOST_PID=""
stop_all() {
  trap - EXIT INT TERM
  # The AppHost stops DCP, which stops the services and the dashboard; it ignores SIGINT when it
  # runs in the background, so it gets SIGTERM.
  if [ -n "$APPHOST_PID" ] && kill -0 "$APPHOST_PID" 2>/dev/null; then
    moviedb_log "stopping the AppHost (the services and the dashboard stop with it)"
    # DCP outlives the AppHost by a few seconds while it stops the services: its API server watches
    # the AppHost's process, its controllers watch the API server. Wait for both.
    local dcp=() server
    for server in $(pgrep -f -- "--monitor $APPHOST_PID( |\$)"); do
      dcp+=("$server")
      mapfile -t -O "${#dcp[@]}" dcp < <(pgrep -f -- "run-controllers .*--monitor $server( |\$)")
    done
    kill -TERM "$APPHOST_PID" 2>/dev/null || true
    wait_gone 60 "$APPHOST_PID" || kill -KILL "$APPHOST_PID" 2>/dev/null || true
    if [ "${#dcp[@]}" -gt 0 ] && ! wait_gone 60 "${dcp[@]}"; then
      moviedb_log "DCP did not stop within 60 s: stopping it"
      kill -TERM "${dcp[@]}" 2>/dev/null || true
    fi
  fi
  if [ "${#PIDS[@]}" -gt 0 ]; then
    # Gone, not just told to go: "stopped" below must mean their ports are free.
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    wait_gone 10 "${PIDS[@]}" || kill -KILL "${PIDS[@]}" 2>/dev/null || true
  fi
  moviedb_stop_started_servers
  moviedb_log "stopped"
}
# True once none of the processes "$@" (after the time-out in seconds, $1) runs any more.
wait_gone() {
  local seconds="$1"; shift
  for _ in $(seq 1 $((seconds * 10))); do
    ps -p "$(IFS=,; echo "$*")" >/dev/null 2>&1 || return 0
    sleep 0.1
  done
  return 1
}
trap stop_all EXIT
trap 'exit 130' INT TERM

fail() { moviedb_log "$1"; exit 1; }

# A JSON string literal of $1 (for the settings file; the generated values need no escaping, the
# knobs and paths might).
json_string() {
  local value="$1"
  value="${value//\\/\\\\}"
  value="${value//\"/\\\"}"
  printf '"%s"' "$value"
}

command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK 10 is not installed: see https://dot.net"
for port in "$WEBAPP_PORT" "$GATEWAY_PORT" "$MOVIESERVICE_PORT" "$USERSERVICE_PORT" "$NOTIFICATIONSERVICE_PORT" \
  "$DASHBOARD_PORT" "$OTLP_PORT" "$RESOURCE_SERVICE_PORT" "$SMTP_PORT"; do
  if moviedb_port_open "$port"; then
    fail "port $port is in use (is MovieDb already running?). Set MOVIEDB_*_PORT to use others."
  fi
done

mkdir -p "$STATE/logs"
chmod 700 "$STATE"

# Secrets: generated once and kept, so that a second run opens the first run's data with the same
# admin password and accepts the tokens it issued.
SECRETS="$STATE/secrets.env"
if [ ! -f "$SECRETS" ]; then
  (umask 077
  {
    echo "DB_PASSWORD=$(moviedb_random_secret)"
    echo "BROKER_PASSWORD=$(moviedb_random_secret)"
    echo "ADMIN_PASSWORD=$(moviedb_random_secret | head -c 20)"
    echo "JWT_SIGNING_KEY=$(moviedb_random_secret)$(moviedb_random_secret)"
  } > "$SECRETS")
fi
# Added after the first version of this file: a state folder from then gets them now.
for name in GATEWAY_IDENTITY_KEY MESSAGING_SIGNING_KEY EVENT_SIGNING_KEY; do
  if ! grep -q "^$name=" "$SECRETS"; then
    (umask 077; echo "$name=$(moviedb_random_secret)$(moviedb_random_secret)" >> "$SECRETS")
  fi
done
# shellcheck disable=SC1090
source "$SECRETS"
ADMIN_PASSWORD="${MOVIEDB_ADMIN_PASSWORD:-$ADMIN_PASSWORD}"
JWT_SIGNING_KEY="${MOVIEDB_JWT_SIGNING_KEY:-$JWT_SIGNING_KEY}"

MOVIEDB_REDIS_DIR="$STATE/redis" moviedb_start_servers || fail "MariaDB, RabbitMQ and Redis could not be started (see above)"
moviedb_install_aiosmtpd || fail "the local SMTP server (python3-aiosmtpd) could not be installed (see above)"
# Least privilege: the account has every right on its database and none elsewhere, and the broker
# user rights on its virtual host only, without a tag (no management UI, no administration).
moviedb_mariadb_database "$DATABASE" || fail "could not create the database $DATABASE"
moviedb_mariadb_account "$ACCOUNT" "$DB_PASSWORD" "$DATABASE" || fail "could not create the MariaDB account"
moviedb_rabbitmq_account "$ACCOUNT" "$BROKER_PASSWORD" "$VHOST" || fail "could not create the RabbitMQ account"

APPHOST_DLL="$ROOT/MovieDb.AppHost/bin/$CONFIGURATION/net10.0/MovieDb.AppHost.dll"
if [ "${MOVIEDB_NO_BUILD:-0}" != 1 ]; then
  # The AppHost's build builds every project it runs; DCP starts them without building again.
  moviedb_log "building the AppHost and the services ($CONFIGURATION)"
  if ! dotnet build MovieDb.AppHost/MovieDb.AppHost.csproj -c "$CONFIGURATION" -nologo >"$STATE/logs/build.log" 2>&1; then
    grep -E 'error|warning' "$STATE/logs/build.log" | sort -u | head -n 20 >&2
    fail "the build failed (full log: $STATE/logs/build.log)"
  fi
fi
[ -f "$APPHOST_DLL" ] || fail "$APPHOST_DLL is missing: build first (or drop MOVIEDB_NO_BUILD)"

# The SMTP server MailPit stands for under Docker: every mail becomes a file in $MAIL/new (a Maildir;
# its three folders must exist, or it answers 500).
MAIL="$STATE/mail"
mkdir -p "$MAIL/tmp" "$MAIL/new" "$MAIL/cur"
"$MOVIEDB_SMTP_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAIL" \
  >"$STATE/logs/smtp.log" 2>&1 &
PIDS+=($!)
moviedb_log "started the SMTP server (pid $!, smtp://127.0.0.1:$SMTP_PORT, mails in $MAIL/new)"
moviedb_wait_for "the SMTP server" moviedb_port_open "$SMTP_PORT" || fail "the SMTP server did not start (log: $STATE/logs/smtp.log)"

# What the AppHost needs in existing-servers mode, in a file only it reads (its environment reaches
# every project it starts): the four servers' connection strings — the user store an embedded LiteDB
# file —, the secrets, and the ports.
VHOST_PATH=""
[ "$VHOST" = "/" ] || VHOST_PATH="$(moviedb_uri_escape "$VHOST")"
SETTINGS="$STATE/apphost.settings.json"
(umask 077
cat > "$SETTINGS" <<JSON
{
  "MovieDb": {
    "Servers": "existing",
    "Ports": {
      "webapp": $WEBAPP_PORT, "gateway": $GATEWAY_PORT, "movieservice": $MOVIESERVICE_PORT,
      "userservice": $USERSERVICE_PORT, "notificationservice": $NOTIFICATIONSERVICE_PORT
    }
  },
  "ConnectionStrings": {
    "moviedb": $(json_string "Server=127.0.0.1;Port=3306;User ID=$ACCOUNT;Password=$DB_PASSWORD;Database=$DATABASE"),
    "userdb": $(json_string "Filename=$STATE/users.db"),
    "messaging": $(json_string "amqp://$ACCOUNT:$BROKER_PASSWORD@127.0.0.1:5672/$VHOST_PATH"),
    "mail": $(json_string "smtp://127.0.0.1:$SMTP_PORT"),
    "cache": $(json_string "127.0.0.1:$MOVIEDB_REDIS_PORT")
  },
  "Parameters": {
    "admin-password": $(json_string "$ADMIN_PASSWORD"),
    "jwt-signing-key": $(json_string "$JWT_SIGNING_KEY"),
    "gateway-identity-key": $(json_string "$GATEWAY_IDENTITY_KEY"),
    "messaging-signing-key": $(json_string "$MESSAGING_SIGNING_KEY"),
    "event-signing-key": $(json_string "$EVENT_SIGNING_KEY")
  }
}
JSON
)

APPHOST_LOG="$STATE/logs/apphost.log"
moviedb_log "starting the AppHost (log: $APPHOST_LOG)"
(cd "$ROOT/MovieDb.AppHost" && exec env \
  DOTNET_ENVIRONMENT=Development \
  ASPNETCORE_URLS="http://localhost:$DASHBOARD_PORT" \
  ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="http://localhost:$OTLP_PORT" \
  ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://localhost:$RESOURCE_SERVICE_PORT" \
  ASPIRE_ALLOW_UNSECURED_TRANSPORT=true \
  MovieDb__SettingsFile="$SETTINGS" \
  dotnet "$APPHOST_DLL") >"$APPHOST_LOG" 2>&1 &
APPHOST_PID=$!

wait_healthy() {
  local name="$1" port="$2"
  if ! moviedb_wait_for "$name" apphost_and_service_up "$port"; then
    kill -0 "$APPHOST_PID" 2>/dev/null || { tail -n 30 "$APPHOST_LOG" >&2; fail "the AppHost exited (log above)"; }
    fail "$name did not become healthy: see its console log on the dashboard"
  fi
  moviedb_log "$name is healthy"
}
apphost_and_service_up() { kill -0 "$APPHOST_PID" 2>/dev/null && moviedb_http_ok "$1" /health; }

# DCP starts five services at once: on a busy 2-core machine that takes a while.
MOVIEDB_SERVER_WAIT_SECONDS="${MOVIEDB_SERVICE_WAIT_SECONDS:-300}"
wait_healthy MovieService "$MOVIESERVICE_PORT"
wait_healthy UserService "$USERSERVICE_PORT"
wait_healthy Gateway "$GATEWAY_PORT"
wait_healthy NotificationService "$NOTIFICATIONSERVICE_PORT"
wait_healthy WebApp "$WEBAPP_PORT"

# The AppHost makes a new dashboard token on every start and logs the login URL.
DASHBOARD_LOGIN="$(grep -o 'Login to the dashboard at [^[:space:]]*' "$APPHOST_LOG" | head -n 1 | cut -d' ' -f6)"
[ -n "$DASHBOARD_LOGIN" ] || DASHBOARD_LOGIN="http://localhost:$DASHBOARD_PORT (the login link is in $APPHOST_LOG)"

cat <<INFO

  MovieDb is running.
    Web app:   http://localhost:$WEBAPP_PORT   (open it in a browser)
    Dashboard: $DASHBOARD_LOGIN
               (resources, console and structured logs, traces, metrics)
    Gateway:   http://localhost:$GATEWAY_PORT   (the API; try Gateway/Gateway.http)
    API docs:  http://localhost:$GATEWAY_PORT/scalar   (OpenAPI at /openapi/v1.json)
    Admin:     user "admin", password "$ADMIN_PASSWORD"
    Mail:      activation mails land in $MAIL/new/ (one file per mail). A new account signs in
               once activated: open the link in its mail (the web UI, http://localhost:$WEBAPP_PORT),
               or POST its token to http://localhost:$GATEWAY_PORT/api/auth/activate
    Logs:      the dashboard's console logs; the AppHost's own in $APPHOST_LOG
    RabbitMQ:  http://localhost:15672   (user "$ACCOUNT", password in $SECRETS)
  Ctrl-C stops it.

INFO

# Stays up while the AppHost does; if it exits, say so and stop the rest.
while true; do
  if ! kill -0 "$APPHOST_PID" 2>/dev/null; then
    moviedb_log "the AppHost exited; see $APPHOST_LOG"
    exit 1
  fi
  sleep 1
done
