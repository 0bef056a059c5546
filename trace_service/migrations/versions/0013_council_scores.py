"""council scores as councils publish them, validity from the decision date, dossiers and
listing dates for the plan board

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Evaluations keep a council's average scores to one decimal place (Numeric(4,1): 69.7, not a
whole number that rounding moves across a band) and how far up the stars the mandatory
criteria are met (``mandatory_met_through``, 0–5) instead of one flag: a kept flag is 5, a
failed one 0, so no star changes. Part C may reach 40 (Decision 1048/QĐ-TTg's cap, before
24 Feb 2023; the service checks each period's own caps).

Certificates whose province counts the 36 months from the decision date (Đắk Nông's
"ba năm kể từ ngày Quyết định được ký ban hành", ``rules.VALIDITY_FROM_BY_PROVINCE``) and
whose decision came before the issue date get their last valid day counted from the
decision, as the service counts new ones. Expiry notices already written keep the day they
announced; the next sweep writes what the new day asks.

The plan board counts what the province's plan counts: products registered for a year's
evaluation and their dossiers' submission dates (``ocop_dossiers``), and the day a product
went on a platform (``product_listings.listed_on``; unknown for listings made before).
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy.engine import Connection

import trace_service.db

from trace_service.certificates.rules import ValidityFrom, add_months, validity_from

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SCORE = sa.Numeric(4, 1)
MONTHS = 36
PARTS_SUM = "score_a + score_b + score_c"


def _checks(batch_op: BatchOperations, c_cap: int, new: bool) -> None:
    for name in ("score_c_range", "total_adds_up"):
        batch_op.drop_constraint(op.f(f"ck_evaluations_{name}"), type_="check")
    batch_op.create_check_constraint(
        op.f("ck_evaluations_score_c_range"), f"score_c BETWEEN 0 AND {c_cap}"
    )
    if new:
        batch_op.create_check_constraint(
            op.f("ck_evaluations_total_adds_up"),
            f"total BETWEEN {PARTS_SUM} - 0.15 AND {PARTS_SUM} + 0.15",
        )
        batch_op.create_check_constraint(
            op.f("ck_evaluations_total_range"), "total BETWEEN 0 AND 100"
        )
        batch_op.create_check_constraint(
            op.f("ck_evaluations_mandatory_range"), "mandatory_met_through BETWEEN 0 AND 5"
        )
    else:
        batch_op.create_check_constraint(
            op.f("ck_evaluations_total_adds_up"), f"total = {PARTS_SUM}"
        )


class _Unlinked:
    """SQLite rebuilds ``evaluations`` (batch mode), and dropping the old table would break
    the certificates' references to it (foreign keys are on, and cannot be turned off inside
    the migration's transaction): they are set aside while the table is rebuilt."""

    def __enter__(self) -> None:
        self.sqlite = op.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            op.execute(
                "CREATE TEMPORARY TABLE evaluation_links AS SELECT id, evaluation_id"
                " FROM certificates WHERE evaluation_id IS NOT NULL"
            )
            op.execute("UPDATE certificates SET evaluation_id = NULL")

    def __exit__(self, *exc: object) -> None:
        if self.sqlite and exc[0] is None:
            op.execute(
                "UPDATE certificates SET evaluation_id = (SELECT evaluation_id FROM"
                " evaluation_links WHERE evaluation_links.id = certificates.id)"
            )
            op.execute("DROP TABLE evaluation_links")


def upgrade() -> None:
    with _Unlinked():
        _upgrade_evaluations()
    _revalidate(from_decision=True)
    op.create_table(
        "ocop_dossiers",
        sa.Column("id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("year", ID, nullable=False),
        sa.Column("target_star", ID, nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("created_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "target_star BETWEEN 3 AND 5", name=op.f("ck_ocop_dossiers_target_star")
        ),
        sa.CheckConstraint(
            "submitted_on IS NULL OR submitted_on >= registered_on",
            name=op.f("ck_ocop_dossiers_submitted_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_ocop_dossiers_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocop_dossiers")),
        sa.UniqueConstraint("product_id", "year", name=op.f("uq_ocop_dossiers_product_id_year")),
    )
    with op.batch_alter_table("ocop_dossiers") as batch_op:
        batch_op.create_index(batch_op.f("ix_ocop_dossiers_product_id"), ["product_id"])
        batch_op.create_index(batch_op.f("ix_ocop_dossiers_year"), ["year"])
    with op.batch_alter_table("product_listings") as batch_op:
        batch_op.add_column(sa.Column("listed_on", sa.Date(), nullable=True))


def _upgrade_evaluations() -> None:
    with op.batch_alter_table("evaluations") as batch_op:
        batch_op.add_column(sa.Column("mandatory_met_through", sa.SmallInteger(), nullable=True))
    op.execute(
        "UPDATE evaluations SET mandatory_met_through = CASE WHEN mandatory_met THEN 5 ELSE 0 END"
    )
    with op.batch_alter_table("evaluations") as batch_op:
        for column in ("score_a", "score_b", "score_c", "total"):
            batch_op.alter_column(column, type_=SCORE, existing_type=ID, existing_nullable=False)
        batch_op.alter_column(
            "mandatory_met_through", nullable=False, existing_type=sa.SmallInteger()
        )
        batch_op.drop_column("mandatory_met")
        _checks(batch_op, 40, new=True)


def downgrade() -> None:
    with op.batch_alter_table("product_listings") as batch_op:
        batch_op.drop_column("listed_on")
    op.drop_table("ocop_dossiers")
    _revalidate(from_decision=False)
    with _Unlinked():
        _downgrade_evaluations()


def _downgrade_evaluations() -> None:
    with op.batch_alter_table("evaluations") as batch_op:
        batch_op.add_column(sa.Column("mandatory_met", sa.Boolean(), nullable=True))
        for name in ("total_range", "mandatory_range"):
            batch_op.drop_constraint(op.f(f"ck_evaluations_{name}"), type_="check")
    # The older flag: the mandatory criteria of the band the total reaches are met.
    op.execute(
        "UPDATE evaluations SET mandatory_met = (mandatory_met_through >= CASE"
        " WHEN total >= 90 THEN 5 WHEN total >= 70 THEN 4 WHEN total >= 50 THEN 3"
        " WHEN total >= 30 THEN 2 ELSE 1 END)"
    )
    # Whole numbers again, as before (half up, as councils round).
    for column in ("score_a", "score_b", "score_c"):
        op.execute(f"UPDATE evaluations SET {column} = ROUND({column})")
    op.execute(f"UPDATE evaluations SET total = {PARTS_SUM}")
    with op.batch_alter_table("evaluations") as batch_op:
        batch_op.alter_column("mandatory_met", nullable=False, existing_type=sa.Boolean())
        batch_op.drop_column("mandatory_met_through")
        for column in ("score_a", "score_b", "score_c", "total"):
            batch_op.alter_column(column, type_=ID, existing_type=SCORE, existing_nullable=False)
        _checks(batch_op, 35, new=False)


def _province_codes(connection: Connection) -> dict[int, str | None]:
    """Each unit's province's code, through its parents."""
    units = {
        row.id: (row.level, row.code, row.parent_id)
        for row in connection.execute(sa.text("SELECT id, level, code, parent_id FROM admin_units"))
    }

    def province(unit_id: int | None) -> str | None:
        while unit_id is not None and units[unit_id][0] != "province":
            unit_id = units[unit_id][2]
        return units[unit_id][1] if unit_id is not None else None

    return {unit_id: province(unit_id) for unit_id in units}


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _revalidate(from_decision: bool) -> None:
    """Count the 36 months from the decision (or, going down, from the issue again) where the
    issuer's province counts from the decision and the decision came first."""
    connection = op.get_bind()
    provinces = _province_codes(connection)
    rows = connection.execute(
        sa.text(
            "SELECT id, issuing_unit_id, decision_date, issue_date, valid_until FROM certificates"
        )
    ).all()
    for row in rows:
        decided, issued = _as_date(row.decision_date), _as_date(row.issue_date)
        code = provinces.get(row.issuing_unit_id) if row.issuing_unit_id is not None else None
        if decided >= issued or validity_from(code) is not ValidityFrom.DECISION:
            continue
        old, new = add_months(issued, MONTHS), add_months(decided, MONTHS)
        want, was = (new, old) if from_decision else (old, new)
        if _as_date(row.valid_until) == was:
            connection.execute(
                sa.text("UPDATE certificates SET valid_until = :day WHERE id = :id"),
                {"day": want, "id": row.id},
            )
