"""The committed test vectors (docs/test-vectors.json) and what every verifier must answer."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from ocop_verify.offline import Result, verify
from ocop_verify.snapshot import Snapshot, load_snapshot
from ocop_verify.trustlist import TrustList, load_trust_list, parse_root_key

VECTORS_FILE = Path(__file__).resolve().parents[2] / "docs" / "test-vectors.json"


@cache
def vectors() -> dict[str, Any]:
    return json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


def root_key() -> bytes:
    return parse_root_key(vectors()["root_public_key"])


def trust_list() -> TrustList:
    return load_trust_list(vectors()["trust_list"], root_key())


def now_of(vector: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(vector.get("now", vectors()["now"]))


def as_of(vector: dict[str, Any]) -> date | None:
    """The vector's day; None means Vietnam's day at its ``now``."""
    return date.fromisoformat(vector["as_of"]) if "as_of" in vector else None


def snapshot_for(vector: dict[str, Any]) -> Snapshot | None:
    if vector.get("snapshot") is False:
        return None
    return load_snapshot(vectors()["snapshot"], trust_list(), now_of(vector))


def python_verdict(vector: dict[str, Any]) -> Result:
    return verify(
        vector["input"],
        trust_list(),
        snapshot_for(vector),
        now=now_of(vector),
        as_of=as_of(vector),
    )


def differences(expected: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The expected fields an answer gets wrong: {field: (expected, answer)}."""
    return {
        key: (value, answer.get(key)) for key, value in expected.items() if answer.get(key) != value
    }


_POOL = "0123456789ABCZ/?=%.-_ azĐ\u0663\t"


def mutated_corpus(count: int = 240) -> list[str]:
    """Codes made from the genuine vectors by one or two small changes (a character
    replaced, dropped, added or swapped; the S number moved by one; a piece repeated or cut
    off), none of which any verifier may call genuine. Deterministic, so every verifier
    sees the same corpus. Changes a phone makes harmlessly (the case of scheme and host)
    and changes to a shared link's unsigned parameters (which every verifier drops) are
    left out."""
    import random

    from ocop_verify.label import Malformed, signed_only
    from ocop_verify.label import as_printed as printed

    def as_printed(text: str) -> str:
        """What a verifier judges of ``text``: the same for a harmless change."""
        try:
            return signed_only(printed(text))
        except Malformed:  # two S: kept whole, it is in the corpus
            return text

    rng = random.Random(13)  # noqa: S311 - a fixed corpus, not a secret
    sources = [v["input"] for v in vectors()["labels"] if v["expected"]["verdict"] == "genuine"]
    sources = sorted(set(sources))
    corpus: list[str] = []
    seen = {as_printed(s) for s in sources}

    def one(text: str) -> str:
        i = rng.randrange(len(text))
        kind = rng.randrange(7)
        if kind == 0:
            return text[:i] + rng.choice(_POOL) + text[i + 1 :]
        if kind == 1:
            return text[:i] + text[i + 1 :]
        if kind == 2:
            return text[:i] + rng.choice(_POOL) + text[i:]
        if kind == 3 and i + 1 < len(text):
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        head, _, data = text.partition("?S=")
        if kind == 4 and data.isascii() and data.isdigit():
            return f"{head}?S={int(data) + rng.choice((-1, 1, 10**80)):0{len(data)}d}"
        if kind == 5:
            return text[:i]
        return text[:i] + text[i : i + rng.randrange(1, 8)] + text[i:]

    while len(corpus) < count:
        text = one(rng.choice(sources))
        if rng.random() < 0.2 and text:
            text = one(text)
        if as_printed(text) not in seen:
            seen.add(as_printed(text))
            corpus.append(text)
    return corpus
