"""The database pools of the shipped deployments, at their fullest, stay under PostgreSQL's
max_connections; the operations guide prints the same arithmetic ("Database connections")."""
from __future__ import annotations

import re

from common import components, config
from tests.deploy.test_compose import DEPLOY, K8S_README, ROOT, compose, k8s_documents

GUIDE = ROOT / "docs" / "operations.md"
NAMEKO_YML = DEPLOY / "nameko.yml"
GATEWAY_WORKERS_CAP = 8  # deploy/gunicorn.conf.py: min(2 x CPUs + 1, 8) when unset
SETUP_CONNECTIONS = 2  # the one-off commands, one connection each at a time


def default_of(name: str) -> int:
    """The default nameko.yml gives ``${NAME:default}``."""
    return int(re.search(r"\$\{" + name + r":(\d+)\}", NAMEKO_YML.read_text()).group(1))


def service_pool(max_workers: int) -> int:
    return max_workers + config.EXTRA_CONNECTIONS


def gateway_pool(threads: int) -> int:
    return threads + config.EXTRA_CONNECTIONS


SERVICES = [component.name for component in components.COMPONENTS if component.service_class]


def compose_total() -> tuple[int, int]:
    """(connections at the fullest, max_connections) of docker-compose.yml."""
    document = compose()
    environment = document["x-crm"]["environment"]
    max_workers = int(environment.get("CRM_MAX_WORKERS", default_of("CRM_MAX_WORKERS")))
    replicas = {name: (document["services"][name].get("deploy") or {}).get("replicas", 1)
                for name in [*SERVICES, "gateway"]}
    gateway_env = document["services"]["gateway"].get("environment") or {}
    workers = int(gateway_env.get("GUNICORN_WORKERS", GATEWAY_WORKERS_CAP))
    threads = int(gateway_env.get("GUNICORN_THREADS", config.gateway_threads()))
    total = (sum(replicas[name] * service_pool(max_workers) for name in SERVICES)
             + replicas["gateway"] * workers * gateway_pool(threads) + SETUP_CONNECTIONS)
    command = document["services"]["postgres"]["command"]
    (limit,) = [int(part.split("=")[1]) for part in command if part.startswith("max_connections=")]
    return total, limit


def k8s_total() -> int:
    """The connections with every autoscaler at its maximum."""
    documents = dict((doc["metadata"]["name"], doc) for _, doc in k8s_documents()
                     if doc.get("kind") in ("Deployment", "ConfigMap"))
    pods = {doc["spec"]["scaleTargetRef"]["name"]: doc["spec"]["maxReplicas"]
            for _, doc in k8s_documents() if doc.get("kind") == "HorizontalPodAutoscaler"}
    max_workers = int(documents["crm-config"]["data"]["CRM_MAX_WORKERS"])
    gateway = documents["gateway"]["spec"]
    (container,) = gateway["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container.get("env", [])}
    return (sum(pods[name] * service_pool(max_workers) for name in SERVICES)
            + pods["gateway"] * int(env["GUNICORN_WORKERS"])
            * gateway_pool(int(env.get("GUNICORN_THREADS", config.gateway_threads())))
            + SETUP_CONNECTIONS)


def test_compose_pools_fit_under_max_connections_as_the_guide_says():
    total, limit = compose_total()
    assert total < limit, f"compose: {total} connections, max_connections {limit}"
    assert f"| {total} | {limit} (set in `docker-compose.yml`) |" in GUIDE.read_text()


def test_k8s_pools_fit_under_the_documented_max_connections():
    total = k8s_total()
    documented = int(re.search(r"max_connections = (\d+)", K8S_README.read_text()).group(1))
    assert total < documented, f"k8s: {total} connections, README asks {documented}"
    assert f"up to {total}" in K8S_README.read_text().replace("\n", " ")
    assert f"| {total} | {documented} or more" in GUIDE.read_text()


def test_a_request_waits_for_a_connection_less_than_its_deadline():
    assert config.db_pool_timeout() < config.rpc_timeout()
