"""Benchmark: 200 concurrent residents supporting 50 projects over HTTP.

Run with ``make bench PYTEST_ARGS="-k needs"`` or ``pytest tests/perf/test_needs_bench.py -s``. Every resident
supports every project once, through ``POST /api/v1/needs/rounds/<id>/ideas/<id>/support`` with a verified
session; afterwards every idea must have exactly 200 supports (no lost or doubled counts), and a second wave of
the same requests must all be refused as duplicates. Two servers, in the same run:

- ``threaded``: Django's threaded WSGI server inside the test process, 16 requests at a time, a new database
  connection per request (the test settings) — the set-up of the first measurement;
- ``gunicorn``: ``gunicorn huoban.wsgi`` with several sync worker processes (``NEEDS_BENCH_GUNICORN_WORKERS``,
  default 4) and persistent database connections (``DATABASE_CONN_MAX_AGE=60``, the production default);
- ``gunicorn-base`` (only with ``NEEDS_BENCH_BASE=<dir>``): the same gunicorn serving the code exported in
  ``<dir>`` (``git archive <commit> | tar -x -C <dir>``), to compare an older support path in the same run.

``NEEDS_BENCH_SERVERS`` picks the servers (default ``threaded,gunicorn``). Prints supports per second, p50/p95
latency per request, and the database statements one support costs (counted in process through the test client
on the same URL). With pyinstrument installed and ``NEEDS_BENCH_PROFILE=1``, 200 supports through the test client
are profiled and the profile printed.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hubs.needs import selectors
from tenants.models import Hub
from tests.needs.conftest import _Cast, idea_walk, open_round, verified_resident

RESIDENTS = int(os.environ.get("NEEDS_BENCH_RESIDENTS", "200"))
PROJECTS = int(os.environ.get("NEEDS_BENCH_PROJECTS", "50"))
WORKERS = int(os.environ.get("NEEDS_BENCH_WORKERS", "16"))
GUNICORN_WORKERS = int(os.environ.get("NEEDS_BENCH_GUNICORN_WORKERS", "4"))
BASE = os.environ.get("NEEDS_BENCH_BASE", "")
SERVERS = [s for s in os.environ.get("NEEDS_BENCH_SERVERS", "threaded,gunicorn").split(",") if s] + (
    ["gunicorn-base"] if BASE else []
)
ROOT = Path(__file__).resolve().parents[2]


def _threaded(settings) -> Iterator[int]:  # type: ignore[no-untyped-def]
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadedWSGIServer):
        request_queue_size = 1024  # listen() backlog: read when the socket is bound, so it must be the class's

    settings.HUOBAN_NEEDS_SUPPORT_RATE = "1000000/m"
    settings.DEBUG = False
    srv = Server(("127.0.0.1", 0), Quiet, allow_reuse_address=True)
    inner = get_wsgi_application()
    # The database is shared (max_connections 100, other suites running): at most WORKERS requests are handled at
    # once, like a gunicorn with that many threads; the other connections wait in the server's accept queue.
    slots = threading.BoundedSemaphore(WORKERS)

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        with slots:
            response = inner(environ, start_response)
            body = b"".join(response)
            response.close()  # request_finished: the request's database connection is closed inside the slot
        return [body]

    srv.set_app(app)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gunicorn(root: Path = ROOT) -> Iterator[int]:
    port = _free_port()
    settings_module = root / "tests/perf/gunicorn_settings.py"
    if not settings_module.exists():  # an older export: the settings of this benchmark's workers
        settings_module.write_text((ROOT / "tests/perf/gunicorn_settings.py").read_text())
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.perf.gunicorn_settings",
        "DATABASE_URL": f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DATABASE_CONN_MAX_AGE": "60",
        "SECRET_KEY": django_settings.SECRET_KEY,  # the sessions the benchmark made are signed with it
        "HUOBAN_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{root}{os.pathsep}{root / 'platform'}",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "huoban.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={GUNICORN_WORKERS}",
            "--worker-class=sync",
            "--backlog=1024",
            "--timeout=120",
            "--log-level=warning",
        ],
        cwd=root,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(params=SERVERS)
def server(request, committed_db, settings) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    if request.param == "threaded":
        ports = _threaded(settings)
    elif request.param == "gunicorn-base":
        ports = _gunicorn(Path(BASE).resolve())
    else:
        ports = _gunicorn()
    for port in ports:
        yield request.param, port


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _queries_per_support(hub: Hub, round_id: int, idea_id: int, session_key: str) -> int:
    """One support through the test client (outside the timed waves), counting every statement sent."""
    client = Client(HTTP_HOST=hub.host)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/needs/rounds/{round_id}/ideas/{idea_id}/support")
    assert response.status_code == 201, response.content
    return len(queries.captured_queries)


def _profile(hub: Hub, round_id: int, idea_ids: list[int], session_keys: list[str]) -> None:
    """pyinstrument over supports through the test client (in process, no HTTP), when asked for."""
    if os.environ.get("NEEDS_BENCH_PROFILE") != "1":
        return
    from pyinstrument import Profiler

    client = Client(HTTP_HOST=hub.host)
    with Profiler(interval=0.0005) as profiler:
        for key in session_keys:
            client.cookies[django_settings.SESSION_COOKIE_NAME] = key
            for idea_id in idea_ids:
                response = client.post(f"/api/v1/needs/rounds/{round_id}/ideas/{idea_id}/support")
                assert response.status_code == 201, response.content
    print(profiler.output_text(unicode=True, color=False, show_all=False))


@pytest.mark.timeout(3600)
def test_residents_support_projects_concurrently(server) -> None:  # type: ignore[no-untyped-def]
    from huoban.identity.models import User

    mode, port = server
    hub = Hub.objects.get(slug="sichuan")
    cast = _Cast(User.objects.get(email="staff@a.test"), User.objects.get(email="reviewer@a.test"))
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    with hub:
        notice_round = open_round(None, title="压测公示")
        ideas = [idea_walk(cast, "on_notice", notice_round=notice_round, budget=100_000) for _ in range(PROJECTS + 5)]
        probe_ideas = ideas[PROJECTS:]
        ideas = ideas[:PROJECTS]
        stamp = int(time.time()) % 10**4
        cookies = []
        for i in range(RESIDENTS + 40):
            resident = verified_resident(f"186{stamp:04d}{i:04d}")
            session = store()
            session[f"needs_resident_id:{hub.pk}"] = resident.pk
            session.create()
            cookies.append(session.session_key)
    queries = _queries_per_support(hub, notice_round.pk, probe_ideas[0].pk, cookies[0])
    _profile(hub, notice_round.pk, [i.pk for i in probe_ideas], cookies[RESIDENTS:])
    cookies = cookies[:RESIDENTS]
    paths = [f"/api/v1/needs/rounds/{notice_round.pk}/ideas/{idea.pk}/support" for idea in ideas]

    def wave() -> tuple[Counter[int], float, list[float]]:
        statuses: Counter[int] = Counter()
        latencies: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(RESIDENTS)

        def resident(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
            headers = {
                "Host": hub.host,
                "Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookies[i]}",
                "Content-Length": "0",
            }
            local: Counter[int] = Counter()
            times: list[float] = []
            barrier.wait()
            for path in paths:
                started = time.perf_counter()
                conn.request("POST", path, headers=headers)
                response = conn.getresponse()
                response.read()
                times.append(time.perf_counter() - started)
                local[response.status] += 1
            conn.close()
            with lock:
                statuses.update(local)
                latencies.extend(times)

        threads = [threading.Thread(target=resident, args=(i,)) for i in range(RESIDENTS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return statuses, time.perf_counter() - started, latencies

    load = os.getloadavg()[0]
    first, seconds, latencies = wave()
    with hub:
        counts = [selectors.support_count(idea=idea) for idea in ideas]
    total = RESIDENTS * PROJECTS
    workers = f"{GUNICORN_WORKERS} sync workers" if mode.startswith("gunicorn") else f"{WORKERS} threads"
    print(
        f"\nneeds supports [{mode}, {workers}, load {load:.1f}]: {RESIDENTS} residents x {PROJECTS} projects = "
        f"{total} supports over HTTP in {seconds:.1f} s = {total / seconds:.0f} supports/s; "
        f"p50 {_percentile(latencies, 0.5):.0f} ms, p95 {_percentile(latencies, 0.95):.0f} ms; "
        f"{queries} queries per support{' with this checkout (not the base)' if mode == 'gunicorn-base' else ''}; "
        f"statuses {dict(first)}; every project exactly {RESIDENTS}: "
        f"{set(counts) == {RESIDENTS}}"
    )
    assert first == Counter({201: total}), first
    assert counts == [RESIDENTS] * PROJECTS
    again, seconds2, latencies2 = wave()
    print(
        f"duplicate wave [{mode}]: {dict(again)} in {seconds2:.1f} s = {total / seconds2:.0f} refusals/s; "
        f"p50 {_percentile(latencies2, 0.5):.0f} ms, p95 {_percentile(latencies2, 0.95):.0f} ms"
    )
    assert again == Counter({409: total})
    with hub:
        assert [selectors.support_count(idea=idea) for idea in ideas] == [RESIDENTS] * PROJECTS
