#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers at AMQP_URI's host and port (default localhost:5672):
# start the local rabbitmq-server when it is installed but not running, else say what to do.
set -euo pipefail
uri="${AMQP_URI:-amqp://guest:guest@localhost:5672/}"
hostport="${uri#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=5672

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if answers; then echo "RabbitMQ answers on $host:$port"; exit 0; fi
if [[ "$host" =~ ^(localhost|127\.0\.0\.1)$ ]] && command -v rabbitmq-server >/dev/null; then
  echo "Starting the local RabbitMQ (rabbitmq-server -detached)..."
  rabbitmq-server -detached
  for _ in $(seq 1 60); do answers && { echo "RabbitMQ is up on $host:$port"; exit 0; }; sleep 1; done
  echo "RabbitMQ did not come up within 60 s; see its logs (rabbitmq-diagnostics status)." >&2
  exit 1
fi
cat >&2 <<MSG
No RabbitMQ answers on $host:$port and none is installed here to start.
Start one, for example:
  docker run -d --name crm-rabbitmq -p 5672:5672 -p 15672:15672 rabbitmq:3.13-management
or install it (Debian/Ubuntu: apt-get install rabbitmq-server), or point AMQP_URI at a running broker.
MSG
exit 1
