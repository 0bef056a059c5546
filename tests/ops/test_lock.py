"""The lock files that scripts/_venv.sh installs agree with the inputs people edit: every
pin of requirements*.txt is locked at the same version, every locked package has hashes,
and the development lock installs the same runtime as the runtime lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.lockfile import lock_entries, mismatches

ROOT = Path(__file__).resolve().parents[2]
REMEDY = "run ./scripts/lock and commit the .lock files"


@pytest.mark.parametrize("name", ["requirements", "requirements-dev"])
def test_lock_matches_its_inputs(name: str) -> None:
    problems = mismatches(ROOT / f"{name}.txt", ROOT / f"{name}.lock")
    assert not problems, f"{REMEDY}:\n" + "\n".join(problems)


def test_development_lock_installs_the_runtime_lock() -> None:
    runtime = lock_entries(ROOT / "requirements.lock")
    dev = lock_entries(ROOT / "requirements-dev.lock")
    differ = {name for name, versions in runtime.items() if dev.get(name) != versions}
    assert not differ, f"{REMEDY}: runtime packages locked differently: {sorted(differ)}"


def test_install_uses_the_lock_with_hashes() -> None:
    venv = (ROOT / "scripts" / "_venv.sh").read_text(encoding="utf-8")
    assert "--require-hashes" in venv
    assert 'lock="${1%.txt}.lock"' in venv


def test_a_stale_lock_is_caught(tmp_path: Path) -> None:
    """The check can fail: a pin moved in the input, and a lock entry without hashes."""
    (tmp_path / "in.txt").write_text("flask==3.1.3\n# comment\nrequests==2.0.0\n")
    (tmp_path / "in.lock").write_text(
        "# header\nflask==3.1.3 \\\n    --hash=sha256:" + "0" * 64 + "\n"
        "    # via -r in.txt\nrequests==2.32.0\n"
    )
    problems = mismatches(tmp_path / "in.txt", tmp_path / "in.lock")
    assert problems == [
        "in.txt pins requests==2.0.0; in.lock has 2.32.0",
        "in.lock: requests==2.32.0 has no hash",
    ]
    (tmp_path / "loose.txt").write_text("flask>=3\n")
    with pytest.raises(ValueError, match="not pinned"):
        mismatches(tmp_path / "loose.txt", tmp_path / "in.lock")
