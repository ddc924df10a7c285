"""Drive Huoban with locust at rising user counts against gunicorn on a seeded database; print p50/p95 per
journey, the error rate, throughput and the RSS of each gunicorn worker.

    python infra/load/run.py --database-url postgresql://postgres@127.0.0.1:5432/huoban_bench --fresh \\
        --workers 2 --users 10,20 --duration 30 --every-journey

--fresh drops and re-creates that database first (never point it at data you keep). Needs the dev extras
(locust). --every-journey gives each back-office journey (directory, apply, review, support, claim, disburse) one
user and the visitors the rest; without it users are spread by the classes' weights. A short run of it (eight
users, every journey) is part of the test suite (tests/infra/test_load_driver.py).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _rss_sampler(master: psutil.Process, stop: threading.Event, peaks: dict[int, int]) -> None:
    while not stop.is_set():
        for child in master.children():
            with contextlib.suppress(psutil.Error):
                peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the database, then seed it")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--users", default="5,10,20", help="comma-separated concurrent users, one run each")
    parser.add_argument("--duration", type=int, default=30, help="seconds per run")
    parser.add_argument("--ngos", type=int, default=60)
    parser.add_argument("--residents", type=int, default=100, help="resident accounts that support ideas on notice")
    parser.add_argument("--every-journey", action="store_true", help="one user per back-office journey")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="huoban-load-"))
    seed_file = work / "seed.json"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("HUOBAN_TESTING", "REDIS_URL", "CELERY_BROKER_URL")},
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HUOBAN_HOME": str(work / "home"),
        "HUOBAN_LOG_LEVEL": "WARNING",
        # every simulated user comes from 127.0.0.1: per-IP limits would measure the limiter, not the site
        "HUOBAN_DISCOVER_RATE": "1000000/m",
        "HUOBAN_DISCOVER_API_RATE": "1000000/m",
        "HUOBAN_NEEDS_CODE_RATE": "1000000/m",
        "HUOBAN_NEEDS_VERIFY_RATE": "1000000/m",
        "HUOBAN_NEEDS_SUBMIT_RATE": "1000000/m",
        "HUOBAN_NEEDS_SUPPORT_RATE": "1000000/m",
    }
    if args.fresh:
        _recreate(args.database_url)
    subprocess.run(
        [
            *(sys.executable, str(HERE / "seed.py"), "--ngos", str(args.ngos), "--residents", str(args.residents)),
            *("--review-applications", str(min(10, args.ngos)), "--out", str(seed_file)),
        ],
        env=env,
        check=True,
    )

    port = _free_port()
    gunicorn = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "huoban.wsgi:application", "--bind", f"127.0.0.1:{port}"),
            *("--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "60"),
        ],
        cwd=REPO,
        env=env,
        stdout=(work / "gunicorn.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    host = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{host}/livez", headers={"Host": "huoban.localhost"}, timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or gunicorn.poll() is not None:
                    sys.exit(f"gunicorn did not start; see {work / 'gunicorn.log'}")
                time.sleep(0.5)
        master = psutil.Process(gunicorn.pid)
        print(f"gunicorn: {args.workers} workers × {args.threads} threads; {args.duration} s per step; work in {work}")
        steps = [int(u) for u in args.users.split(",")]
        for step, users in enumerate(steps):
            prefix = work / f"u{users}"
            stop, peaks = threading.Event(), {}
            sampler = threading.Thread(target=_rss_sampler, args=(master, stop, peaks), daemon=True)
            sampler.start()
            subprocess.run(
                [
                    *(sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless"),
                    *("-u", str(users), "-r", str(max(1, users // 2)), "--run-time", f"{args.duration}s"),
                    *("--host", host, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"),
                ],
                env={
                    **env,
                    "LOAD_SEED": str(seed_file),
                    "LOAD_STEP": f"{step}/{len(steps)}",  # each step supports with its own share of the residents
                    **({"LOAD_EVERY_JOURNEY": "1"} if args.every_journey else {}),
                },
                cwd=work,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=(work / f"locust-u{users}.log").open("w"),
            )
            stop.set()
            sampler.join()
            _report(users, prefix, peaks)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


def _report(users: int, prefix: Path, peaks: dict[int, int]) -> None:
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    print(f"\n## {users} users")
    print(f"{'journey / request':44} {'reqs':>6} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>6}")
    for row in rows:
        name = "TOTAL" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"{name:44} {row['Request Count']:>6} {row['Failure Count']:>5} {row['50%']:>7} {row['95%']:>7} "
            f"{float(row['Requests/s']):>6.1f}"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    requests_made, failures = int(total["Request Count"]), int(total["Failure Count"])
    print(f"error rate: {100 * failures / max(1, requests_made):.2f}%")
    print("peak RSS per worker (MiB): " + ", ".join(f"{rss / 2**20:.0f}" for rss in sorted(peaks.values())))


if __name__ == "__main__":
    main()
