# shellcheck shell=bash
# Shared helpers for scripts/test.sh, scripts/run-local.sh and bench/run.sh: install, start,
# check and stop the MariaDB, RabbitMQ and Redis servers MovieDb needs when no containers are
# available, and install the SMTP server (aiosmtpd) that stands in for MailPit.
# Source it; do not run it. Every function prints what it does on stderr and returns non-zero
# with a clear message on failure.

MOVIEDB_SERVER_WAIT_SECONDS="${MOVIEDB_SERVER_WAIT_SECONDS:-90}"
MOVIEDB_STARTED_MARIADB=0
MOVIEDB_STARTED_RABBITMQ=0
MOVIEDB_STARTED_REDIS=0
MOVIEDB_REDIS_PORT="${MOVIEDB_REDIS_PORT:-6379}"

moviedb_log() { printf '[moviedb] %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through passwordless sudo.
moviedb_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    moviedb_log "needs root (or passwordless sudo) to run: $*"
    return 1
  fi
}

moviedb_have_mariadb() { command -v mysqld_safe >/dev/null 2>&1 && command -v mysqladmin >/dev/null 2>&1; }
moviedb_have_rabbitmq() { command -v rabbitmq-server >/dev/null 2>&1 && command -v rabbitmqctl >/dev/null 2>&1; }
moviedb_have_redis() { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; }

# Installs the apt packages named in "$@" that are missing; runs apt-get update at most once.
moviedb_apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    moviedb_log "apt-get not found: this is not a Debian-like machine. Install these yourself and run again: $*"
    return 1
  fi
  if [ "${MOVIEDB_APT_UPDATED:-0}" != 1 ]; then
    moviedb_log "apt-get update"
    moviedb_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    MOVIEDB_APT_UPDATED=1
  fi
  moviedb_log "apt-get install $*"
  moviedb_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || return 1
}

moviedb_install_servers() {
  local missing=()
  moviedb_have_mariadb || missing+=(mariadb-server mariadb-client)
  moviedb_have_rabbitmq || missing+=(rabbitmq-server)
  moviedb_have_redis || missing+=(redis-server)
  if [ "${#missing[@]}" -gt 0 ]; then
    moviedb_apt_install "${missing[@]}" || {
      moviedb_log "could not install ${missing[*]}: MovieDb needs MariaDB 10.6+ (or MySQL 8), RabbitMQ 3.10+ and Redis 6+"
      return 1
    }
  fi
}

# The one readiness poll of the scripts: runs "$@" every MOVIEDB_WAIT_INTERVAL seconds (default 0.5)
# until it succeeds; gives up after MOVIEDB_SERVER_WAIT_SECONDS (default 90), saying what it waited for.
# Usage: moviedb_wait_for WHAT COMMAND [ARGUMENTS...]
moviedb_wait_for() {
  local what="$1"; shift
  local deadline=$((SECONDS + MOVIEDB_SERVER_WAIT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      moviedb_log "$what was not ready after ${MOVIEDB_SERVER_WAIT_SECONDS}s (checked with: $*)"
      return 1
    fi
    sleep "${MOVIEDB_WAIT_INTERVAL:-0.5}"
  done
}

# Readiness checks for moviedb_wait_for: something listens on 127.0.0.1:PORT; GET PATH answers 200.
moviedb_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
moviedb_http_ok() { [ "$(moviedb_http_status "$1" "$2")" = 200 ]; }

moviedb_mariadb_ready() { moviedb_as_root mysqladmin --protocol=socket ping >/dev/null 2>&1; }
moviedb_rabbitmq_ready() { moviedb_as_root rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; }

moviedb_start_mariadb() {
  if moviedb_mariadb_ready; then
    moviedb_log "MariaDB is already running: leaving it alone"
    return 0
  fi
  moviedb_log "starting MariaDB (mysqld_safe, no systemd)"
  moviedb_as_root mkdir -p /run/mysqld && moviedb_as_root chown mysql:mysql /run/mysqld || return 1
  moviedb_as_root sh -c 'nohup mysqld_safe >/var/log/mysqld_safe.moviedb.log 2>&1 &' || return 1
  MOVIEDB_STARTED_MARIADB=1
  moviedb_wait_for "MariaDB" moviedb_mariadb_ready || {
    moviedb_log "MariaDB did not start; see /var/log/mysqld_safe.moviedb.log and /var/log/mysql/"
    return 1
  }
  moviedb_log "MariaDB is ready"
}

# The management plugin serves the HTTP API the tests use to create one virtual host per test.
# The node runs as the rabbitmq user and must be able to read the plugins file root writes.
moviedb_enable_management() {
  if ! moviedb_as_root rabbitmq-plugins -q list -e -m 2>/dev/null | grep -qx rabbitmq_management; then
    moviedb_as_root rabbitmq-plugins -q "$@" enable rabbitmq_management >/dev/null || return 1
  fi
  moviedb_as_root chmod a+r /etc/rabbitmq/enabled_plugins 2>/dev/null || true
}

moviedb_start_rabbitmq() {
  if moviedb_rabbitmq_ready; then
    moviedb_log "RabbitMQ is already running: leaving it alone"
    moviedb_enable_management >/dev/null 2>&1 || true
    return 0
  fi
  moviedb_log "starting RabbitMQ (rabbitmq-server -detached, no systemd)"
  moviedb_enable_management --offline || return 1
  moviedb_as_root rabbitmq-server -detached >/dev/null 2>&1 || return 1
  MOVIEDB_STARTED_RABBITMQ=1
  moviedb_wait_for "RabbitMQ" moviedb_rabbitmq_ready || {
    moviedb_log "RabbitMQ did not start; see /var/log/rabbitmq/"
    return 1
  }
  moviedb_log "RabbitMQ is ready"
}

moviedb_redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$MOVIEDB_REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# Redis on 127.0.0.1:$MOVIEDB_REDIS_PORT (default 6379), the services' cache and coordination store
# (rate limits, the sign-in throttle, the web app's keys and sessions). Started without systemd, its
# data snapshotted into $MOVIEDB_REDIS_DIR when set (a restart keeps the web app's keys: nobody is
# signed out), or not saved at all.
moviedb_start_redis() {
  local directory="${MOVIEDB_REDIS_DIR:-}" persistence
  if moviedb_redis_ready; then
    moviedb_log "Redis is already running on port $MOVIEDB_REDIS_PORT: leaving it alone"
    return 0
  fi
  if [ -n "$directory" ]; then
    mkdir -p "$directory" || return 1
    persistence=(--dir "$directory" --save "60 1" --appendonly no)
  else
    persistence=(--dir "${TMPDIR:-/tmp}" --save "" --appendonly no)
  fi
  moviedb_log "starting Redis on port $MOVIEDB_REDIS_PORT (redis-server --daemonize yes, no systemd)"
  redis-server --port "$MOVIEDB_REDIS_PORT" --bind 127.0.0.1 --protected-mode yes "${persistence[@]}" \
    --daemonize yes --logfile "${TMPDIR:-/tmp}/redis-moviedb-$MOVIEDB_REDIS_PORT.log" >/dev/null || return 1
  MOVIEDB_STARTED_REDIS=1
  moviedb_wait_for "Redis" moviedb_redis_ready || {
    moviedb_log "Redis did not start; see ${TMPDIR:-/tmp}/redis-moviedb-$MOVIEDB_REDIS_PORT.log"
    return 1
  }
  moviedb_log "Redis is ready"
}

# The browser the web app's end-to-end tests drive (through Playwright, which is told its path: it
# downloads no browser of its own). Missing and not installable → those tests skip, saying why.
moviedb_install_chromium() {
  if [ -x "${MOVIEDB_TEST_CHROMIUM:-/usr/bin/chromium}" ]; then
    return 0
  fi
  moviedb_apt_install chromium || {
    moviedb_log "could not install chromium: the browser tests will be skipped"
    return 1
  }
}

# The linter of the scripts, for the test that runs it. Missing and not installable → that test skips.
moviedb_install_shellcheck() {
  command -v shellcheck >/dev/null 2>&1 && return 0
  moviedb_apt_install shellcheck || {
    moviedb_log "could not install shellcheck: the test of the scripts will be skipped"
    return 1
  }
}

# The SMTP server for run-local and the tests: Debian's python3-aiosmtpd, run by Debian's own Python
# (the python3 first on PATH may be another interpreter, which does not see apt's packages).
MOVIEDB_SMTP_PYTHON="${MOVIEDB_SMTP_PYTHON:-/usr/bin/python3}"
moviedb_have_aiosmtpd() { "$MOVIEDB_SMTP_PYTHON" -c 'import aiosmtpd' >/dev/null 2>&1; }

moviedb_install_aiosmtpd() {
  moviedb_have_aiosmtpd && return 0
  if ! moviedb_apt_install python3-aiosmtpd || ! moviedb_have_aiosmtpd; then
    moviedb_log "could not install python3-aiosmtpd (an SMTP server that stores mails as files)"
    return 1
  fi
}

# Installs and starts MariaDB, RabbitMQ and Redis (see moviedb_start_redis for MOVIEDB_REDIS_DIR).
moviedb_start_servers() {
  moviedb_install_servers && moviedb_start_mariadb && moviedb_start_rabbitmq && moviedb_start_redis
}

# Stops the servers this shell started; leaves alone the ones it found running.
moviedb_stop_started_servers() {
  if [ "$MOVIEDB_STARTED_REDIS" = 1 ]; then
    moviedb_log "stopping Redis (started by this script)"
    # SHUTDOWN saves first when the server was started with a snapshot directory.
    redis-cli -h 127.0.0.1 -p "$MOVIEDB_REDIS_PORT" shutdown >/dev/null 2>&1 || true
    MOVIEDB_STARTED_REDIS=0
  fi
  if [ "$MOVIEDB_STARTED_RABBITMQ" = 1 ]; then
    moviedb_log "stopping RabbitMQ (started by this script)"
    moviedb_as_root rabbitmqctl -q stop >/dev/null 2>&1 || true
    MOVIEDB_STARTED_RABBITMQ=0
  fi
  if [ "$MOVIEDB_STARTED_MARIADB" = 1 ]; then
    moviedb_log "stopping MariaDB (started by this script)"
    moviedb_as_root mysqladmin --protocol=socket shutdown >/dev/null 2>&1 || true
    MOVIEDB_STARTED_MARIADB=0
  fi
}

moviedb_random_secret() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32; }

# True for the only names the scripts put into SQL or hand to rabbitmqctl as account names:
# 1 to 32 letters, digits and '_'. Anything else is refused, never quoted into a statement.
moviedb_valid_name() { [[ "$1" =~ ^[A-Za-z0-9_]{1,32}$ ]]; }

moviedb_require_name() {
  moviedb_valid_name "$2" || { moviedb_log "$1 '$2' is not allowed: use 1 to 32 letters, digits and '_'"; return 1; }
}

# Runs the SQL on standard input as MariaDB's root, over the local socket: no password needed, and
# nothing of the statements appears on a command line.
moviedb_mysql() { moviedb_as_root mysql --protocol=socket --batch --skip-column-names; }

# Creates the database NAME (utf8mb4) when it does not exist. Usage: moviedb_mariadb_database NAME
moviedb_mariadb_database() {
  moviedb_require_name "the database name" "$1" || return 1
  moviedb_mysql <<<"CREATE DATABASE IF NOT EXISTS \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
}

# Creates a MariaDB account (or resets its password and rights), reachable from this machine over
# TCP and the socket, with every right on DATABASE and none elsewhere — or, with '*', on every
# database (the tests' account, which creates a database per test). No GRANT OPTION either way.
# The password reaches the server hex-encoded on standard input and is quoted there by QUOTE().
# Usage: moviedb_mariadb_account NAME PASSWORD DATABASE|'*'
moviedb_mariadb_account() {
  local name="$1" password="$2" database="$3" scope hex host statement sql=""
  moviedb_require_name "the MariaDB account" "$name" || return 1
  [ -n "$password" ] || { moviedb_log "the MariaDB account $name needs a password"; return 1; }
  if [ "$database" = '*' ]; then
    scope='*.*'
  else
    moviedb_require_name "the database name" "$database" || return 1
    # In GRANT, '_' in a database name is a wildcard: escaped, it means only this database.
    scope="\`${database//_/\\_}\`.*"
  fi
  hex="$(printf '%s' "$password" | od -An -v -tx1 | tr -d ' \n')"
  sql="SET @password = CONVERT(X'$hex' USING utf8mb4);"
  for host in localhost 127.0.0.1; do
    for statement in "CREATE USER IF NOT EXISTS" "ALTER USER"; do
      sql+="
        SET @statement = CONCAT('$statement ''$name''@''$host'' IDENTIFIED BY ', QUOTE(@password));
        PREPARE statement FROM @statement; EXECUTE statement; DEALLOCATE PREPARE statement;"
    done
    sql+="
      REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$name'@'$host';
      GRANT ALL PRIVILEGES ON $scope TO '$name'@'$host';"
  done
  moviedb_mysql <<<"$sql"
}

# Creates a RabbitMQ user (or resets its password), with rights on VHOST (created when missing) and
# on no other, and TAG as its only tag: none by default; 'management' lets it use the management UI
# for its own virtual host; 'administrator' is for the tests' account, which creates a virtual host
# per test through the management API. The password goes to rabbitmqctl on standard input.
# Usage: moviedb_rabbitmq_account NAME PASSWORD VHOST [TAG]
moviedb_rabbitmq_account() {
  local name="$1" password="$2" vhost="$3" tag="${4:-}" other
  moviedb_require_name "the RabbitMQ user" "$name" || return 1
  [ -n "$password" ] || { moviedb_log "the RabbitMQ user $name needs a password"; return 1; }
  if moviedb_as_root rabbitmqctl -q list_users --no-table-headers 2>/dev/null | awk '{print $1}' | grep -qxF "$name"; then
    printf '%s\n' "$password" | moviedb_as_root rabbitmqctl -q change_password "$name" >/dev/null || return 1
  else
    printf '%s\n' "$password" | moviedb_as_root rabbitmqctl -q add_user "$name" >/dev/null || return 1
  fi
  # shellcheck disable=SC2086 # no tag: no argument
  moviedb_as_root rabbitmqctl -q set_user_tags "$name" $tag >/dev/null || return 1
  if ! moviedb_as_root rabbitmqctl -q list_vhosts --no-table-headers 2>/dev/null | grep -qxF -- "$vhost"; then
    moviedb_as_root rabbitmqctl -q add_vhost "$vhost" >/dev/null || return 1
  fi
  moviedb_as_root rabbitmqctl -q set_permissions -p "$vhost" "$name" '.*' '.*' '.*' >/dev/null || return 1
  # Rights an earlier version of the scripts gave on other virtual hosts go (an administrator could
  # give them back to itself: left alone).
  [ "$tag" = administrator ] && return 0
  moviedb_as_root rabbitmqctl -q list_user_permissions --no-table-headers "$name" 2>/dev/null | cut -f1 | while IFS= read -r other; do
    [ "$other" = "$vhost" ] || moviedb_as_root rabbitmqctl -q clear_permissions -p "$other" "$name" >/dev/null || exit 1
  done
}

# Prints the HTTP status of GET http://127.0.0.1:PORT/PATH, or 000 when nothing answers.
# Plain bash (/dev/tcp): no curl needed on a bare machine. Usage: moviedb_http_status PORT PATH
moviedb_http_status() {
  local port="$1" path="$2" line status
  line="$( (exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
    timeout 5 head -n 1 <&3) 2>/dev/null)" || { echo 000; return; }
  read -r _ status _ <<<"$line"
  echo "${status:-000}"
}

# Percent-encodes a string for a URI path segment (e.g. a RabbitMQ virtual host): every byte of its
# UTF-8 form but the unreserved characters of RFC 3986 (letters, digits, '-', '.', '_', '~').
moviedb_uri_escape() {
  local hex output=""
  for hex in $(printf '%s' "$1" | LC_ALL=C od -An -v -tx1); do
    case "$hex" in
      3[0-9] | 4[1-9a-f] | 5[0-9a] | 6[1-9a-f] | 7[0-9a] | 2d | 2e | 5f | 7e) output+="$(printf '%b' "\\x$hex")" ;;
      *) output+="%${hex^^}" ;;
    esac
  done
  printf '%s\n' "$output"
}
