#!/usr/bin/env bash
# Runs MovieDb without containers: the no-Docker twin of `dotnet run --project MovieDb.AppHost`.
# Installs MariaDB, RabbitMQ and an SMTP server (python3-aiosmtpd, in place of MailPit) from apt
# when missing, starts them, creates the database and the accounts, builds the services once, starts
# them as processes with the same configuration keys the AppHost injects (the user store on LiteDB) —
# the four services and the web app — waits until each /health is ready and prints where everything
# is, the web app first, and where activation mails land. Ctrl-C stops what it started. State (logs,
# LiteDB file, mails, generated secrets, the web app's Data Protection keys) lives in .moviedb/ and is
# reused by the next run.
#
# Knobs (environment variables), all optional:
#   MOVIEDB_STATE_DIR                state folder (default: .moviedb in the repository)
#   MOVIEDB_WEBAPP_PORT              web app port, also in the activation links of the mails (default 5090)
#   MOVIEDB_GATEWAY_PORT             gateway port (default 5080); movie service 5081, user service 5082:
#   MOVIEDB_MOVIESERVICE_PORT, MOVIEDB_USERSERVICE_PORT
#   MOVIEDB_NOTIFICATIONSERVICE_PORT notification service port (default 5083)
#   MOVIEDB_SMTP_PORT                the local SMTP server's port (default 2525)
#   MOVIEDB_DATABASE                 MariaDB database (default moviedb)
#   MOVIEDB_VHOST                    RabbitMQ virtual host (default /)
#   MOVIEDB_ACCOUNT                  MariaDB and RabbitMQ account the services use (default moviedb)
#   MOVIEDB_CONFIGURATION            Release (default) or Debug
#   MOVIEDB_NO_BUILD=1               use what is already built
#   MOVIEDB_ENVIRONMENT              ASPNETCORE_ENVIRONMENT of the services (default Development: Scalar UI on)
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
SMTP_PORT="${MOVIEDB_SMTP_PORT:-2525}"
DATABASE="${MOVIEDB_DATABASE:-moviedb}"
VHOST="${MOVIEDB_VHOST:-/}"
ACCOUNT="${MOVIEDB_ACCOUNT:-moviedb}"
CONFIGURATION="${MOVIEDB_CONFIGURATION:-Release}"
ENVIRONMENT="${MOVIEDB_ENVIRONMENT:-Development}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

PIDS=()
stop_all() {
  trap - EXIT INT TERM
  if [ "${#PIDS[@]}" -gt 0 ]; then
    moviedb_log "stopping the services"
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "${PIDS[@]}" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "${PIDS[@]}" 2>/dev/null || true
  fi
  moviedb_stop_started_servers
  moviedb_log "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

fail() { moviedb_log "$1"; exit 1; }

command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK 10 is not installed: see https://dot.net"
for port in "$WEBAPP_PORT" "$GATEWAY_PORT" "$MOVIESERVICE_PORT" "$USERSERVICE_PORT" "$NOTIFICATIONSERVICE_PORT" "$SMTP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
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
# Added after the first version of this file: a state folder from then gets it now.
if ! grep -q '^GATEWAY_IDENTITY_KEY=' "$SECRETS"; then
  (umask 077; echo "GATEWAY_IDENTITY_KEY=$(moviedb_random_secret)$(moviedb_random_secret)" >> "$SECRETS")
fi
# shellcheck disable=SC1090
source "$SECRETS"
ADMIN_PASSWORD="${MOVIEDB_ADMIN_PASSWORD:-$ADMIN_PASSWORD}"
JWT_SIGNING_KEY="${MOVIEDB_JWT_SIGNING_KEY:-$JWT_SIGNING_KEY}"

moviedb_start_servers || fail "MariaDB and RabbitMQ could not be started (see above)"
moviedb_install_aiosmtpd || fail "the local SMTP server (python3-aiosmtpd) could not be installed (see above)"
# Least privilege: the account has every right on its database and none elsewhere, and the broker
# user rights on its virtual host only, without a tag (no management UI, no administration).
moviedb_mariadb_database "$DATABASE" || fail "could not create the database $DATABASE"
moviedb_mariadb_account "$ACCOUNT" "$DB_PASSWORD" "$DATABASE" || fail "could not create the MariaDB account"
moviedb_rabbitmq_account "$ACCOUNT" "$BROKER_PASSWORD" "$VHOST" || fail "could not create the RabbitMQ account"

if [ "${MOVIEDB_NO_BUILD:-0}" != 1 ]; then
  moviedb_log "building the services ($CONFIGURATION)"
  for project in MovieService UserService Gateway NotificationService WebApp; do
    if ! dotnet build "$project/$project.csproj" -c "$CONFIGURATION" -nologo >"$STATE/logs/build-$project.log" 2>&1; then
      grep -E 'error|warning' "$STATE/logs/build-$project.log" | sort -u | head -n 20 >&2
      fail "build of $project failed (full log: $STATE/logs/build-$project.log)"
    fi
  done
fi

# The same keys the AppHost injects (ConnectionStrings__*, services__*, Jwt__SigningKey,
# GatewayIdentity__SigningKey, Admin__Password).
VHOST_PATH=""
[ "$VHOST" = "/" ] || VHOST_PATH="$(moviedb_uri_escape "$VHOST")"
export ConnectionStrings__messaging="amqp://$ACCOUNT:$BROKER_PASSWORD@127.0.0.1:5672/$VHOST_PATH"
export ASPNETCORE_ENVIRONMENT="$ENVIRONMENT"
export Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__SingleLine=true

start_service() {
  local project="$1" port="$2"; shift 2
  local dll="$ROOT/$project/bin/$CONFIGURATION/net10.0/$project.dll"
  [ -f "$dll" ] || fail "$dll is missing: build first (or drop MOVIEDB_NO_BUILD)"
  (cd "$(dirname "$dll")" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" "$@" dotnet "$dll") \
    >"$STATE/logs/$project.log" 2>&1 &
  PIDS+=($!)
  moviedb_log "started $project (pid $!, http://127.0.0.1:$port, log $STATE/logs/$project.log)"
}

wait_healthy() {
  local project="$1" port="$2"
  if ! moviedb_wait_for "$project" moviedb_http_ok "$port" /health; then
    tail -n 30 "$STATE/logs/$project.log" >&2
    fail "$project did not become healthy (log above)"
  fi
  moviedb_log "$project is healthy"
}

# The SMTP server MailPit stands for under the AppHost: every mail becomes a file in $MAIL/new
# (a Maildir; its three folders must exist, or it answers 500).
MAIL="$STATE/mail"
mkdir -p "$MAIL/tmp" "$MAIL/new" "$MAIL/cur"
"$MOVIEDB_SMTP_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAIL" \
  >"$STATE/logs/smtp.log" 2>&1 &
PIDS+=($!)
moviedb_log "started the SMTP server (pid $!, smtp://127.0.0.1:$SMTP_PORT, mails in $MAIL/new)"
moviedb_wait_for "the SMTP server" moviedb_port_open "$SMTP_PORT" || fail "the SMTP server did not start (log: $STATE/logs/smtp.log)"

start_service MovieService "$MOVIESERVICE_PORT" \
  ConnectionStrings__moviedb="Server=127.0.0.1;Port=3306;User ID=$ACCOUNT;Password=$DB_PASSWORD;Database=$DATABASE" \
  GatewayIdentity__SigningKey="$GATEWAY_IDENTITY_KEY"
start_service UserService "$USERSERVICE_PORT" \
  ConnectionStrings__userdb="Filename=$STATE/users.db" \
  Admin__Password="$ADMIN_PASSWORD"
# The web app calls from 127.0.0.1 and forwards each browser's address in X-Forwarded-For; the
# gateway believes that header only from the proxies listed here.
start_service Gateway "$GATEWAY_PORT" \
  services__movieservice__http__0="http://127.0.0.1:$MOVIESERVICE_PORT" \
  Jwt__SigningKey="$JWT_SIGNING_KEY" \
  GatewayIdentity__SigningKey="$GATEWAY_IDENTITY_KEY" \
  ForwardedHeaders__KnownProxies__0=127.0.0.1
# The links in the mails open the web UI's activation page.
start_service NotificationService "$NOTIFICATIONSERVICE_PORT" \
  ConnectionStrings__mail="smtp://127.0.0.1:$SMTP_PORT" \
  Notifications__ActivationUrl="http://localhost:$WEBAPP_PORT/activate?token={token}" \
  Notifications__SentMailStore="Filename=$STATE/sent-mail.db"
# Its Data Protection keys (they encrypt the session cookie) stay in the state folder: a restart
# does not sign anyone out.
start_service WebApp "$WEBAPP_PORT" \
  services__gateway__http__0="http://127.0.0.1:$GATEWAY_PORT" \
  DataProtection__KeysDirectory="$STATE/webapp-keys"

# For tools that watch the services (bench/run.sh samples their memory). PIDS[0] is the SMTP server.
printf 'MovieService %s\nUserService %s\nGateway %s\nNotificationService %s\nWebApp %s\n' "${PIDS[1]}" "${PIDS[2]}" "${PIDS[3]}" "${PIDS[4]}" "${PIDS[5]}" > "$STATE/pids"

wait_healthy MovieService "$MOVIESERVICE_PORT"
wait_healthy UserService "$USERSERVICE_PORT"
wait_healthy Gateway "$GATEWAY_PORT"
wait_healthy NotificationService "$NOTIFICATIONSERVICE_PORT"
wait_healthy WebApp "$WEBAPP_PORT"

cat <<INFO

  MovieDb is running.
    Web app:   http://localhost:$WEBAPP_PORT   (open it in a browser)
    Gateway:   http://localhost:$GATEWAY_PORT   (the API; try Gateway/Gateway.http)
    API docs:  http://localhost:$GATEWAY_PORT/scalar   (Development only; OpenAPI at /openapi/v1.json)
    Admin:     user "admin", password "$ADMIN_PASSWORD"
    Mail:      activation mails land in $MAIL/new/ (one file per mail). A new account signs in
               once activated: open the link in its mail (the web UI, http://localhost:$WEBAPP_PORT),
               or POST its token to http://localhost:$GATEWAY_PORT/api/auth/activate
    Logs:      $STATE/logs/
    RabbitMQ:  http://localhost:15672   (user "$ACCOUNT", password in $SECRETS)
  Ctrl-C stops it.

INFO

# Stays up while the services do; if one dies, say so and stop the rest.
while true; do
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      moviedb_log "a service (pid $pid) exited; see $STATE/logs/"
      exit 1
    fi
  done
  sleep 1
done
