"""The load driver (infra/load) stays loadable: locust imports the locustfile and finds the journeys' users.
(The load run itself is not part of the test suite; see docs/benchmarks.md.)"""

from __future__ import annotations

import importlib.util
import json
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
    assert {"Visitor", "Staff", "Applicant", "Treasurer"} <= set(listed.stdout.split())
