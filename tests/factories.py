"""factory_boy factories for the registry and accounts, flushed into the test's session."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from trace_service.auth.models import User
from trace_service.certificates.models import Certificate, Dossier, Evaluation
from trace_service.certificates.rules import MAX_STAR, CouncilLevel, star_of_council, valid_until
from trace_service.principal import Role
from trace_service.registry.enums import ProducerKind, ProductGroup, UnitLevel
from trace_service.registry.models import (
    AdministrativeUnit,
    Producer,
    Product,
    RawMaterialArea,
)
from trace_service.registry.validators import gtin_check_digit

_session: Session | None = None


def bind(session: Session) -> None:
    global _session  # factory_boy asks for the session through a callable
    _session = session


def _current_session() -> Session:
    assert _session is not None, "factories used outside a test with db_session"
    return _session


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _current_session
        sqlalchemy_session_persistence = "flush"


class ProvinceFactory(_Base):
    class Meta:
        model = AdministrativeUnit

    name = factory.Sequence(lambda n: f"Tỉnh Thử Nghiệm {n}")
    code = factory.Sequence(lambda n: f"P{n}")
    level = UnitLevel.PROVINCE
    valid_from = date(2004, 1, 1)


class DistrictFactory(_Base):
    class Meta:
        model = AdministrativeUnit

    name = factory.Sequence(lambda n: f"Huyện Đắk Thử {n}")
    code = factory.Sequence(lambda n: f"D{n}")
    level = UnitLevel.DISTRICT
    parent = factory.SubFactory(ProvinceFactory)
    valid_from = date(2004, 1, 1)


class CommuneFactory(_Base):
    class Meta:
        model = AdministrativeUnit

    name = factory.Sequence(lambda n: f"Xã Đức Thử {n}")
    code = factory.Sequence(lambda n: f"C{n}")
    level = UnitLevel.COMMUNE
    parent = factory.SubFactory(DistrictFactory)
    valid_from = date(2004, 1, 1)


class ProducerFactory(_Base):
    class Meta:
        model = Producer

    kind = ProducerKind.COOPERATIVE
    name = factory.Sequence(lambda n: f"Hợp tác xã Nông nghiệp Thử {n}")
    registration_code = factory.Sequence(lambda n: f"64{n:08d}")
    address = "Thôn 3"
    commune = factory.SubFactory(CommuneFactory)
    representative = "Nguyễn Văn An"
    phone = "02613544123"


def gtin13(n: int) -> str:
    body = f"893{n:09d}"
    return body + str(gtin_check_digit(body))


class ProductFactory(_Base):
    class Meta:
        model = Product

    producer = factory.SubFactory(ProducerFactory)
    name_vi = factory.Sequence(lambda n: f"Cà phê bột Thử {n}")
    name_en = factory.Sequence(lambda n: f"Test ground coffee {n}")
    product_group = ProductGroup.FOOD
    gtin = factory.Sequence(gtin13)
    gtin14 = factory.LazyAttribute(lambda o: o.gtin.zfill(14) if o.gtin else None)
    images = factory.LazyFunction(list)
    standards = factory.LazyFunction(lambda: ["TCVN 4193:2014"])
    shelf_life_days = 365


class AreaFactory(_Base):
    class Meta:
        model = RawMaterialArea

    producer = factory.SubFactory(ProducerFactory)
    name = factory.Sequence(lambda n: f"Vườn cà phê Thử {n}")
    commune = factory.SubFactory(CommuneFactory)
    area_ha = Decimal("1.5000")
    crops = factory.LazyFunction(lambda: ["coffee"])
    certifications = factory.LazyFunction(list)
    geometry = factory.LazyFunction(lambda: {"type": "Point", "coordinates": [107.62, 12.45]})


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"Người dùng {n}")
    role = Role.ADMIN
    password_hash = None


class EvaluationFactory(_Base):
    """A district council's 3★ of Sep 2023 by default: lawful under Decision 148/QĐ-TTg
    (24 Feb 2023 – 30 Jun 2025: district 3★, province 4★, central 5★). A test that wants
    another council passes ``council_level`` and ``council_unit`` together.

    ``mandatory_met`` (a parameter): the older flag, every mandatory criterion met or none;
    ``mandatory_met_through`` sets how far up the stars they are met."""

    class Meta:
        model = Evaluation

    class Params:
        mandatory_met = True

    product = factory.SubFactory(ProductFactory)
    council_level = CouncilLevel.DISTRICT
    council_unit = factory.SubFactory(DistrictFactory)
    evaluated_on = date(2023, 9, 1)
    score_a, score_b, score_c = Decimal(30), Decimal(15), Decimal(15)
    total = factory.LazyAttribute(lambda o: o.score_a + o.score_b + o.score_c)
    mandatory_met_through = factory.LazyAttribute(lambda o: MAX_STAR if o.mandatory_met else 0)
    star = factory.LazyAttribute(lambda o: star_of_council(o.total, o.mandatory_met_through))
    reference = factory.Sequence(lambda n: f"Biên bản {n}/BB-HĐ")


def _authority(unit: AdministrativeUnit | None) -> str:
    return f"UBND {unit.name[0].lower()}{unit.name[1:]}" if unit else "Bộ Nông nghiệp và Môi trường"


class CertificateFactory(_Base):
    """Issued by its evaluation's council's People's Committee (a district's by default)."""

    class Meta:
        model = Certificate

    number = factory.Sequence(lambda n: f"{n:04d}/GCN-OCOP")
    decision_number = factory.Sequence(lambda n: f"{n}/QĐ-UBND")
    decision_date = factory.SelfAttribute("issue_date")
    product = factory.SubFactory(ProductFactory)
    product_name = factory.SelfAttribute("product.name_vi")
    evaluation = factory.SubFactory(EvaluationFactory, product=factory.SelfAttribute("..product"))
    issuing_unit = factory.LazyAttribute(lambda o: o.evaluation.council_unit)
    issuing_authority = factory.LazyAttribute(lambda o: _authority(o.issuing_unit))
    star = factory.LazyAttribute(lambda o: o.evaluation.star)
    issue_date = date(2023, 10, 1)
    valid_until = factory.LazyAttribute(lambda o: valid_until(o.issue_date))


class DossierFactory(_Base):
    """A product registered for 3★ in the 2025 round, not yet submitted."""

    class Meta:
        model = Dossier

    product = factory.SubFactory(ProductFactory)
    year = 2025
    target_star = 3
    registered_on = date(2025, 3, 1)
    submitted_on = None
    reference = factory.Sequence(lambda n: f"HS-2025-{n:04d}")
