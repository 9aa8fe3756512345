"""The deployment files checked against the code, without Docker or a cluster (fast).

What would otherwise show only at ``docker compose up`` or ``kubectl apply``: a component
without its broker or database, an environment variable that no process reads, a command
naming a module or class that does not exist, a file that does not run or name exactly the
components of the registry (``common/components.py``), a database the PostgreSQL init script
does not create, a gunicorn setting misspelt, a secret written into a file.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import re
import runpy
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from common import broker_users, components, config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROCFILE = DEPLOY / "Procfile"
INIT_SCRIPT = DEPLOY / "postgres" / "init-databases.sh"
K8S_README = DEPLOY / "k8s" / "README.md"
# Where each source of commands is written, for the messages.
SOURCES = {"procfile": "deploy/Procfile", "compose": "docker-compose.yml", "k8s": "deploy/k8s/"}
GATEWAY_APP = "gateway.app:create_app()"

# Modules written alongside these files: a check that needs one skips until it exists. Any
# other module a command names must exist now.
PENDING_MODULES = {"services.customers.service", "gateway.app", "gateway.seed",
                   "services.reports.service"}


class PlainLoader(yaml.SafeLoader):
    """yaml.SafeLoader without nameko's ``${NAME:default}`` substitution.

    ``common.config.nameko_config()`` registers that substitution on ``yaml.SafeLoader`` for
    the whole process; compose's ``${...}`` must stay as written here.
    """


PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "!env_var"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_all(path: Path) -> list:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=PlainLoader) if doc]


@functools.cache
def compose() -> dict:
    (document,) = load_all(COMPOSE_FILE)
    return document


@functools.cache
def k8s_documents() -> list[tuple[str, dict]]:
    return [(path.name, doc) for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
            for doc in load_all(path)]


def database_url_name(component: str) -> str:
    return f"{component.upper()}_DATABASE_URL"


def env_names_in(path: Path) -> set[str]:
    """Names a Python file reads with ``env("NAME"``, or a nameko YAML with ``${NAME...}``."""
    text = path.read_text()
    pattern = r"\$\{([A-Z][A-Z0-9_]*)[:}]" if path.suffix == ".yml" else r'\benv\(\s*"([A-Z][A-Z0-9_]*)"'
    return set(re.findall(pattern, text))


@functools.cache
def names_read() -> frozenset[str]:
    """Every environment variable some CRM process reads: common/config.py (the table of
    them), plus the nameko and gunicorn configuration files."""
    names = set()
    for path in (ROOT / "common" / "config.py", DEPLOY / "nameko.yml", DEPLOY / "gunicorn.conf.py"):
        names |= env_names_in(path)
    if 'f"{component.upper()}_DATABASE_URL"' in (ROOT / "common" / "config.py").read_text():
        names |= {database_url_name(component) for component in components.names()}
    return frozenset(names)


# -- commands ------------------------------------------------------------------------------
def command_lines(argv) -> list[list[str]]:
    """The command lines a container runs: a ``sh -c`` script is split into its lines."""
    if isinstance(argv, str):
        argv = shlex.split(argv)
    if argv[0] == "sh":
        return [shlex.split(line) for line in argv[-1].splitlines() if line.strip()]
    return [argv]


def kind_of(argv) -> str:
    lines = command_lines(argv)
    if len(lines) > 1:
        return "setup"
    return {"nameko": "service", "gunicorn": "gateway"}[lines[0][0]]


def targets(line: list[str]) -> list[str]:
    """What one command line runs, as ``module`` or ``module:attribute`` strings."""
    if line[:2] == ["python", "-m"]:
        return [line[2], *[arg for arg in line[3:] if ":" in arg]]
    if line[0] in ("nameko", "gunicorn"):
        return [line[-1]]
    raise AssertionError(f"unexpected command {line}")


def resolve(target: str):
    """Import ``module[:attribute]`` (an attribute may be a call, ``create_app()``)."""
    module, _, attribute = target.partition(":")
    if module in PENDING_MODULES and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    if not attribute:
        assert importlib.util.find_spec(module) is not None, f"no module {module}"
        return None
    return getattr(importlib.import_module(module), attribute.removesuffix("()"))


def our_containers() -> dict[str, dict]:
    """The compose services that run the CRM image (setup and every component)."""
    return {name: spec for name, spec in compose()["services"].items() if "build" in spec}


def k8s_containers() -> list[tuple[str, dict]]:
    """(Deployment or Job name, container) of every workload under deploy/k8s."""
    return [(doc["metadata"]["name"], container)
            for _, doc in k8s_documents() if doc["kind"] in ("Deployment", "Job")
            for container in doc["spec"]["template"]["spec"]["containers"]]


def procfile_processes() -> dict[str, list[str]]:
    """Name -> command line of each process ``honcho`` starts."""
    lines = [line.partition(":") for line in PROCFILE.read_text().splitlines() if line.strip()]
    return {name.strip(): shlex.split(command) for name, _, command in lines}


def all_commands() -> list[tuple[str, str, list]]:
    return ([("procfile", name, argv) for name, argv in procfile_processes().items()]
            + [("compose", name, spec["command"]) for name, spec in our_containers().items()]
            + [("k8s", name, container["command"]) for name, container in k8s_containers()])


def assert_names_the_registry(named, where: str, expected=None) -> None:
    """``named`` are exactly the registry's components (or ``expected`` of them)."""
    expected = set(components.names() if expected is None else expected)
    missing, unknown = sorted(expected - set(named)), sorted(set(named) - expected)
    assert not (missing or unknown), (
        f"{where} does not match common/components.py: "
        f"missing {missing}, not registered {unknown}")


# -- docker-compose.yml --------------------------------------------------------------------
def test_compose_names_the_infrastructure_setup_and_every_component():
    services = compose()["services"]
    images = {name: spec.get("image", "") for name, spec in services.items()}
    assert images["rabbitmq"].startswith("rabbitmq:3.13-management")
    assert images["postgres"].startswith("postgres:16")
    assert any("mailpit" in image for image in images.values()), "no mail catcher"
    assert "setup" in our_containers()
    for name in ("rabbitmq", "postgres"):
        assert "healthcheck" in services[name], name


def test_setup_runs_after_broker_and_database_and_components_after_setup():
    services = our_containers()
    assert services["setup"]["depends_on"] == {
        "rabbitmq": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    assert services["setup"]["restart"] == "no"
    for name, spec in services.items():
        if name != "setup":
            assert spec["depends_on"]["setup"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(our_containers()))
def test_compose_environment_names_are_read_by_the_code(name):
    environment = our_containers()[name]["environment"]
    assert isinstance(environment, dict)
    unknown = set(environment) - names_read()
    assert not unknown, f"{name} sets {sorted(unknown)}, which no process reads"


def components_of(name: str, argv) -> set[str]:
    """The components whose database a container uses: the setup migrates them all."""
    return set(components.names()) if kind_of(argv) == "setup" else {name}


@pytest.mark.parametrize("name", sorted(our_containers()))
def test_each_component_gets_the_broker_and_only_its_own_database(name):
    spec = our_containers()[name]
    environment = spec["environment"]
    assert environment["AMQP_URI"].startswith("amqp://")
    expected = components_of(name, spec["command"])
    assert expected <= set(components.names())
    given = {key for key in environment if key.endswith("_DATABASE_URL")}
    assert given == {database_url_name(component) for component in expected}, (
        f"docker-compose.yml: {name} gets {sorted(given)}")
    for component in expected:
        url = urlsplit(environment[database_url_name(component)])
        # Its own database and its own user (created by deploy/postgres/init-databases.sh).
        assert (url.username, url.path) == (f"crm_{component}", f"/crm_{component}")


def test_components_scale_and_the_gateway_alone_publishes_a_port():
    for name, spec in our_containers().items():
        assert "container_name" not in spec, f"{name} could not be scaled"
        if kind_of(spec["command"]) == "service":
            assert "ports" not in spec, f"{name} publishes a port: --scale would clash"
    gateway = our_containers()["gateway"]
    assert gateway["ports"] == ["${CRM_PORT:-8000}:8000"]
    assert f":{config.gateway_port()}/healthz" in " ".join(gateway["healthcheck"]["test"])


def test_secrets_are_required_from_the_environment():
    environment = {**our_containers()["gateway"]["environment"],
                   **our_containers()["setup"]["environment"]}
    for name in ("CRM_SECRET_KEY", "CRM_ADMIN_PASSWORD"):
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", environment[name]), name


def test_the_init_script_creates_each_component_database():
    postgres = compose()["services"]["postgres"]
    assert (f"./{INIT_SCRIPT.relative_to(ROOT)}:/docker-entrypoint-initdb.d/init-databases.sh:ro"
            in postgres["volumes"])
    assert_names_the_registry(postgres["environment"]["CRM_DATABASES"].split(),
                              "docker-compose.yml: postgres' CRM_DATABASES")
    script = INIT_SCRIPT.read_text()
    assert re.search(r"for component in \$CRM_DATABASES", script)
    assert 'name="crm_${component}"' in script
    assert "CREATE DATABASE %I OWNER %I" in script
    assert INIT_SCRIPT.stat().st_mode & 0o111, "the postgres entrypoint runs it only if executable"


# -- commands, in compose and in the Kubernetes manifests ------------------------------------
def target_cases():
    cases = []
    for source, name, argv in all_commands():
        for line in command_lines(argv):
            cases += [pytest.param(source, name, line, target, id=f"{source}-{name}-{target}")
                      for target in targets(line)]
    return cases


@pytest.mark.parametrize("source, name, line, target", target_cases())
def test_commands_name_existing_modules(source, name, line, target):
    program = line[0]
    if "--config" in line:
        config_file = line[line.index("--config") + 1]
        assert (ROOT / config_file).is_file(), f"{config_file} does not exist"
    found = resolve(target)
    if program == "nameko":
        assert inspect.isclass(found) and found.name == name, (
            f"{source} runs {target} as {name!r}; its nameko name is {getattr(found, 'name', None)!r}"
        )
    elif program == "gunicorn":
        assert target == GATEWAY_APP and callable(found)
    elif ":" in target:  # a topology argument: a nameko service class
        assert inspect.isclass(found) and hasattr(found, "name"), target


# -- the registry: each file runs and names exactly its components --------------------------
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_each_file_runs_exactly_the_registered_components(source):
    running = {name: command_lines(argv)[0][-1] for where, name, argv in all_commands()
               if where == source and kind_of(argv) != "setup"}
    assert_names_the_registry(running, SOURCES[source])
    for component in components.COMPONENTS:
        expected = component.service_class or GATEWAY_APP
        assert running[component.name] == expected, (
            f"{SOURCES[source]} runs {running[component.name]} as {component.name}; "
            f"common/components.py says {expected}")


@pytest.mark.parametrize("source", ["compose", "k8s"])
def test_setup_declares_the_topology_of_every_registered_service(source):
    (setup,) = [argv for where, _, argv in all_commands()
                if where == source and kind_of(argv) == "setup"]
    lines = command_lines(setup)
    assert [line[:3] for line in lines] == [["python", "-m", "common.migrations"],
                                            ["python", "-m", "common.topology"],
                                            ["python", "-m", "gateway.seed"],
                                            ["python", "-m", "gateway.identity.announce"]]
    assert lines[1] == ["python", "-m", "common.topology"], (
        f"{SOURCES[source]}: without a class list the topology covers every registered service")


@pytest.mark.parametrize("source", ["compose", "k8s"])
def test_the_gateway_readiness_pings_every_registered_service(source):
    if source == "compose":
        readiness = our_containers()["gateway"]["environment"]["CRM_SERVICES"]
    else:
        (gateway,) = [container for name, container in k8s_containers() if name == "gateway"]
        readiness = k8s_environment(gateway)["CRM_SERVICES"]["value"]
    assert_names_the_registry(readiness.split(","),
                              f"{SOURCES[source]}: the gateway's CRM_SERVICES",
                              expected=components.service_names())


def test_compose_has_a_database_url_per_registered_component():
    assert_names_the_registry(compose()["x-database-urls"], "docker-compose.yml: x-database-urls")


# -- deploy/gunicorn.conf.py and deploy/nameko.yml -----------------------------------------
def load_gunicorn_conf(monkeypatch, **environment) -> dict:
    for name in ("CRM_PORT", "GUNICORN_WORKERS", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_conf(monkeypatch):
    from gunicorn.config import Config

    settings = load_gunicorn_conf(monkeypatch, CRM_PORT="8123")
    assert settings["reuse_port"] is True
    assert settings["worker_class"] == "gthread"
    assert settings["bind"] == "0.0.0.0:8123"
    assert 1 <= settings["workers"] <= 8 and settings["threads"] == 8
    assert settings["accesslog"] == "-"
    # gunicorn applies every name of the file that is one of its settings: no misspelt one,
    # and none shadowed by an import (``config`` is a gunicorn setting).
    names = {name for name, value in settings.items()
             if not name.startswith("_") and not inspect.ismodule(value) and not callable(value)}
    assert names <= set(Config().settings), names - set(Config().settings)
    assert "config" not in settings

    tuned = load_gunicorn_conf(monkeypatch, GUNICORN_WORKERS="3", GUNICORN_THREADS="4",
                               FORWARDED_ALLOW_IPS="10.0.0.0/8")
    assert (tuned["workers"], tuned["threads"]) == (3, 4)
    assert tuned["forwarded_allow_ips"] == "10.0.0.0/8"
    assert tuned["bind"] == "0.0.0.0:8000"


def test_nameko_yml_defaults_to_the_code_broker(monkeypatch):
    text = (DEPLOY / "nameko.yml").read_text()
    assert yaml.load(text, Loader=PlainLoader)["AMQP_URI"] == f"${{AMQP_URI:{config.DEFAULT_AMQP_URI}}}"
    monkeypatch.delenv("AMQP_URI", raising=False)
    assert config.nameko_config()["AMQP_URI"] == config.DEFAULT_AMQP_URI


# -- deploy/k8s ----------------------------------------------------------------------------
def test_k8s_manifests_parse_and_cover_every_component():
    kinds = [(doc["kind"], doc["metadata"]["name"]) for _, doc in k8s_documents()]
    assert all("namespace" not in doc["metadata"] for _, doc in k8s_documents())
    assert {("ConfigMap", "crm-config"), ("Secret", "crm-secrets"), ("Job", "crm-setup"),
            ("Service", "gateway")} <= set(kinds)


def k8s_environment(container: dict) -> dict[str, dict]:
    """Each variable of a container: its own ``env`` and the ConfigMap/Secret it loads."""
    documents = {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in k8s_documents()}
    environment = {item["name"]: item for item in container.get("env", [])}
    for source in container.get("envFrom", []):
        kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source else (
            "Secret", source["secretRef"])
        loaded = documents[(kind, ref["name"])]
        environment.update({key: {"from": kind} for key in {
            **loaded.get("data", {}), **loaded.get("stringData", {})}})
    return environment


@pytest.mark.parametrize("name, container", [
    pytest.param(name, container, id=name) for name, container in k8s_containers()])
def test_k8s_workloads_get_the_broker_their_database_and_known_names(name, container):
    environment = k8s_environment(container)
    unknown = set(environment) - names_read()
    assert not unknown, f"{name} sets {sorted(unknown)}, which no process reads"
    expected = components_of(name, container["command"])
    assert "AMQP_URI" in environment
    given = {key for key in environment if key.endswith("_DATABASE_URL")}
    assert given == {database_url_name(component) for component in expected}, (
        f"deploy/k8s/: {name} gets {sorted(given)}")
    if kind_of(container["command"]) != "setup":
        resources = container["resources"]
        assert resources["requests"] and resources["limits"]


@pytest.mark.parametrize("name, container", [
    pytest.param(name, container, id=name) for name, container in k8s_containers()])
def test_k8s_workloads_reach_the_broker_as_their_own_user(name, container):
    """Each component its own broker user (common.broker_users); setup an administrator."""
    key = k8s_environment(container)["AMQP_URI"]["valueFrom"]["secretKeyRef"]["key"]
    (secret,) = [doc for _, doc in k8s_documents() if doc["kind"] == "Secret"]
    user = urlsplit(secret["stringData"][key]).username
    if kind_of(container["command"]) == "setup":
        assert key == "AMQP_URI"
    else:
        assert (key, user) == (f"{name.upper()}_AMQP_URI", f"{broker_users.USER_PREFIX}{name}")


def test_k8s_gateway_probes_and_service():
    (gateway,) = [container for name, container in k8s_containers() if name == "gateway"]
    port = gateway["ports"][0]
    assert port["containerPort"] == config.gateway_port()
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    (service,) = [doc for _, doc in k8s_documents() if doc["kind"] == "Service"]
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]


def test_k8s_secret_is_a_template():
    (secret,) = [doc for _, doc in k8s_documents() if doc["kind"] == "Secret"]
    assert secret["stringData"] and all(
        "CHANGE_ME" in value for value in secret["stringData"].values())
    assert_names_the_registry(
        [key.removesuffix("_DATABASE_URL").lower() for key in secret["stringData"]
         if key.endswith("_DATABASE_URL")], "deploy/k8s/secret.template.yaml: the database URLs")


def test_k8s_a_file_per_component_each_applied_by_the_readme():
    files = [name.removesuffix(".yaml") for name, doc in k8s_documents()
             if doc["kind"] == "Deployment"]
    assert_names_the_registry(files, "deploy/k8s/<component>.yaml")
    applied = set(re.findall(r"-f ([\w-]+)\.yaml", K8S_README.read_text()))
    missing = sorted(set(files) - applied)
    assert not missing, f"deploy/k8s/README.md does not apply {missing}"


def test_k8s_every_deployment_has_an_autoscaler_and_cpu_limits_that_match_its_workers():
    """An HPA per component (and no replicas of the Deployment's own for a re-apply to
    reset); a CPU limit of one core per process that can keep one busy: a nameko service
    runs one, the gateway GUNICORN_WORKERS."""
    documents = [doc for _, doc in k8s_documents()]
    deployments = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Deployment"}
    scaled = {doc["spec"]["scaleTargetRef"]["name"]: doc for doc in documents
              if doc["kind"] == "HorizontalPodAutoscaler"}
    assert set(scaled) == set(deployments)
    for name, deployment in deployments.items():
        assert "replicas" not in deployment["spec"], name
        autoscaler = scaled[name]["spec"]
        assert autoscaler["scaleTargetRef"]["kind"] == "Deployment"
        assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
        (metric,) = autoscaler["metrics"]
        assert metric["resource"]["name"] == "cpu"
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        environment = {item["name"]: item.get("value") for item in container.get("env", [])}
        processes = int(environment["GUNICORN_WORKERS"]) if name == "gateway" else 1
        assert str(container["resources"]["limits"]["cpu"]) == str(processes), name
        assert container["resources"]["requests"]["cpu"], name


# -- no secret in a file -------------------------------------------------------------------
SECRET_ASSIGNMENT = re.compile(
    r"(?<![\w${])([A-Z][A-Z0-9_]*(?:SECRET|PASSWORD|PASS|TOKEN|KEY)[A-Z0-9_]*)\s*[:=]\s*(\S*)")
URL_PASSWORD = re.compile(r"://[^:/\s@]+:([^@\s]+)@")
DEV_DEFAULT = re.compile(r"\$\{(\w*(?:SECRET|PASSWORD|PASS|TOKEN|KEY)\w*):?-([^}]*)\}")


def is_placeholder(value: str) -> bool:
    """Read from elsewhere (``$VAR``, ``${VAR...}``), a marked placeholder, or RabbitMQ's
    ``guest`` (an account that only works from localhost)."""
    value = value.strip("'\"")
    return (value in ("", "guest") or value.startswith(("$", "<"))
            or "CHANGE_ME" in value)


def deployment_files() -> list[Path]:
    return [COMPOSE_FILE, *(path for path in sorted(DEPLOY.rglob("*")) if path.is_file())]


@pytest.mark.parametrize("path", deployment_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_literal_secret(path):
    text = path.read_text()
    for match in SECRET_ASSIGNMENT.finditer(text):
        assert is_placeholder(match.group(2)), f"{match.group(0)!r}: a literal secret?"
    for match in URL_PASSWORD.finditer(text):
        assert is_placeholder(match.group(1)), f"{match.group(0)!r}: a password in a URL"
    for match in DEV_DEFAULT.finditer(text):
        assert "dev" in match.group(2), f"{match.group(0)!r}: a default that is not marked dev"
