#!/usr/bin/env bash
# Stops and starts the local MariaDB and RabbitMQ, for the fault tests (broker and database
# restarts) and for operators. Usage: scripts/serverctl.sh stop|start|restart mariadb|rabbitmq
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/servers.sh
source scripts/lib/servers.sh

action="${1:?usage: serverctl.sh stop|start|restart mariadb|rabbitmq}"
server="${2:?usage: serverctl.sh stop|start|restart mariadb|rabbitmq}"

stop() {
  case "$server" in
    mariadb) moviedb_as_root mysqladmin --protocol=socket shutdown ;;
    # Stops the RabbitMQ application inside the running node: every connection drops at once,
    # as in a broker restart, and start_app brings it back in a second or two.
    rabbitmq) moviedb_as_root rabbitmqctl -q stop_app ;;
    *) echo "unknown server: $server" >&2; exit 2 ;;
  esac
}

start() {
  case "$server" in
    mariadb) moviedb_start_mariadb ;;
    rabbitmq)
      moviedb_as_root rabbitmqctl -q start_app
      moviedb_wait_for "RabbitMQ" moviedb_rabbitmq_ready ;;
    *) echo "unknown server: $server" >&2; exit 2 ;;
  esac
}

case "$action" in
  stop) stop ;;
  start) start ;;
  restart) stop; start ;;
  *) echo "unknown action: $action" >&2; exit 2 ;;
esac
