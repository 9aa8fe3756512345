"""One RabbitMQ user per component, allowed only its own exchanges, queues and calls.

With one shared broker user, a leaked service credential could publish any event and call any
service as anyone. Each component instead gets a user whose permissions follow from the code:

- configure/write/read on its own queues only (``rpc-<name>``, its handler queues, its RPC
  reply queues) and on the exchanges it publishes to or binds from;
- write on an event exchange only for its own events (``<name>.events``) and the dead-letter
  exchange; read only on the event exchanges it consumes;
- on ``nameko-rpc`` (a topic exchange), topic permissions: it may publish replies (routing
  key: a caller's reply id) and requests only to the services it calls (``customers.*`` for
  sales; ``customers.*`` and ``sales.*`` for reports; every service for the gateway);
  customers and notifications call no one.

Setup (migrations, topology, announce) keeps an administrator's credential. Print the
``rabbitmqctl`` commands that create the users, run them where ``rabbitmqctl`` reaches the
broker, and give each component its own ``AMQP_URI``:

    CRM_BROKER_PASSWORDS="customers=CHANGE_ME,sales=CHANGE_ME,..." python -m common.broker_users \
        | kubectl exec -i rabbitmq-0 -- sh
"""
from __future__ import annotations

import argparse
import inspect
import re
import shlex
import sys
from dataclasses import dataclass

from nameko.rpc import RpcProxy

from common import components, config
from common.events import exchange_name
from common.queues import DEAD_LETTER_EXCHANGE
from common.topology import GATEWAY_REPLY_QUEUE_PREFIX, RPC_EXCHANGE, handler_queues

GATEWAY = "gateway"
USER_PREFIX = "crm-"  # the broker user of component x is crm-x
# nameko's reply ids (the routing key of a reply) are UUIDs.
REPLY_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The reply queues of nameko's standalone proxy: those of the commands a component's
# operators run with its credential (services.reports.check and .rebuild).
STANDALONE_REPLY_QUEUES = "rpc\\.reply-standalone_rpc_proxy-.*"
GATEWAY_REPLY_QUEUES = re.escape(GATEWAY_REPLY_QUEUE_PREFIX) + ".*"
COMMAND_LINE_CALLERS = {"reports"}


@dataclass(frozen=True)
class Permissions:
    """What one component's broker user may do, as RabbitMQ's regular expressions."""

    configure: str
    write: str
    read: str
    rpc_write: str  # topic permission on nameko-rpc: routing keys it may publish
    rpc_read: str  # topic permission on nameko-rpc: routing keys it may bind

    def commands(self, user: str, vhost: str) -> list[list[str]]:
        """``rabbitmqctl`` argument lists that give ``user`` these permissions on ``vhost``."""
        return [
            ["set_permissions", "-p", vhost, user, self.configure, self.write, self.read],
            ["set_topic_permissions", "-p", vhost, user, RPC_EXCHANGE,
             self.rpc_write, self.rpc_read],
        ]


def _any_of(names) -> str:
    return "^(" + "|".join(sorted(set(names))) + ")$"


def _called_services(service_cls) -> set[str]:
    return {proxy.target_service for _, proxy in
            inspect.getmembers(service_cls, lambda value: isinstance(value, RpcProxy))}


def service_permissions(name: str, service_cls) -> Permissions:
    own_queues = [f"rpc-{name}", f"evt-.*--{re.escape(name)}\\..*",
                  f"rpc\\.reply-{re.escape(name)}-.*"]
    if name in COMMAND_LINE_CALLERS:
        own_queues.append(STANDALONE_REPLY_QUEUES)
    consumed = {queue.exchange.name for queue in handler_queues(service_cls)}
    published = {DEAD_LETTER_EXCHANGE, RPC_EXCHANGE}
    if name in components.event_sources():
        published.add(exchange_name(name))
    escaped = lambda names: [re.escape(n) for n in names]  # noqa: E731 - local shorthand
    calls = sorted(_called_services(service_cls))
    return Permissions(
        configure=_any_of(escaped(published | consumed) + own_queues),
        write=_any_of(escaped(published) + own_queues),
        read=_any_of(escaped(consumed | {RPC_EXCHANGE}) + own_queues),
        rpc_write=_any_of([REPLY_ID] + [f"{re.escape(s)}\\..*" for s in calls]),
        rpc_read=_any_of([REPLY_ID, f"{re.escape(name)}\\.\\*"]),
    )


def gateway_permissions() -> Permissions:
    reply_queues = GATEWAY_REPLY_QUEUES
    events = re.escape(exchange_name(GATEWAY))
    return Permissions(
        configure=_any_of([events, re.escape(RPC_EXCHANGE), reply_queues]),
        write=_any_of([events, re.escape(RPC_EXCHANGE), reply_queues]),
        read=_any_of([re.escape(RPC_EXCHANGE), reply_queues]),
        rpc_write=_any_of([f"{re.escape(s)}\\..*" for s in components.service_names()]),
        rpc_read=_any_of([REPLY_ID]),
    )


def every_component() -> dict[str, Permissions]:
    """Component name -> the permissions of its broker user."""
    found = {name: service_permissions(name, components.load_class(path))
             for name, path in components.service_classes().items()}
    found[GATEWAY] = gateway_permissions()
    return found


def passwords_from_env() -> dict[str, str]:
    """``CRM_BROKER_PASSWORDS=customers=secret,sales=...``: one password per component."""
    pairs = (item.split("=", 1) for item in (config.env("CRM_BROKER_PASSWORDS") or "").split(",")
             if "=" in item)
    return {name.strip(): password for name, password in pairs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vhost", default="/")
    args = parser.parse_args(argv)
    passwords = passwords_from_env()
    wanted = every_component()
    missing = sorted(set(wanted) - set(passwords))
    if missing:
        print(f"CRM_BROKER_PASSWORDS names no password for: {', '.join(missing)}",
              file=sys.stderr)
        return 2
    print("set -e")
    for name, permissions in wanted.items():
        user, password = f"{USER_PREFIX}{name}", passwords[name]
        print(f"rabbitmqctl add_user {shlex.quote(user)} {shlex.quote(password)} 2>/dev/null"
              f" || rabbitmqctl change_password {shlex.quote(user)} {shlex.quote(password)}")
        for command in permissions.commands(user, args.vhost):
            print(shlex.join(["rabbitmqctl", *command]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
