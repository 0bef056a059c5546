"""``ocop-verify``: check OCOP stamps with no network, against a trust list and a snapshot.

    ocop-verify --trust-list ocop-trust-list.json --snapshot ocop-snapshot.json URL…
    ocop-verify --trust-list … --snapshot … --file urls.txt --photo stamp.jpg

One verdict per line, in the order given: colour, verdict, what it means, the facts, the
text checked (``--json``: one JSON object per line). Exit status, by the worst line:

    0  every stamp green          1  the worst is amber (copied? stale data?)
    2  the worst is red           3  the trust list, snapshot or an input file is unusable
    4  wrong usage

The root key the trust list must be signed by is pinned with ``--root-key`` (base64url, or a
file as ``flask keys root`` prints it); without it, ``<trust list>.root.json`` beside the
trust list is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ocop_verify.offline import HEADLINES, VIETNAM, Result, verify, worst
from ocop_verify.snapshot import Snapshot, SnapshotError, load_snapshot
from ocop_verify.trustlist import TrustList, TrustListError, load_trust_list, parse_root_key

EXIT = {"green": 0, "amber": 1, "red": 2}
EXIT_UNUSABLE, EXIT_USAGE = 3, 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


class Unusable(Exception):
    """An input the command cannot work with: exit 3 with this message."""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ocop-verify",
        description="Kiểm tra tem OCOP không cần mạng / Check OCOP stamps offline.",
        epilog="Exit status: 0 all green, 1 worst amber, 2 worst red, 3 unusable trust list, "
        "snapshot or file, 4 wrong usage.",
    )
    parser.add_argument("urls", nargs="*", metavar="URL", help="scanned text of a stamp")
    parser.add_argument(
        "-f",
        "--file",
        type=Path,
        action="append",
        default=[],
        help="a text file of scanned texts, one a line ('-': standard input)",
    )
    parser.add_argument(
        "-p",
        "--photo",
        type=Path,
        action="append",
        default=[],
        help="a photo of stamps (needs: pip install '.[photo]')",
    )
    parser.add_argument(
        "-t",
        "--trust-list",
        type=Path,
        required=True,
        help="the trust list (/.well-known/ocop-trust-list.json)",
    )
    parser.add_argument(
        "-r",
        "--root-key",
        help="pinned root key: base64url (write --root-key=KEY, as a key may "
        "begin with '-'), or a JSON file from 'flask keys root'",
    )
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("-s", "--snapshot", type=Path, help="the signed snapshot")
    data.add_argument(
        "--no-snapshot",
        action="store_true",
        help="signatures only (every genuine stamp is amber: status unknown)",
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="judge on this day (YYYY-MM-DD); default: today in Vietnam",
    )
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        help="the time freshness is judged at (ISO 8601 with offset); "
        "default: this computer's clock",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    return parser


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unusable(f"cannot read the {what} {path}: {exc}") from exc


def _root_key(option: str | None, trust_list_path: Path) -> bytes:
    if option is None:
        companion = trust_list_path.with_name(trust_list_path.name.removesuffix(".json"))
        companion = companion.with_name(companion.name + ".root.json")
        if not companion.exists():
            raise Unusable(
                f"no pinned root key: give --root-key, or put {companion.name} (from "
                "'flask keys root') beside the trust list"
            )
        value: Any = _read_json(companion, "root key")
    elif Path(option).is_file():
        value = _read_json(Path(option), "root key")
    else:
        value = option
    try:
        return parse_root_key(value)
    except (ValueError, AttributeError) as exc:
        raise Unusable(f"the root key is not usable: {exc}") from exc


def _load(args: argparse.Namespace, now: datetime) -> tuple[TrustList, Snapshot | None]:
    listed = _read_json(args.trust_list, "trust list")
    root = _root_key(args.root_key, args.trust_list)
    try:
        trust_list = load_trust_list(listed, root)
        if args.no_snapshot:
            return trust_list, None
        document = _read_json(args.snapshot, "snapshot")
        return trust_list, load_snapshot(document, trust_list, now)
    except (TrustListError, SnapshotError) as exc:
        raise Unusable(str(exc)) from exc


def _texts(args: argparse.Namespace) -> Iterator[tuple[str, str | None]]:
    """(text, problem) pairs in the order given: URLs, files' lines, photos' codes."""
    for url in args.urls:
        yield url, None
    for path in args.file:
        try:
            handle = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
            with handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise Unusable(f"cannot read {path}: {exc}") from exc
        yield from ((line.strip(), None) for line in lines if line.strip())
    for path in args.photo:
        from ocop_verify.photo import decode_photo

        try:
            codes = decode_photo(path)
        except OSError as exc:
            raise Unusable(f"cannot read the photo {path}: {exc}") from exc
        yield from ((code, None) for code in codes)
        if not codes:
            yield str(path), "no QR code found in the photo"


def _facts(result: Result) -> str:
    parts = []
    if result.product_name:
        parts.append(f"{result.product_name} — {result.producer_name or '?'}")
    if result.certificate_status:
        until = f" {result.valid_until:%d/%m/%Y}" if result.valid_until else ""
        number = f" {result.certificate_number}" if result.certificate_number else ""
        parts.append(f"GCN{number}: {result.certificate_status}{until}")
    if result.label_state:
        since = f" {result.label_since:%d/%m/%Y}" if result.label_since else ""
        parts.append(f"tem: {result.label_state}{since}")
    if result.recalled_since:
        parts.append(f"thu hồi từ {result.recalled_since:%d/%m/%Y} ({result.recall_decision})")
    if result.key_status and result.key_status != "active":
        parts.append(f"khóa: {result.key_status}")
    if result.data_at:
        parts.append(f"dữ liệu lúc {result.data_at.astimezone(VIETNAM):%H:%M %d/%m/%Y}")
    if result.stale:
        parts.append(f"cũ: {result.stale}")
    return " · ".join(parts) or "-"


def _line(result: Result, args: argparse.Namespace) -> str:
    if args.json:
        return json.dumps({**result.to_json(), "input": result.text}, ensure_ascii=False)
    message = HEADLINES[result.headline][0 if args.lang == "vi" else 1]
    text = result.text.replace("\n", "\\n").replace("\t", "\\t")
    return "\t".join((result.colour.upper(), result.verdict, message, _facts(result), text))


def _unreadable(text: str, problem: str, args: argparse.Namespace) -> str:
    if args.json:
        return json.dumps(
            {"verdict": "unreadable", "colour": "red", "input": text, "message_en": problem},
            ensure_ascii=False,
        )
    return "\t".join(("RED", "unreadable", problem, "-", text))


def run(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    now = args.now or datetime.now(UTC)
    if now.tzinfo is None:
        print("ocop-verify: --now needs a UTC offset, e.g. 2026-12-03T10:00+07:00", file=sys.stderr)
        return EXIT_USAGE
    colours = []
    try:
        trust_list, snapshot = _load(args, now)
        for text, problem in _texts(args):
            if problem is not None:
                print(_unreadable(text, problem, args), file=out)
                colours.append("red")
                continue
            result = verify(text, trust_list, snapshot, now=now, as_of=args.as_of)
            print(_line(result, args), file=out)
            colours.append(result.colour)
    except Unusable as exc:
        print(f"ocop-verify: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if not colours:
        print("ocop-verify: nothing to check (give URLs, --file or --photo)", file=sys.stderr)
        return EXIT_USAGE
    return EXIT[worst(colours)]


def main() -> NoReturn:  # pragma: no cover - the console script; tests call run()
    sys.exit(run())
