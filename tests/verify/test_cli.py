"""``ocop-verify``: the same verdicts as the offline verifier on every vector, the mutated
corpus and a photo of a printed sheet; exit status by the worst line."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tomllib
from datetime import date
from itertools import groupby
from pathlib import Path

import pytest

from ocop_verify import cli
from ocop_verify.label import Malformed
from ocop_verify.label import parse as offline_parse
from tests.verify.vectors import (
    VECTORS_FILE,
    differences,
    mutated_corpus,
    python_verdict,
    vectors,
)
from trace_service.labels import payload
from trace_service.labels.verify import parse_scanned
from trace_service.signing.keystore import b64url_decode, verify_raw

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path):
    """The vectors' trust list (with its root key beside it) and snapshot as files."""
    data = vectors()
    trust_list = tmp_path / "ocop-trust-list.json"
    trust_list.write_text(json.dumps(data["trust_list"]), encoding="utf-8")
    root = tmp_path / "ocop-trust-list.root.json"
    root.write_text(json.dumps(data["root_public_key"]), encoding="utf-8")
    snapshot = tmp_path / "ocop-snapshot.json"
    snapshot.write_text(json.dumps(data["snapshot"], ensure_ascii=False), encoding="utf-8")
    return trust_list, snapshot


def _run(args: list[str]) -> tuple[int, list[dict]]:
    out = io.StringIO()
    code = cli.run(args, out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def _setting(vector: dict) -> tuple:
    return (vector.get("now", vectors()["now"]), vector.get("as_of"), vector.get("snapshot"))


def test_the_command_gives_every_vector_its_published_answer(files):
    trust_list, snapshot = files
    labels = sorted(vectors()["labels"], key=lambda v: repr(_setting(v)))
    for (now, as_of, snap), group in groupby(labels, key=_setting):
        group = list(group)
        args = ["--trust-list", str(trust_list), "--json", "--now", now]
        args += ["--no-snapshot"] if snap is False else ["--snapshot", str(snapshot)]
        args += ["--as-of", as_of] if as_of else []
        code, lines = _run([*args, *(v["input"] for v in group)])
        assert len(lines) == len(group)
        for vector, line in zip(group, lines, strict=True):
            assert line["input"] == vector["input"]
            assert differences(vector["expected"], line) == {}, vector["name"]
            assert line == {**python_verdict(vector).to_json(), "input": vector["input"]}
        worst = max((v["expected"]["colour"] for v in group), key=("green", "amber", "red").index)
        assert code == {"green": 0, "amber": 1, "red": 2}[worst]


def test_the_mutated_corpus_is_never_genuine_and_every_verifier_agrees(files):
    corpus = mutated_corpus()
    assert len(corpus) >= 200
    trust_list, snapshot = files
    code, lines = _run(
        ["-t", str(trust_list), "-s", str(snapshot), "--json", "--now", vectors()["now"], *corpus]
    )
    assert code == 2 and len(lines) == len(corpus)
    keys = {k["kid"]: b64url_decode(k["x"]) for k in vectors()["trust_list"]["keys"]}
    for text, line in zip(corpus, lines, strict=True):
        expected = python_verdict({"input": text}).to_json()
        assert line == {**expected, "input": text}
        assert line["verdict"] != "genuine" and line["colour"] == "red"
        # The service's reader refuses exactly what ocop_verify refuses, and the service's
        # signature check agrees on the rest.
        try:
            claims, signature = parse_scanned(text)
        except payload.MalformedLabelUrl:
            assert line["verdict"] == "malformed", text
            with pytest.raises(Malformed):
                offline_parse(text)
            continue
        assert offline_parse(text)[0].message() == claims.message()
        if claims.kid in keys:
            ok = verify_raw(keys[claims.kid], claims.message(), signature).ok
            assert line["verdict"] == ("compromised_key" if ok else "invalid_signature"), text
        else:
            assert line["verdict"] == "unknown_key"


def test_a_text_file_of_urls_gives_one_line_each_in_order(files, tmp_path):
    trust_list, snapshot = files
    genuine = next(v for v in vectors()["labels"] if v["name"] == "genuine")["input"]
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{genuine}\n\n  not a stamp  \n{genuine}\r\n", encoding="utf-8")
    out = io.StringIO()
    code = cli.run(
        ["-t", str(trust_list), "-s", str(snapshot), "-f", str(listing), "--now", vectors()["now"]],
        out,
    )
    lines = out.getvalue().splitlines()
    assert code == 2 and [line.split("\t")[:2] for line in lines] == [
        ["GREEN", "genuine"],
        ["RED", "malformed"],
        ["GREEN", "genuine"],
    ]
    assert "Cà phê bột Robusta Đắk Mil" in lines[0] and "dữ liệu lúc 00:00 03/12/2026" in lines[0]
    assert lines[0].split("\t")[-1] == genuine
    english = io.StringIO()
    cli.run(
        [
            "-t",
            str(trust_list),
            "-s",
            str(snapshot),
            "--lang",
            "en",
            "--now",
            vectors()["now"],
            genuine,
        ],
        english,
    )
    assert "\tGenuine OCOP stamp, certificate valid\t" in english.getvalue()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda tl, snap, tmp: ["-t", str(tmp / "none.json"), "-s", str(snap)], "cannot read"),
        (lambda tl, snap, tmp: ["-t", str(tl), "-s", str(snap), "-r=AAAA"], "root key"),
        (lambda tl, snap, tmp: ["-t", str(tl), "-s", str(tl)], "not an OCOP snapshot"),
        (
            lambda tl, snap, tmp: [
                "-t",
                str(tl),
                "-s",
                str(snap),
                "--now",
                "2027-02-01T00:00:00+00:00",
            ],
            "expired",
        ),
        (lambda tl, snap, tmp: ["-t", str(tl), "-s", str(snap), "-f", str(tmp)], "cannot read"),
        (lambda tl, snap, tmp: ["-t", str(tl), "-s", str(snap), "-p", str(tl)], "photo"),
    ],
)
def test_an_unusable_trust_list_snapshot_or_file_exits_3_saying_why(
    files, tmp_path, capsys, change, message
):
    trust_list, snapshot = files
    args = change(trust_list, snapshot, tmp_path)
    assert cli.run([*args, "HTTPS://X"], io.StringIO()) == cli.EXIT_UNUSABLE
    assert message in capsys.readouterr().err


def test_a_trust_list_without_its_pinned_root_key_is_refused(files, capsys):
    trust_list, snapshot = files
    trust_list.with_name("ocop-trust-list.root.json").unlink()
    assert cli.run(["-t", str(trust_list), "-s", str(snapshot), "X"], io.StringIO()) == 3
    assert "--root-key" in capsys.readouterr().err
    other = vectors()["test_keys"]["label"]["public_key"]  # a key, but not the root
    assert cli.run(["-t", str(trust_list), "-s", str(snapshot), f"-r={other}", "X"]) == 3
    root = vectors()["root_public_key"]["public_key"]
    out = io.StringIO()
    assert cli.run(["-t", str(trust_list), "--no-snapshot", f"--root-key={root}", "X"], out) == 2


def test_wrong_usage_exits_4(files, capsys):
    trust_list, snapshot = files
    with pytest.raises(SystemExit) as stopped:
        cli.run(["--snapshot", str(snapshot), "X"])
    assert stopped.value.code == cli.EXIT_USAGE
    assert cli.run(["-t", str(trust_list), "-s", str(snapshot)]) == cli.EXIT_USAGE
    assert cli.run(["-t", str(trust_list), "-s", str(snapshot), "--now", "2026-12-03", "X"]) == 4
    assert "UTC offset" in capsys.readouterr().err


def test_the_console_script_is_the_package_entry_point_and_runs_as_a_process(files):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["ocop-verify"] == "ocop_verify.cli:main"
    assert project["project"]["optional-dependencies"]["photo"][0].startswith("zxing-cpp==")
    trust_list, snapshot = files
    genuine = next(v for v in vectors()["labels"] if v["name"] == "genuine")["input"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocop_verify",
            "-t",
            str(trust_list),
            "-s",
            str(snapshot),
            "--now",
            vectors()["now"],
            genuine,
            "HTTPS://TEM.OCOP.EXAMPLE.VN/01/X",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert [line.split("\t")[1] for line in done.stdout.splitlines()] == ["genuine", "malformed"]
    assert VECTORS_FILE.exists()


PDFTOPPM = shutil.which("pdftoppm")

PHOTO_VECTORS = (
    "genuine",
    "genuine signature, stamp flagged as possibly copied",
    "tampered: star raised",
    "signed by a compromised key",
)


def printed_sheet_photo(tmp_path: Path, names: tuple[str, ...] = PHOTO_VECTORS) -> Path:
    """A page of the A4 sheet the service prints, carrying the named vectors' codes, as a
    300 dpi picture (what a scanner or a steady phone gives)."""
    from trace_service.labels.art import LabelArt, StampFacts
    from trace_service.labels.qrbatch import encode
    from trace_service.labels.render.sheet_pdf import render_sheet_pdf

    if PDFTOPPM is None:
        pytest.skip("pdftoppm is not installed (apt-get install poppler-utils)")
    by_name = {v["name"]: v["input"] for v in vectors()["labels"]}
    labels = [
        LabelArt(url=by_name[name], code=f"TEM-{i}", matrix=encode(by_name[name]))
        for i, name in enumerate(names)
    ]
    facts = StampFacts(
        4,
        "Cà phê bột Robusta Đắk Mil – rang mộc",
        "HTX Thuận An",
        "101/GCN-OCOP",
        date(2027, 3, 15),
    )
    pdf = tmp_path / "sheet.pdf"
    with pdf.open("wb") as out:
        render_sheet_pdf(facts, iter(labels), out)
    subprocess.run(
        [PDFTOPPM, "-r", "300", "-png", "-gray", "-singlefile", str(pdf), str(tmp_path / "photo")],
        check=True,
    )
    return tmp_path / "photo.png"


def test_a_photo_of_a_printed_sheet_gives_each_stamp_its_verdict(files, tmp_path):
    photo = printed_sheet_photo(tmp_path)
    trust_list, snapshot = files
    code, lines = _run(
        [
            "-t",
            str(trust_list),
            "-s",
            str(snapshot),
            "--json",
            "--now",
            vectors()["now"],
            "--photo",
            str(photo),
        ]
    )
    by_name = {v["name"]: v for v in vectors()["labels"]}
    found = {line["input"]: line for line in lines}
    assert len(lines) == len(PHOTO_VECTORS) and code == 2
    for name in PHOTO_VECTORS:
        line = found[by_name[name]["input"]]
        assert differences(by_name[name]["expected"], line) == {}, name


def test_a_photo_without_a_stamp_is_a_red_line_not_a_crash(files, tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    trust_list, snapshot = files
    out = io.StringIO()
    assert cli.run(["-t", str(trust_list), "-s", str(snapshot), "-p", str(blank)], out) == 2
    assert out.getvalue().startswith("RED\tunreadable\tno QR code found")
