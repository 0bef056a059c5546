#!/usr/bin/env python3
"""Dependency audit: pip-audit over a lock file against PyPI's advisory data.

Exit 0 when no locked package has a known vulnerability (besides those in the reviewed
ignore list), 1 when one has, and 0 with a plain message when the advisory service cannot
be reached or does not answer (a machine without it must still be able to run CI; the
message says the audit did not happen). An ignore entry past its ``look_again`` date is no
longer applied: the advisory fails the run again until someone reviews it.

    .venv/bin/python scripts/audit_deps.py [--lock requirements-dev.lock]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# What pip-audit prints when it cannot talk to the service (it raises rather than reporting).
_UNREACHABLE = (
    "ConnectionError",
    "ConnectTimeout",
    "ProxyError",
    "ReadTimeout",
    "SSLError",
    "ServiceError",
    "Max retries exceeded",
    "Could not connect",
    "not redirecting properly",
)


def read_ignores(path: Path, today: datetime.date) -> tuple[list[str], list[str]]:
    """The advisory ids to ignore today, and notes on entries whose date has passed.
    Every entry needs ``id``, ``package``, ``reason`` and a ``look_again`` date."""
    if not path.exists():
        return [], []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    active, expired = [], []
    for number, entry in enumerate(data.get("ignore", []), 1):
        missing = {"id", "package", "reason", "look_again"} - entry.keys()
        if missing or not isinstance(entry.get("look_again"), datetime.date):
            raise SystemExit(
                f"{path.name}: entry {number} needs id, package, reason and a look_again date"
                f" (YYYY-MM-DD); missing or wrong: {sorted(missing) or ['look_again']}"
            )
        if entry["look_again"] < today:
            expired.append(
                f"{entry['id']} ({entry['package']}) was to be looked at again by "
                f"{entry['look_again']}: it is no longer ignored until reviewed"
            )
        else:
            active.append(str(entry["id"]))
    return active, expired


def run_pip_audit(lock: Path, ignores: list[str], timeout: int, cache_dir: str | None) -> Any:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(lock),
        "--require-hashes",
        "--disable-pip",  # the lock is complete and hashed: nothing to resolve
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        str(timeout),
    ]
    command += ["--cache-dir", cache_dir] if cache_dir else []
    for advisory in ignores:
        command += ["--ignore-vuln", advisory]
    # The command is this script's own; the ids come from the reviewed ignore file.
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements-dev.lock")
    parser.add_argument("--ignore-file", type=Path, default=ROOT / "pip-audit-ignore.toml")
    parser.add_argument("--timeout", type=int, default=15, help="seconds per request")
    parser.add_argument("--cache-dir", help="pip-audit's HTTP cache (default: pip's)")
    args = parser.parse_args(argv)

    ignores, expired = read_ignores(args.ignore_file, datetime.date.today())
    for note in expired:
        print(f"dependency audit: {note}")
    done = run_pip_audit(args.lock, ignores, args.timeout, args.cache_dir)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        if any(marker in done.stderr for marker in _UNREACHABLE):
            last = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
            print(
                "dependency audit: NOT DONE - PyPI's advisory service could not be reached "
                f"({last[0][:200]}); not failing the run for that."
            )
            return 0
        print(done.stderr, file=sys.stderr)
        print(f"dependency audit: pip-audit failed (exit {done.returncode})", file=sys.stderr)
        return 2

    packages = report.get("dependencies", [])
    skipped = [p for p in packages if "skip_reason" in p]
    vulnerable = [p for p in packages if p.get("vulns")]
    for package in vulnerable:
        for vuln in package["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            print(
                f"dependency audit: {package['name']}=={package['version']} has {vuln['id']}"
                + (f" (also {aliases})" if aliases else "")
                + f", fixed in: {fixes}: {vuln.get('description', '')[:200]}"
            )
    if vulnerable:
        print(
            "dependency audit: FAILED - upgrade the pins in requirements*.txt and run "
            "./scripts/lock, or, if an advisory does not apply, add it to "
            f"{args.ignore_file.name} with the reason and a date to look again."
        )
        return 1
    if skipped and len(skipped) == len(packages):
        print(
            f"dependency audit: NOT DONE - PyPI's advisory service answered for none of the "
            f"{len(packages)} locked packages ({skipped[0]['skip_reason']}); "
            "not failing the run for that."
        )
        return 0
    note = f"; {len(skipped)} could not be looked up" if skipped else ""
    print(f"dependency audit: no known vulnerability in {len(packages)} locked packages{note}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
