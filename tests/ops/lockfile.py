"""Reading the requirement inputs (``requirements*.txt``) and their lock files
(``requirements*.lock``, made by ``./scripts/lock``) to tell whether they still agree."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


def input_pins(path: Path) -> dict[str, Version]:
    """``name -> version`` of every ``name==version`` line of an input and the inputs it
    includes with ``-r``. A requirement that is not pinned exactly is an error: the inputs
    are reviewed pins, the lock only adds what they pull in."""
    pins: dict[str, Version] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            pins.update(input_pins(path.parent / line[2:].strip()))
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise ValueError(f"{path.name}: {line!r} is not pinned with ==")
        pins[canonicalize_name(req.name)] = Version(specs[0].version)
    return pins


_LOCK_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def lock_entries(path: Path) -> dict[str, list[tuple[Version, int]]]:
    """``name -> [(version, number of hashes)]`` of a lock (one name may be locked twice,
    under exclusive environment markers)."""
    entries: dict[str, list[tuple[Version, int]]] = {}
    current: list[tuple[Version, int]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _LOCK_ENTRY.match(line)
        if match:
            current = entries.setdefault(canonicalize_name(match.group(1)), [])
            current.append((Version(match.group(3)), 0))
        elif "--hash=sha256:" in line and current:
            version, hashes = current[-1]
            current[-1] = (version, hashes + line.count("--hash=sha256:"))
        elif line and not line.startswith((" ", "#")):
            raise ValueError(f"{path.name}: cannot read {line!r}")
    return entries


def mismatches(inputs: Path, lock: Path) -> list[str]:
    """What makes ``lock`` stale for ``inputs``, in words; empty when they agree."""
    problems = []
    entries = lock_entries(lock)
    for name, version in sorted(input_pins(inputs).items()):
        locked = [v for v, _ in entries.get(name, [])]
        if version not in locked:
            found = ", ".join(map(str, locked)) or "nothing"
            problems.append(f"{inputs.name} pins {name}=={version}; {lock.name} has {found}")
    for name, versions in sorted(entries.items()):
        for version, hashes in versions:
            if hashes == 0:
                problems.append(f"{lock.name}: {name}=={version} has no hash")
    return problems
