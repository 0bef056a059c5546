"""What a queue worker loads: each worker holds the app's imports once in its main process and
again in the work horse it forks for every job, against a memory bar (issue 15), so the
libraries only a few web pages use are imported where they are used, not with the app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# openpyxl: spreadsheet import and export; pypdf: merged letters; alembic: migrations.
ON_USE = ("openpyxl", "pypdf", "alembic")

_PROBE = """
import json, sys
from trace_service import create_app
from trace_service.queue import tasks, worker
app = create_app({"DATABASE_URL": sys.argv[1], "KEYS_DIR": sys.argv[2]})
tasks.bind_app(app)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_does_a_worker_start_without_the_libraries_only_some_pages_use(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, url, str(tmp_path / "keys")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "flask" in loaded  # the probe did build the app
    assert loaded.isdisjoint(ON_USE), loaded & set(ON_USE)
