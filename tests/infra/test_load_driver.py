"""The load driver (infra/load) stays loadable: locust imports the locustfile and finds the journeys' users.
A short load run (eight users, one per back-office journey, eight seconds, no errors allowed, every journey
must have run) is part of the suite; the measured runs are in docs/benchmarks.md."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_locust_lists_the_journeys_of_the_locustfile(tmp_path):
    if importlib.util.find_spec("locust") is None:  # never import it here: it patches the standard library
        pytest.skip("locust is not installed (dev extras)")
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "hub_host": "sichuan.huoban.localhost",
                "base_host": "huoban.localhost",
                "call": 1,
                "accounts": {"LOAD-BANK": 1, "LOAD-DONATIONS": 2, "LOAD-GRANTS": 3},
                "staff_token": "hb_x",
                "treasurer_token": "hb_y",
                "ngos": [{"token": "hb_z", "organisation": 1}],
                "review": {
                    "criteria": [{"id": 1, "max_score": 10}],
                    "reviewers": [{"token": "hb_r", "assignments": [1]}],
                },
                "notice": {"round": 1, "ideas": [1], "residents": ["hb_s"]},
                "fair": {"fair": 1, "idea": 2, "funders": [{"token": "hb_f", "organisation": 2}]},
            }
        )
    )
    # In a subprocess: locust monkey-patches the standard library with gevent when imported.
    listed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "infra" / "load" / "locustfile.py"), "--list"],
        env={"LOAD_SEED": str(seed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert {"Visitor", "Staff", "Applicant", "Reviewer", "Supporter", "Funder", "Treasurer"} <= set(
        listed.stdout.split()
    )


JOURNEYS = ("browse", "discover", "directory", "apply", "review", "support", "claim", "disburse")
# one user each with --every-journey, so each surely runs in a short run; the two visitors pick browse or discover
# tasks at random, so only one of those two is certain
ONE_USER_EACH = {"directory", "apply", "review", "support", "claim", "disburse"}


@pytest.mark.timeout(900)
def test_a_short_load_run_finishes_without_errors(django_db_setup):  # type: ignore[no-untyped-def]
    """The short form of the load run CI keeps: a fresh database seeded by infra/load/seed.py, gunicorn with two
    workers, locust with eight users (one per back-office journey, two visitors) for a few seconds. Every journey
    must have run and every request succeed; the figures are printed (the real measurement, with rising users,
    is in docs/benchmarks.md)."""
    if importlib.util.find_spec("locust") is None:
        pytest.skip("locust is not installed (dev extras)")
    from django.conf import settings

    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_load"
    url = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    try:
        run = subprocess.run(
            [
                *(sys.executable, str(ROOT / "infra/load/run.py"), "--database-url", url, "--fresh"),
                *("--workers", "2", "--users", "8", "--duration", "8", "--ngos", "3", "--residents", "6"),
                "--every-journey",
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=840,
        )
        print(run.stdout)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        total = next(line for line in run.stdout.splitlines() if line.startswith("TOTAL"))
        requests_made, failures = (int(x) for x in total.split()[1:3])
        assert requests_made > 0 and failures == 0, run.stdout
        assert "error rate: 0.00%" in run.stdout
        ran: dict[str, int] = {}
        for line in run.stdout.splitlines():
            journey, _sep, rest = line.partition(":")
            if journey in JOURNEYS and rest:
                reqs, fails = (int(x) for x in rest.split()[-5:-3])
                assert fails == 0, line
                ran[journey] = ran.get(journey, 0) + reqs
        done = {j for j, n in ran.items() if n > 0}
        assert done >= ONE_USER_EACH and done & {"browse", "discover"}, run.stdout
    finally:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
