"""The ``huoban`` operator CLI.

    huoban serve [--port 8000] [--demo]   migrate, optionally seed the demo, then serve (gunicorn)
    huoban worker | beat                  Celery worker / scheduler (needs REDIS_URL)
    huoban hub create SLUG --name ...     provision one hub
    huoban hub export SLUG ARCHIVE        write one hub's portable archive (--with-files for the bytes)
    huoban hub import ARCHIVE --slug NEW  restore an archive as a new hub (all or nothing)
    huoban hubs migrate                   migrate the public schema, the template, then every hub in parallel
    huoban demo                           seed two demo hubs shaped like the Sichuan and Shangcheng hubs
    huoban manage ARGS...                 any Django management command

With no DATABASE_URL, every command starts (or reuses) the embedded PostgreSQL under HUOBAN_HOME.
"""

from __future__ import annotations

import argparse
import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huoban.settings")
    import django

    django.setup()


def _call(name: str, *args: str) -> None:
    from django.core.management import CommandError, call_command

    try:
        call_command(name, *args)
    except CommandError as exc:  # a clear line, not a traceback
        sys.exit(f"huoban: {exc}")


def _serve(options: argparse.Namespace) -> None:
    from django.conf import settings

    if not options.no_migrate:
        _call("hubs_migrate", "--quiet")
    if options.demo:
        _call("demo")
    if options.dev:
        _call("runserver", f"{options.host}:{options.port}")
        return
    if not options.no_collectstatic:
        _call("collectstatic", "--noinput", "--verbosity", "0")
    from gunicorn.app.wsgiapp import WSGIApplication

    workers = options.workers or (1 if settings.HUOBAN_EMBEDDED_DATABASE else 2 * (os.cpu_count() or 1) + 1)
    sys.argv = [
        "gunicorn",
        "huoban.wsgi:application",
        "--bind",
        f"{options.host}:{options.port}",
        "--workers",
        str(workers),
        "--threads",
        str(options.threads),
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        "*",
        "--timeout",
        "60",
    ]
    print(f"Huoban is serving on {settings.HUOBAN_SITE_URL}/ (hubs on <slug>.{settings.HUOBAN_BASE_DOMAIN})")
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()


def _celery(kind: str, extra: list[str]) -> None:
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("REDIS_URL (or CELERY_BROKER_URL) is not set: tasks run inside the web process; no worker needed.")
    from huoban.celery import app

    if kind == "worker":
        app.worker_main(["worker", "--loglevel=INFO", *extra])
    else:
        app.start(["beat", "--loglevel=INFO", *extra])


PASSTHROUGH = {
    ("hub", "create"): "hub_create",
    ("hub", "export"): "hub_export",
    ("hub", "import"): "hub_import",
    ("hubs", "migrate"): "hubs_migrate",
    ("demo",): "demo",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huoban",
        description="Huoban operator CLI",
        epilog="Also: huoban worker|beat [celery options], huoban hub create SLUG ..., huoban hubs migrate [...], "
        "huoban demo, huoban manage COMMAND [...]",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate and serve the web application")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 (a server's job is to listen)
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "0") or 0))
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--no-migrate", action="store_true")
    serve.add_argument("--no-collectstatic", action="store_true", help="static files were collected at build time")
    serve.add_argument("--demo", action="store_true", help="seed the demo hubs first")
    serve.add_argument("--dev", action="store_true", help="Django's autoreloading development server")
    for name in ("worker", "beat", "hub", "hubs", "demo", "manage"):
        sub.add_parser(name)
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    head = argv[0] if argv else ""
    # Sub-commands that hand their options on (to Celery or a management command) are dispatched before
    # argparse, which would otherwise reject the options it does not know.
    if head in ("worker", "beat", "manage", "demo", "hub", "hubs"):
        _setup()
        rest = argv[1:]
        if head in ("worker", "beat"):
            _celery(head, rest)
        elif head == "manage":
            from django.core.management import execute_from_command_line

            execute_from_command_line(["huoban", *rest])
        else:
            key = (head, rest[0]) if head in ("hub", "hubs") and rest else (head,)
            command = PASSTHROUGH.get(key)
            if command is None:
                sys.exit(f"huoban {head}: unknown sub-command; see huoban --help")
            _call(command, *(rest[1:] if head in ("hub", "hubs") else rest))
        return
    options = build_parser().parse_args(argv)
    if options.command == "serve" and "HUOBAN_SITE_URL" not in os.environ:
        # Hub links carry the port the demo really listens on.
        os.environ["HUOBAN_SITE_URL"] = f"http://huoban.localhost:{options.port}"
    _setup()
    _serve(options)


if __name__ == "__main__":
    main()
