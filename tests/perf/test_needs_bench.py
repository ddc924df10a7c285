"""Benchmark: 200 concurrent residents supporting 50 projects over HTTP against a real threaded server.

Run with ``make bench`` or ``pytest tests/perf/test_needs_bench.py -s``. Every resident supports every project
once, through ``POST /api/v1/needs/rounds/<id>/ideas/<id>/support`` with a verified session; afterwards every
idea must have exactly 200 supports (no lost or doubled counts), and a second wave of the same requests must all
be refused as duplicates. Prints sustained supports per second.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections import Counter
from importlib import import_module

import pytest
from django.conf import settings as django_settings

from hubs.needs import selectors
from tenants.models import Hub
from tests.needs.conftest import _Cast, idea_walk, open_round, verified_resident

RESIDENTS = int(os.environ.get("NEEDS_BENCH_RESIDENTS", "200"))
PROJECTS = int(os.environ.get("NEEDS_BENCH_PROJECTS", "50"))
WORKERS = int(os.environ.get("NEEDS_BENCH_WORKERS", "16"))


@pytest.fixture
def server(committed_db, settings):  # type: ignore[no-untyped-def]
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    settings.HUOBAN_NEEDS_SUPPORT_RATE = "1000000/m"
    settings.DEBUG = False
    srv = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=True)
    srv.request_queue_size = 512
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


def test_residents_support_projects_concurrently(server) -> None:  # type: ignore[no-untyped-def]
    from huoban.identity.models import User

    hub = Hub.objects.get(slug="sichuan")
    cast = _Cast(User.objects.get(email="staff@a.test"), User.objects.get(email="reviewer@a.test"))
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    with hub:
        notice_round = open_round(None, title="压测公示")
        ideas = [idea_walk(cast, "on_notice", notice_round=notice_round, budget=100_000) for _ in range(PROJECTS)]
        stamp = int(time.time()) % 10**4
        cookies = []
        for i in range(RESIDENTS):
            resident = verified_resident(f"186{stamp:04d}{i:04d}")
            session = store()
            session[f"needs_resident_id:{hub.pk}"] = resident.pk
            session.create()
            cookies.append(session.session_key)
    paths = [f"/api/v1/needs/rounds/{notice_round.pk}/ideas/{idea.pk}/support" for idea in ideas]

    def wave() -> tuple[Counter[int], float]:
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        barrier = threading.Barrier(RESIDENTS)

        def resident(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server, timeout=900)
            headers = {
                "Host": hub.host,
                "Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookies[i]}",
                "Content-Length": "0",
            }
            local: Counter[int] = Counter()
            barrier.wait()
            for path in paths:
                conn.request("POST", path, headers=headers)
                response = conn.getresponse()
                response.read()
                local[response.status] += 1
            conn.close()
            with lock:
                statuses.update(local)

        threads = [threading.Thread(target=resident, args=(i,)) for i in range(RESIDENTS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return statuses, time.perf_counter() - started

    first, seconds = wave()
    with hub:
        counts = [selectors.support_count(idea=idea) for idea in ideas]
    total = RESIDENTS * PROJECTS
    print(
        f"\nneeds supports: {RESIDENTS} residents x {PROJECTS} projects = {total} supports over HTTP "
        f"in {seconds:.1f} s "
        f"= {total / seconds:.0f} supports/s; statuses {dict(first)}; every project exactly {RESIDENTS}: "
        f"{set(counts) == {RESIDENTS}}"
    )
    assert first == Counter({201: total}), first
    assert counts == [RESIDENTS] * PROJECTS
    again, seconds2 = wave()
    print(f"duplicate wave: {dict(again)} in {seconds2:.1f} s = {total / seconds2:.0f} refusals/s")
    assert again == Counter({409: total})
    with hub:
        assert [selectors.support_count(idea=idea) for idea in ideas] == [RESIDENTS] * PROJECTS
