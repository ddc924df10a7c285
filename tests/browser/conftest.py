"""A real server in a thread (its requests commit, like production) and Debian's headless Chromium."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def live_site(committed_db, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    port = server.server_address[1]
    settings.HUOBAN_SITE_URL = f"http://huoban.localhost:{port}"
    settings.HUOBAN_URL_PORT = port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield settings.HUOBAN_SITE_URL
    finally:
        server.shutdown()
        server.server_close()
        # Idle connections that request threads leave behind are ended when the session drops the test
        # database (tests/conftest.py), not here: other connections of this run may still be in use.


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium package is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP huoban.localhost 127.0.0.1, MAP *.huoban.localhost 127.0.0.1",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
