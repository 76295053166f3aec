"""The deployment files (Dockerfile, deploy/compose.yaml, deploy/haproxy.cfg, deploy/k8s/) checked
as far as a machine without Docker or a cluster can.

What runs: both YAML sets parse; compose.yaml validates with the Compose specification's own
parser (the ``compose-spec`` package) and every Kubernetes manifest against the Kubernetes JSON
schemas in strict mode (``kubernetes-validate``); every ``KILOWATT_*`` variable any of them sets is a
field of :class:`kilowatt.config.Settings`; every command they run is one ``kilowatt`` accepts; the
references between objects resolve (selectors, ports named in probes, ConfigMap and Secret names,
depends_on); haproxy.cfg passes ``haproxy -c`` where HAProxy is installed; and the Dockerfile's own
build and install commands, run in a fresh venv, give a ``kilowatt`` that starts. What does not run
here (an image build, a container, a cluster) is listed in docs/deployment.md.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kilowatt.cli import build_parser
from kilowatt.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"
HAPROXY = ROOT / "deploy" / "haproxy.cfg"
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
"""The oldest Kubernetes the manifests are meant for (their APIs are all GA well before it)."""

SETTINGS_FIELDS = {f"KILOWATT_{name.upper()}" for name in Settings.model_fields}
KILOWATT_SERVICES = {"migrate", "gateway-1", "gateway-2", "api", "worker"}


# --- helpers --------------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def _manifests() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                yield path.name, document


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in _manifests() if doc["kind"] == kind}


def _pod_specs() -> dict[str, dict[str, Any]]:
    """Every pod template's spec, by its owner (Deployments and the Job)."""
    owners = {**_of_kind("Deployment"), **_of_kind("Job")}
    return {name: owner["spec"]["template"]["spec"] for name, owner in owners.items()}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in _dockerfile_instructions():
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def _assert_cli_accepts(argv: list[str], where: str) -> None:
    """``kilowatt <argv>`` parses: the command and role exist."""
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: `kilowatt {' '.join(argv)}` is not a command kilowatt accepts")


def _assert_known_settings(names: set[str], where: str) -> None:
    kilowatt = {name for name in names if name.startswith("KILOWATT_")}
    assert kilowatt, f"{where} sets no KILOWATT_* variable"
    unknown = kilowatt - SETTINGS_FIELDS
    assert not unknown, f"{where} sets {sorted(unknown)}, which kilowatt.config.Settings does not have"


def _shutdown_timeout_s() -> float:
    return float(_of_kind("ConfigMap")["kilowatt-config"]["data"]["KILOWATT_SHUTDOWN_TIMEOUT_S"])


def _duration_s(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", value)
    assert match, f"unexpected duration {value!r}"
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


# --- docker compose -------------------------------------------------------------------------------


def test_compose_validates_against_the_compose_specification() -> None:
    compose_spec = pytest.importorskip("compose_spec", reason="compose-spec (the dev extra) validates compose.yaml")
    # PyYAML resolves the anchors and `<<` merge keys first, as Compose does; the Compose parser
    # then checks the result against the specification (unknown keys, durations, ports, ...).
    parsed = compose_spec.PyCompose.from_yaml(json.dumps(_compose()))
    parsed.to_spec()
    assert set(parsed.service_names()) == {"postgres", "redis", "haproxy"} | KILOWATT_SERVICES


def test_compose_runs_each_role_from_one_image() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["gateway-1"]["command"] == ["serve", "--role", "gateway"]
    assert services["gateway-2"]["command"] == ["serve", "--role", "gateway"]
    assert services["api"]["command"] == ["serve", "--role", "api"]
    assert services["worker"]["command"] == ["serve", "--role", "worker"]
    for name in KILOWATT_SERVICES:
        _assert_cli_accepts(services[name]["command"], f"compose service {name}")
        assert services[name]["image"] == services["migrate"]["image"], name
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["migrate"]
    assert services["migrate"]["build"]["dockerfile"] == "Dockerfile"
    assert (COMPOSE.parent / services["migrate"]["build"]["context"] / "Dockerfile").resolve() == DOCKERFILE
    for name in KILOWATT_SERVICES - {"migrate"}:
        assert services[name]["pull_policy"] == "never", f"{name} must use the image migrate builds, not pull it"


def test_compose_node_ids_are_unique() -> None:
    services = _compose()["services"]
    node_ids = [services[name]["environment"]["KILOWATT_NODE_ID"] for name in KILOWATT_SERVICES - {"migrate"}]
    assert len(set(node_ids)) == len(node_ids), node_ids


def test_compose_start_order_waits_for_health_and_the_migration() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on {dependency}, which is not a service"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("gateway-1", "gateway-2", "api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
    assert services["haproxy"]["depends_on"] == {
        "gateway-1": {"condition": "service_healthy"},
        "gateway-2": {"condition": "service_healthy"},
    }
    # service_healthy needs a health check: compose's own, or (for the gateways) the image's.
    image_healthcheck = [args for keyword, args in _dockerfile_instructions() if keyword == "HEALTHCHECK"]
    assert image_healthcheck, "the gateways' health comes from the Dockerfile's HEALTHCHECK"
    for name in ("postgres", "redis", "api"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("gateway-1", "gateway-2"):
        assert "healthcheck" not in services[name], f"{name} must keep the image's health check"
    assert services["worker"]["healthcheck"] == {"disable": True}  # no port to probe


def test_compose_named_volumes_are_declared() -> None:
    compose = _compose()
    declared = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} mounts undeclared volume {source}"
            elif source.startswith("."):
                assert (COMPOSE.parent / source).exists(), f"{name} mounts missing file {source}"


def test_compose_gives_processes_longer_than_their_shutdown_timeout() -> None:
    services = _compose()["services"]
    for name in KILOWATT_SERVICES - {"migrate"}:
        timeout = float(services[name]["environment"]["KILOWATT_SHUTDOWN_TIMEOUT_S"])
        assert _duration_s(services[name]["stop_grace_period"]) > timeout, name


def test_compose_sets_only_real_settings() -> None:
    services = _compose()["services"]
    for name in KILOWATT_SERVICES:
        _assert_known_settings(set(services[name]["environment"]), f"compose service {name}")
    # A cluster needs PostgreSQL and Redis; the admin token must be given, not defaulted.
    environment = services["api"]["environment"]
    assert environment["KILOWATT_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["KILOWATT_REDIS_URL"].startswith("redis://")
    assert environment["KILOWATT_ADMIN_TOKEN"].startswith("${KILOWATT_ADMIN_TOKEN:?")


# --- haproxy --------------------------------------------------------------------------------------


def _haproxy_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in HAPROXY.read_text().splitlines():
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if not text[0].isspace():
            current = text.strip()
            sections[current] = []
        else:
            sections[current].append(text.strip())
    return sections


def test_haproxy_balances_the_two_gateways_over_tcp() -> None:
    sections = _haproxy_sections()
    assert "mode tcp" in sections["defaults"]
    backend = sections["backend gateways"]
    assert "balance leastconn" in backend
    servers = {line.split()[1]: line.split()[2] for line in backend if line.startswith("server ")}
    assert servers == {"gateway-1": "gateway-1:9000", "gateway-2": "gateway-2:9000"}
    assert set(servers) <= set(_compose()["services"])
    default_server = next(line for line in backend if line.startswith("default-server"))
    assert " check" in f" {default_server}" and "on-marked-down shutdown-sessions" in default_server
    assert "bind :9000" in sections["frontend ocpp"]
    assert "9000:9000" in _compose()["services"]["haproxy"]["ports"]


def test_haproxy_accepts_its_configuration() -> None:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed here (apt-get install haproxy): haproxy.cfg not checked by haproxy -c")
    result = subprocess.run([haproxy, "-c", "-f", str(HAPROXY)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    # Outside Docker the gateways' names do not resolve; that must be the only complaint.
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if "WARNING" in line]
    assert all("could not resolve address 'gateway-" in line for line in warnings), warnings


# --- Kubernetes -----------------------------------------------------------------------------------


def test_every_manifest_validates_against_the_kubernetes_schemas() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (the dev extra) holds the schemas")
    documents = list(_manifests())
    assert {doc["kind"] for _, doc in documents} == {"ConfigMap", "Secret", "Job", "Deployment", "Service", "PodDisruptionBudget"}
    for filename, document in documents:
        try:
            validate.validate(document, KUBERNETES_VERSION, strict=True)
        except Exception as exc:  # the validator's message names the path and the rule
            pytest.fail(f"{filename} ({document['kind']} {document['metadata']['name']}): {exc}")


def test_kubernetes_schema_validation_catches_a_mistake() -> None:
    """The validation above can fail: a misspelt probe field is refused."""
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (the dev extra) holds the schemas")
    deployment = yaml.safe_load((K8S / "gateway.yaml").read_text())
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["tcpSocket"]["prot"] = "ocpp"
    with pytest.raises(validate.ValidationError):
        validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    manifests = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(manifests)
    assert "namespace" not in kustomization  # namespace-free: the operator chooses
    for _, document in _manifests():
        assert "namespace" not in document["metadata"], document["metadata"]["name"]


def test_kustomize_builds_the_manifests() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed here: `kubectl kustomize deploy/k8s` not run")
    result = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    built = list(yaml.safe_load_all(result.stdout))
    assert len(built) == len(list(_manifests()))


def test_kubernetes_runs_each_role_and_the_migration() -> None:
    deployments = _of_kind("Deployment")
    roles = {name: d["spec"]["template"]["spec"]["containers"][0]["args"] for name, d in deployments.items()}
    assert roles == {
        "kilowatt-gateway": ["serve", "--role", "gateway"],
        "kilowatt-api": ["serve", "--role", "api"],
        "kilowatt-worker": ["serve", "--role", "worker"],
    }
    assert deployments["kilowatt-gateway"]["spec"]["replicas"] == 2
    job = _of_kind("Job")["kilowatt-migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    images = set()
    for owner, pod in _pod_specs().items():
        for container in pod["containers"]:
            _assert_cli_accepts(container["args"], owner)
            images.add(container["image"])
    assert len(images) == 1, f"one image for every role, found {images}"


def test_kubernetes_selectors_and_named_ports_resolve() -> None:
    deployments = _of_kind("Deployment")
    pod_labels = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()}
    for name, deployment in deployments.items():
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels[name].items(), name

    def selected(selector: dict[str, str]) -> list[str]:
        return [name for name, labels in pod_labels.items() if selector.items() <= labels.items()]

    services = _of_kind("Service")
    gateway = services["kilowatt-gateway"]["spec"]
    assert selected(gateway["selector"]) == ["kilowatt-gateway"]
    assert gateway["sessionAffinity"] == "None"  # any gateway takes any charger
    assert gateway["type"] == "LoadBalancer"
    assert [(p["port"], p["protocol"]) for p in gateway["ports"]] == [(9000, "TCP")]
    assert selected(services["kilowatt-api"]["spec"]["selector"]) == ["kilowatt-api"]
    pdb = _of_kind("PodDisruptionBudget")["kilowatt-gateway"]["spec"]
    assert selected(pdb["selector"]["matchLabels"]) == ["kilowatt-gateway"]
    assert pdb["maxUnavailable"] == 1

    for service in services.values():
        (target,) = selected(service["spec"]["selector"])
        containers = deployments[target]["spec"]["template"]["spec"]["containers"]
        container_ports = {port["name"] for container in containers for port in container.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, (service["metadata"]["name"], port)


def test_kubernetes_probes() -> None:
    pods = _pod_specs()

    def container(owner: str) -> dict[str, Any]:
        return pods[owner]["containers"][0]

    api = container("kilowatt-api")
    assert api["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert "tcpSocket" in api["livenessProbe"]  # not /health: it answers 503 while the database is down
    gateway = container("kilowatt-gateway")
    assert gateway["readinessProbe"]["tcpSocket"] == {"port": "ocpp"}
    assert gateway["livenessProbe"]["tcpSocket"] == {"port": "ocpp"}
    for owner in ("kilowatt-api", "kilowatt-gateway"):
        names = {port["name"] for port in container(owner)["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            action = container(owner)[probe]
            port = (action.get("httpGet") or action.get("tcpSocket"))["port"]
            assert port in names, (owner, probe, port)
        # The probe's own timeout leaves room for the readiness checks' 2 s each.
        assert container(owner)["readinessProbe"]["timeoutSeconds"] >= 3
    assert "readinessProbe" not in container("kilowatt-worker")  # no port


def test_kubernetes_grace_period_outlasts_the_shutdown_timeout() -> None:
    timeout = _shutdown_timeout_s()
    for owner, pod in _of_kind("Deployment").items():
        spec = pod["spec"]["template"]["spec"]
        pre_stop = spec["containers"][0].get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        pause = float(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0.0
        assert spec["terminationGracePeriodSeconds"] > timeout + pause, owner


def test_kubernetes_pods_run_as_non_root() -> None:
    dockerfile_user = next(args for keyword, args in _dockerfile_instructions() if keyword == "USER")
    uid = int(dockerfile_user.split(":")[0])
    assert uid != 0
    for owner, pod in _pod_specs().items():
        assert pod["securityContext"]["runAsNonRoot"] is True, owner
        assert pod["securityContext"]["runAsUser"] == uid, owner
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, owner
            assert security["capabilities"]["drop"] == ["ALL"], owner


def test_kubernetes_config_comes_from_the_configmap_and_secret_and_sets_only_real_settings() -> None:
    configmaps, secrets = _of_kind("ConfigMap"), _of_kind("Secret")
    assert set(configmaps) == {"kilowatt-config"} and set(secrets) == {"kilowatt-secrets"}
    _assert_known_settings(set(configmaps["kilowatt-config"]["data"]), "ConfigMap kilowatt-config")
    _assert_known_settings(set(secrets["kilowatt-secrets"]["stringData"]), "Secret kilowatt-secrets")
    assert {"KILOWATT_DATABASE_URL", "KILOWATT_REDIS_URL", "KILOWATT_ADMIN_TOKEN"} <= set(secrets["kilowatt-secrets"]["stringData"])
    for owner, pod in _pod_specs().items():
        for container in pod["containers"]:
            sources = {next(iter(source.values()))["name"] for source in container["envFrom"]}
            assert sources == {"kilowatt-config", "kilowatt-secrets"}, owner
            names = {variable["name"] for variable in container.get("env", [])}
            if names:
                _assert_known_settings(names, f"{owner} env")


# --- Dockerfile -----------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    instructions = _dockerfile_instructions()
    stages = [args for keyword, args in instructions if keyword == "FROM"]
    assert stages == ["python:3.12-slim AS build", "python:3.12-slim"]
    user = [args for keyword, args in instructions if keyword == "USER"]
    assert len(user) == 1 and not user[0].startswith(("0", "root"))
    assert ("ENTRYPOINT", '["kilowatt"]') in instructions
    assert ("CMD", '["serve"]') in instructions
    assert ("EXPOSE", "8000 9000") in instructions
    healthcheck = next(args for keyword, args in instructions if keyword == "HEALTHCHECK")
    assert healthcheck.endswith('CMD ["python", "-m", "kilowatt.probe"]'), healthcheck
    _assert_cli_accepts(["serve"], "Dockerfile CMD")
    assert (ROOT / ".dockerignore").exists()


def test_dockerfile_sets_only_real_settings() -> None:
    env = _dockerfile_env()
    _assert_known_settings(set(env), "Dockerfile ENV")
    assert env["KILOWATT_HOST"] == "0.0.0.0"
    Settings(**{name.removeprefix("KILOWATT_").lower(): value for name, value in env.items() if name.startswith("KILOWATT_")})


def test_the_health_check_imports_nothing_heavy() -> None:
    """A check every 15 s must not load SQLAlchemy or FastAPI (a second of CPU each time)."""
    code = "import sys, kilowatt.probe; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run(
        [sys.executable, "-c", f"import json; {code}"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert not loaded & {"sqlalchemy", "fastapi", "pydantic", "uvicorn", "websockets", "structlog"}, loaded


def _dockerfile_pip_commands() -> tuple[str, str]:
    """The Dockerfile's ``pip wheel`` (build stage) and ``pip install`` (runtime stage) commands."""
    commands = []
    for keyword, arguments in _dockerfile_instructions():
        if keyword != "RUN":
            continue
        words = arguments.split(" ")
        while words and words[0].startswith("--mount="):
            words.pop(0)
        for command in " ".join(words).split("&&"):
            if command.strip().startswith("pip "):
                commands.append(command.strip())
    wheel = [command for command in commands if command.startswith("pip wheel")]
    install = [command for command in commands if command.startswith("pip install")]
    assert len(wheel) == 1 and len(install) == 1, commands
    return wheel[0], install[0]


UNREACHABLE_INDEX = ("Could not find a version", "No matching distribution", "NewConnectionError", "Temporary failure in name resolution")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_dockerfile_install_and_entrypoint_work_in_a_fresh_venv(tmp_path: Path) -> None:
    """The Dockerfile's own commands, outside Docker: copy what its COPY lines copy, run its
    ``pip wheel`` there, its ``pip install`` into a fresh venv, then its ENTRYPOINT with --help.
    Differences from the image: this machine's Python (not 3.12-slim), no non-root user, and pip does
    not byte-compile (PIP_NO_COMPILE, for time)."""
    context = tmp_path / "src"
    context.mkdir()
    for keyword, arguments in _dockerfile_instructions():
        if keyword == "COPY" and not arguments.startswith("--from"):
            *sources, destination = arguments.split()
            for source in sources:
                target = context / destination if destination not in ("./", ".") else context / source
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
                else:
                    shutil.copy(ROOT / source, target)
    wheels = tmp_path / "wheels"
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    pip = environment / "bin" / "pip"
    wheel_command, install_command = _dockerfile_pip_commands()

    def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        command = command.replace("/wheels", str(wheels)).replace("pip ", f"{pip} ", 1)
        # PIP_NO_COMPILE: byte-compiling every dependency is a third of the time here and tests nothing of ours.
        env = {**os.environ, "PIP_NO_COMPILE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=180, env=env)

    for command, cwd in ((wheel_command, context), (install_command, tmp_path)):
        result = run(command, cwd)
        if result.returncode != 0 and any(sign in result.stderr for sign in UNREACHABLE_INDEX):
            pytest.skip(f"pip cannot reach the package index: {result.stderr.strip().splitlines()[-1]}")
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"

    instructions = dict(_dockerfile_instructions())
    entrypoint = json.loads(instructions["ENTRYPOINT"])
    cmd = json.loads(instructions["CMD"])
    executable = environment / "bin" / entrypoint[0]
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("KILOWATT_", "PYTHONPATH"))}
    for argv in ([*entrypoint[1:], "--help"], [*entrypoint[1:], *cmd, "--help"]):
        result = subprocess.run([str(executable), *argv], capture_output=True, text=True, timeout=60, env=clean)
        assert result.returncode == 0, result.stderr
        assert "usage: kilowatt" in result.stdout
    # The installed package, not this checkout's: its files and the redis extra came along.
    check = subprocess.run(
        [str(environment / "bin" / "python"), "-c", "import kilowatt, kilowatt.probe, redis, asyncpg; print(kilowatt.__file__)"],
        capture_output=True, text=True, timeout=60, env=clean, cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert str(environment) in check.stdout
