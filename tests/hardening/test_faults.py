"""Faults: a worker killed mid-task, S3 and Stripe unreachable, the database dropping away under a running site.
Each fault uses its own processes (a worker, moto, localstripe, a TCP proxy in front of PostgreSQL, gunicorn);
the machine's PostgreSQL and Redis are never touched."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from huoban.celery import app as celery_app
from tests.conftest import PASSWORD
from tests.ledger.helpers import account

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _database_url(host: str | None = None, port: int | None = None) -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{host or db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def scratch_hub(committed_db):  # type: ignore[no-untyped-def]
    """A hub made for one test that commits, dropped with its schema afterwards (its ledger is append-only)."""
    from tenants.models import Hub
    from tenants.services import hub_provision

    slug = f"fault-{uuid.uuid4().hex[:6]}"
    hub = hub_provision(
        slug=slug, name_zh="故障演练", kind="other", region_code="510000", admin_email=f"{slug}@x.test", actor=None
    ).hub
    try:
        yield hub
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{hub.schema_name}" CASCADE')
        Hub.objects.filter(pk=hub.pk).delete()


# --- (a) a worker killed mid-task ------------------------------------------------------------------------------


class Worker:
    def __init__(self, queue: str, log: Path) -> None:
        self.queue, self.log = queue, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": str(settings.REDIS_URL),
            "HUOBAN_TASK_QUEUE": self.queue,
            "HUOBAN_TESTING": "1",
            "HUOBAN_TASK_VISIBILITY_SECONDS": "3",  # a vanished worker's message comes back after 3 s
        }
        out = self.log.open("a")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "huoban", "worker", "--pool=solo", "-Q", self.queue),
                *("--include", "tests.hardening.fault_tasks", "--loglevel=INFO", "--without-gossip"),
                *("--without-mingle", "--without-heartbeat"),
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.mark.worker
@pytest.mark.slow
def test_a_worker_killed_mid_task_and_restarted_completes_the_task_exactly_once(scratch_hub, tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("needs a real Redis (REDIS_URL)")
    from hubs.ledger.chain import chain_verify
    from hubs.ledger.models import LedgerTransaction
    from hubs.ledger.selectors import account_balance
    from tests.hardening.fault_tasks import fault_probe_post

    with scratch_hub:
        bank, income = account("asset"), account("income")
    key, marker = f"fault:{uuid.uuid4().hex}", tmp_path / "attempts.log"
    worker = Worker(f"fault-{uuid.uuid4().hex[:8]}", tmp_path / "worker.log")
    old = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, worker.queue
    try:
        worker.start()
        with scratch_hub:
            fault_probe_post.delay(key=key, bank=bank.code, income=income.code, amount=12_345, marker=str(marker))
        _wait(lambda: marker.exists() and "posted" in marker.read_text(), 90, "the task's side effect")
        worker.kill()  # SIGKILL mid-task: posted, never acknowledged
        with scratch_hub:
            assert LedgerTransaction.objects.filter(idempotency_key=key).count() == 1

        worker.start()
        _wait(lambda: "done" in marker.read_text(), 120, "the task to be redelivered and finish")
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old
        worker.stop()
    log = worker.log.read_text()
    assert marker.read_text().splitlines() == [
        "start",
        "posted created=True",
        "start",
        "posted created=False",  # the redelivered task met its own idempotency key
        "done",
    ], log[-3000:]
    with scratch_hub:
        assert LedgerTransaction.objects.filter(idempotency_key=key).count() == 1
        assert account_balance(account=bank) == 12_345
        assert chain_verify().ok


# --- (b) S3 unreachable ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_s3_unreachable_gives_a_clear_error_stores_nothing_and_a_retry_later_works(s3_storage, settings, client_for):
    from huoban.identity.models import Organisation
    from huoban.storage.models import OrganisationDocument, StoredFile
    from tests.conftest import _cast
    from tests.storage import samples
    from tests.storage.conftest import _s3_storage_settings, _use
    from tests.storage.test_api import _org, _upload_body

    cast = _cast("a")
    org: Organisation = _org(cast)
    url = f"/api/v1/organisations/{org.pk}/documents"
    owner = client_for(cast.ngo_member)
    files_before = StoredFile.objects.count()
    closed = _s3_storage_settings(f"http://127.0.0.1:{_free_port()}")
    closed["OPTIONS"]["client_config"] = _fast_fail_config()  # type: ignore[index]
    _use(settings, closed)

    refused = owner.post(url, _upload_body(samples.pdf(900), "证书.pdf"))
    owner.cookies["huoban_language"] = "en"
    english = owner.post(url, _upload_body(samples.pdf(900), "证书.pdf"))
    owner.cookies["huoban_language"] = "zh-hans"

    assert refused.status_code == 503
    assert refused.json()["code"] == "storage_unavailable"
    assert refused.json()["message"] == "文件存储服务暂时不可用，文件没有保存，请稍后重试。"
    assert (
        english.json()["message"]
        == "File storage is unavailable right now; the file was not saved. Please try again later."
    )
    assert StoredFile.objects.count() == files_before  # no metadata row without its bytes
    assert not OrganisationDocument.objects.filter(organisation=org).exists()

    _use(settings, _s3_storage_settings(s3_storage.endpoint))  # S3 is back
    again = owner.post(url, _upload_body(samples.pdf(900), "证书.pdf"))
    assert again.status_code == 201, again.content
    stored = StoredFile.objects.get(pk=again.json()["file"]["id"])
    assert s3_storage.read(stored.key) == samples.pdf(900)


def _fast_fail_config():  # type: ignore[no-untyped-def]
    from botocore.config import Config

    return Config(connect_timeout=1, retries={"max_attempts": 1})


# --- (c) Stripe unreachable -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_stripe_unreachable_gives_a_clear_error_loses_nothing_and_events_are_retried_later(
    settings, client_for, hub_a, cast_a, django_capture_on_commit_callbacks, localstripe
):
    from datetime import timedelta

    from billing import events
    from billing.models import BillingAccount, StripeEvent
    from tests.billing.conftest import API_KEY, PRICES, WEBHOOK_SECRET, post_event, signed_event

    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = API_KEY, WEBHOOK_SECRET
    settings.STRIPE_PRICE_IDS = dict(PRICES)
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    api = client_for(cast_a.hub_admin, hub_a)

    refused = api.post("/api/v1/billing/setup-intent")
    assert refused.status_code == 502
    assert refused.json()["code"] == "stripe_error"
    assert refused.json()["message"] == "支付服务暂时不可用，请稍后再试。"
    account = BillingAccount.objects.filter(hub=hub_a).first()
    assert account is None or not account.stripe_customer_id  # no half-made customer

    # A webhook that needs Stripe to be applied arrives meanwhile: it is stored (Stripe gets 200), not applied.
    event = signed_event(
        "checkout.session.completed",
        {
            "id": "cs_test_fault",
            "object": "checkout.session",
            "mode": "subscription",
            "subscription": "sub_fault",
            "customer": "cus_fault",
            "metadata": {"hub_id": str(hub_a.pk)},
        },
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        delivered = post_event(client_for(None), event)
    assert delivered.status_code == 200
    assert len(queued) == 1  # its processing was enqueued
    row = StripeEvent.objects.get(event_id=event["id"])
    with pytest.raises(Exception, match="支付服务暂时不可用"):
        events.stripe_event_process(event_pk=row.pk)
    events.stripe_event_failed(event_pk=row.pk, error="stripe unreachable")
    row.refresh_from_db()
    assert row.processed_at is None and row.error  # kept, waiting
    assert row.attempts == 1  # the failed attempt is counted, although its own transaction was rolled back

    # Later (beat, every ten minutes): still-unprocessed events are enqueued again.
    StripeEvent.objects.filter(pk=row.pk).update(received_at=row.received_at - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=False) as requeued:
        assert events.stripe_events_requeue(older_than=timedelta(minutes=10)) == 1
    assert len(requeued) == 1

    settings.STRIPE_API_BASE = localstripe.url  # Stripe is back: what was refused works now
    assert api.post("/api/v1/billing/setup-intent").status_code == 201


# --- (d) the database drops away under a running site -----------------------------------------------------------


class Proxy:
    """A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones, then come back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.up = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.server: socket.socket | None = None

    def start(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.up.set()
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            if server is not self.server:  # cut meanwhile
                client.close()
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close the listener and every open connection: the database is gone."""
        if self.server is not None:
            server, self.server = self.server, None
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            server.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.sockets = []


@pytest.fixture
def site_behind_proxy(committed_db, tmp_path) -> Iterator[tuple[str, Proxy]]:  # type: ignore[no-untyped-def]
    db = connection.settings_dict
    proxy = Proxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    proxy.start()
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")},
        "DATABASE_URL": _database_url("127.0.0.1", proxy.port) + "?application_name=huoban-fault-site",
        "DATABASE_CONN_MAX_AGE": "600",  # persistent connections, as in production
        "HUOBAN_TESTING": "1",
        "HUOBAN_SITE_URL": "http://huoban.localhost:8000",
    }
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "huoban.wsgi:application", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "1", "--threads", "2", "--timeout", "60"),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        try:
            requests.get(url + "/livez", timeout=2)
            return True
        except requests.RequestException:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
            return False

    try:
        _wait(answering, 60, "gunicorn")
        yield url, proxy
    finally:
        process.terminate()
        process.wait(timeout=30)
        proxy.cut()
        log.close()


@pytest.mark.slow
def test_the_site_answers_503_while_the_database_is_gone_and_recovers_by_itself(site_behind_proxy):
    url, proxy = site_behind_proxy
    hub = {"Host": "sichuan.huoban.localhost:8000"}

    # Pages that read the hub's tables (the hub's home page and /api/v1/hub need none once the host is routed:
    # routing answers are kept for a few seconds, HUOBAN_HOST_CACHE_SECONDS, so they keep answering).
    def page() -> requests.Response:
        return requests.get(url + "/projects/public/", headers=hub, timeout=30)

    def api() -> requests.Response:
        return requests.get(url + "/api/v1/calls/public", headers=hub, timeout=30)

    assert page().status_code == 200  # warm: the worker holds a persistent connection

    # The app's backends are terminated (a failover, an operator, an idle timeout): the next request reconnects.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'huoban-fault-site'"
        )
        assert cursor.fetchone()[0] >= 1
    assert page().status_code == 200

    proxy.cut()  # the database is unreachable
    down, down_api = page(), api()
    assert down.status_code == 503 and down.headers["Retry-After"] == "30"
    assert "服务暂时不可用，请稍后再试。" in down.text and "Traceback" not in down.text
    assert down_api.status_code == 503
    assert down_api.json() == {"code": "service_unavailable", "message": "服务暂时不可用，请稍后再试。", "extra": {}}
    base = {"Host": "huoban.localhost:8000"}  # what the Kubernetes probes send (the Helm chart's probeHttpGet)
    assert requests.get(url + "/livez", headers=base, timeout=10).status_code == 200  # alive: not restarted
    assert requests.get(url + "/healthz", headers=base, timeout=30).status_code == 503  # not ready: out of the LB

    proxy.start()  # back
    assert page().status_code == 200
    assert api().status_code == 200


@contextlib.contextmanager
def _redis_server(port: int) -> Iterator[subprocess.Popen]:  # type: ignore[type-arg]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: _port_open(port), 10, "redis-server")
        yield server
    finally:
        server.terminate()
        server.wait(timeout=10)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_redis_gone_and_back_under_a_running_app(settings, cast_a):
    """Redis holds the cache and the rate-limit counters. While it is down, sign-in (rate-limited) answers a clean
    503 with Retry-After, not a traceback, and writes nothing; when it is back, the same request works."""
    import shutil

    from django.test import Client

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    client = Client(HTTP_HOST="huoban.localhost", raise_request_exception=False)
    form = {"login": cast_a.staff.email, "password": "wrong-wrong"}
    with _redis_server(port):
        assert client.post("/accounts/login/", form).status_code == 200
    down = client.post("/accounts/login/", form)
    assert down.status_code == 503 and down["Retry-After"]
    assert "服务暂时不可用" in down.content.decode()
    api_down = client.get("/api/v1/discover", {"q": "养老"})  # DRF's throttle counts in the cache
    assert api_down.status_code == 503 and api_down.json()["code"] == "service_unavailable"
    with _redis_server(port):
        back = client.post("/accounts/login/", {"login": cast_a.staff.email, "password": PASSWORD})
        assert back.status_code == 302  # signed in
