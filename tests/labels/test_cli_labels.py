"""``flask keys …`` and ``flask labels …`` as an operator runs them."""

from __future__ import annotations

import json
import os

from sqlalchemy import func, select

from tests.databases import fresh_database
from tests.labels.conftest import seed_committed
from trace_service import create_app
from trace_service.audit.models import AuditEvent
from trace_service.db import get_db, session_scope
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.migrate import upgrade
from trace_service.signing.keystore import b64url_decode
from trace_service.signing.service import (
    ensure_keys,
    get_keystore,
    init_keys,
    latest_trust_list,
)
from trace_service.signing.trustlist import verify_trust_list


def _app(url, tmp_path, **extra):
    return create_app(
        {
            "DATABASE_URL": url,
            "KEYS_DIR": str(tmp_path / "keys"),
            "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
            **extra,
        }
    )


def test_key_commands_rotate_retire_compromise_and_publish_each_change(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["keys", "list"]).output == ""  # no key before `keys init`
        made = runner.invoke(args=["keys", "init"])
        assert made.exit_code == 0, made.output
        assert made.output.count("Created key") == 3  # signing, root, snapshot
        assert "Trust list version 1 published." in made.output
        again = runner.invoke(args=["keys", "init"])
        assert again.exit_code == 0 and "nothing made" in again.output
        listed = runner.invoke(args=["keys", "list"])
        assert listed.exit_code == 0, listed.output
        first = [line.split()[0] for line in listed.output.splitlines() if " signing " in line]
        assert len(first) == 1 and "root" in listed.output

        rotated = runner.invoke(args=["keys", "rotate"])
        assert rotated.exit_code == 0, rotated.output
        assert "Trust list version 2 published." in rotated.output
        with app.app_context():
            store = get_keystore(app)
            assert store.status(first[0]).value == "retired"
            new = store.active_signing_key().kid
        assert runner.invoke(args=["keys", "retire", "--", first[0]]).exit_code == 0
        compromised = runner.invoke(args=["keys", "compromise", "--yes", "--", first[0]])
        assert compromised.exit_code == 0, compromised.output
        root = json.loads(runner.invoke(args=["keys", "root"]).output)
        out = tmp_path / "trust-list.json"
        published = runner.invoke(args=["keys", "publish", "--out", str(out)])
        assert published.exit_code == 0, published.output
        document = json.loads(out.read_text())
        assert verify_trust_list(document, b64url_decode(root["public_key"]))
        statuses = {k["kid"]: k["ocop:status"] for k in document["keys"]}
        assert statuses == {first[0]: "compromised", new: "active"}
        with app.app_context():
            assert latest_trust_list(get_keystore(app)) == document
        refused = runner.invoke(args=["keys", "retire", "AAAAAAAAAAA"])
        assert refused.exit_code != 0 and "No key" in refused.output
        assert runner.invoke(args=["keys", "create"]).exit_code != 0  # one is active already

        with session_scope(app) as session:
            tags = list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))
        assert tags.count("signing:key:created") == 3  # `keys init`: signing, root, snapshot
        assert {"signing:key:rotated", "signing:key:retired", "signing:key:compromised"} <= set(
            tags
        )
        assert tags.count("signing:trust_list:signed") == 5  # init, 3 changes, publish
        # The private keys stay encrypted and private, whatever the commands did.
        for pem in (tmp_path / "keys").glob("*.pem"):
            assert pem.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
            assert os.stat(pem).st_mode & 0o077 == 0
        get_db(app).engine.dispose()


def test_keys_made_with_another_passphrase_stop_the_setup_and_say_what_to_do(tmp_path):
    # A new user's review: moving instance/ aside made a new passphrase for the old keys/;
    # the setup went on, printed no stamps and said nothing but a log line.
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    upgrade(url)
    assert _app(url, tmp_path).test_cli_runner().invoke(args=["keys", "init"]).exit_code == 0
    other = _app(url, tmp_path, KEYS_PASSPHRASE="another passphrase, long and random too")
    result = other.test_cli_runner().invoke(args=["keys", "init"])
    assert result.exit_code != 0
    assert "made with another passphrase" in result.output
    assert "move that directory aside" in result.output
    get_db(other).engine.dispose()


def test_without_a_passphrase_key_commands_explain_what_to_set(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    result = app.test_cli_runner().invoke(args=["keys", "list"])
    assert result.exit_code != 0 and "OCOP_KEYS_PASSPHRASE" in result.output


def test_labels_order_builds_the_sheet_and_labels_build_resumes(app, packed, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "labels",
            "order",
            "--product-id",
            str(packed.product.id),
            "--lot-id",
            str(packed.bags),
            "--quantity",
            "40",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "40 labels issued" in result.output and "sheet.pdf (3 pages)" in result.output
    assert "labels-203dpi.zpl (40 labels, 203 dpi)" in result.output
    assert "labels-300dpi.zpl (40 labels, 300 dpi)" in result.output
    run = db_session.scalars(select(PrintRun)).one()
    assert run.status is RunStatus.READY
    again = runner.invoke(args=["labels", "build", str(run.id)])
    assert again.exit_code == 0 and "ready already" in again.output
    missing = runner.invoke(args=["labels", "build", "999999"])
    assert missing.exit_code != 0
    refused = runner.invoke(
        args=[
            "labels",
            "order",
            "--product-id",
            str(packed.product.id),
            "--lot-id",
            str(packed.harvest),
            "--quantity",
            "5",
        ]
    )
    assert refused.exit_code != 0 and "is not a lot of product" in refused.output


def test_without_keys_a_request_makes_none_and_ordering_names_the_command(backend, tmp_path):
    """Keys are made only by `flask keys init`: a page or an order before it makes no key
    (a 4xx request would roll back their audit rows and leave the files), and an order
    is refused with the command to run."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path, LABEL_BUILD="inline")
        seed = seed_committed(app, bags=20)
        client = app.test_client()
        fake = client.get("/01/08935012345678/10/L1/21/7K3M9QXA2BCDEF4?S=1234")
        assert fake.status_code == 404
        order = client.post(
            "/api/v1/print-runs",
            headers=seed.headers,
            json={"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 2},
        )
        assert order.status_code == 503, order.json
        assert "flask keys init" in order.json["message_en"]
        assert not list((tmp_path / "keys").glob("*.pem"))
        assert client.get("/.well-known/ocop-trust-list.json").status_code == 404
        with session_scope(app) as session:
            tags = list(session.scalars(select(AuditEvent.tag)))
            assert "signing:key:created" not in tags
            assert session.scalar(select(func.count()).select_from(PrintRun)) == 0
        get_db(app).engine.dispose()


def test_keys_init_records_keys_the_audit_log_missed(backend, tmp_path):
    """A `keys init` whose audit commit failed left key files the log does not know: the
    next run records them, once."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path)
        with app.app_context():
            ensure_keys(get_keystore(app))  # the files, without their audit rows
        report = init_keys(app)
        assert report.made == [] and len(report.recorded) == 3
        assert init_keys(app).recorded == []
        with session_scope(app) as session:
            created = session.scalars(
                select(AuditEvent.object_id).where(AuditEvent.tag == "signing:key:created")
            ).all()
        assert sorted(created) == sorted(report.recorded)
        get_db(app).engine.dispose()
