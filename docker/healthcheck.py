"""Container health check for the Huoban image (Docker HEALTHCHECK; Kubernetes uses its own probes).

The web role is healthy when GET /healthz answers 200. The request carries the base domain from HUOBAN_SITE_URL
as its Host header, because the app answers only the base domain and known hub hosts; with HUOBAN_SSL_REDIRECT
on it also says X-Forwarded-Proto: https so the check is not redirected. Other roles (worker, beat, migrate)
have no HTTP server: they count as healthy while their process runs.

Exit 0 when healthy, 1 when not. Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from email.message import Message as HTTPMessage
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

WEB_ROLES = {"web", "serve"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not something to follow: following it could leave this container."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def current_role() -> str:
    role_file = Path(os.environ.get("TMPDIR") or "/tmp") / "huoban-role"  # noqa: S108
    try:
        return role_file.read_text(encoding="utf-8").strip() or "web"
    except OSError:
        return "web"


def check_web() -> int:
    site = urlsplit(os.environ.get("HUOBAN_SITE_URL", "http://huoban.localhost:8000"))
    host = site.hostname or "localhost"
    port = os.environ.get("HUOBAN_HEALTHCHECK_PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host, "X-Forwarded-Proto": site.scheme or "http", "User-Agent": "huoban-healthcheck"},
    )
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=4) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0 if healthy else 1


def main() -> int:
    if current_role() in WEB_ROLES:
        return check_web()
    return 0


if __name__ == "__main__":
    sys.exit(main())
