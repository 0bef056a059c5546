"""A GS1-conformant resolver for our label URLs (GS1 Digital Link, ``/01/{gtin}/10/{lot}/21/
{serial}``, and our ``/P/{product}`` form for products without a GTIN).

A label URL opens the consumer's page (``public.py``); in front of it this module answers what
a GS1 application asks instead, as GS1's Digital Link Resolver CE does:

- ``?linkType=all`` or ``Accept: application/linkset+json``: every link we hold for the item
  as an RFC 9264 linkset (``gs1:pip`` and ``gs1:defaultLink`` = the label's own page,
  ``gs1:certificationInfo`` = the product's OCOP certificate, ``gs1:traceability`` = the lot's
  public chain, ``gs1:epcis`` = the full EPCIS document for signed-in users,
  ``gs1:hasRetailers`` = where it is sold online);
- ``?linkType=gs1:…``: a 307 redirect to that link, or 404 listing the link types there are;
- ``/.well-known/gs1resolver``: what this resolver supports.

Shorter URLs resolve too: ``/01/{gtin}`` opens the product's public page and ``/01/{gtin}/10/
{lot}`` the lot's public chain (areas, steps and dates, never quantities), only for lots that
carry stamps. Every page here advertises its linkset in a ``Link`` header.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers.response import Response

from trace_service.certificates.models import Certificate
from trace_service.certificates.rules import STATUS_TEXT
from trace_service.certificates.standing import status_of
from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.errors import error_response
from trace_service.fields import MAX_ID
from trace_service.labels.lookup import signed_path
from trace_service.labels.models import Label, PrintRun, print_runs_on
from trace_service.labels.page_facts import commune_of
from trace_service.labels.services import claims_for
from trace_service.ratelimit import Rate, check_client_limit
from trace_service.registry.models import Product
from trace_service.registry.units import address_on
from trace_service.registry.validators import gtin_check_digit
from trace_service.trace.rules import EventKind
from trace_service.trace.services import backward_trace
from trace_service.web.i18n import t

resolver = Blueprint("gs1_resolver", __name__, template_folder="templates")

GS1_VOC = "https://gs1.org/voc/"
LINKSET_TYPE = "application/linkset+json"
# Applications resolve an item or a few, not a catalogue: more from one address is crawling.
RESOLVER_RATE = Rate(120, 60)
# The link types that are the page itself: asked for them, the page is simply served.
PAGE_TYPES = frozenset({"gs1:pip", "gs1:defaultLink", f"{GS1_VOC}pip", f"{GS1_VOC}defaultLink"})
LINK_TYPES: dict[str, tuple[str, str]] = {
    "gs1:defaultLink": ("Trang mặc định", "Default link"),
    "gs1:pip": ("Trang thông tin sản phẩm", "Product information page"),
    "gs1:certificationInfo": ("Chứng nhận OCOP", "OCOP certification"),
    "gs1:traceability": ("Nguồn gốc lô hàng", "Where the lot comes from"),
    "gs1:epcis": ("Hồ sơ EPCIS 2.0 (cần đăng nhập)", "EPCIS 2.0 history (sign-in needed)"),
    "gs1:hasRetailers": ("Nơi bán trực tuyến", "Where to buy online"),
}


@dataclass(frozen=True)
class Link:
    rel: str  # "gs1:pip"
    href: str
    title: tuple[str, str]  # Vietnamese, English
    type: str = "text/html"
    hreflang: tuple[str, ...] = ("vi", "en")

    def target(self) -> dict[str, Any]:
        """The link as an RFC 9264 target object (``title*`` carries both languages)."""
        vi, en = self.title
        return {
            "href": self.href,
            "title": vi,
            "title*": [{"value": vi, "language": "vi"}, {"value": en, "language": "en"}],
            "type": self.type,
            "hreflang": list(self.hreflang),
        }


@dataclass
class Resolution:
    """What one identifier (a label, a lot, a product) resolves to."""

    anchor: str
    description: str
    links: list[Link] = field(default_factory=list)

    def linkset(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"anchor": self.anchor, "itemDescription": self.description}
        for link in self.links:
            entry.setdefault(GS1_VOC + link.rel.removeprefix("gs1:"), []).append(link.target())
        return {"linkset": [entry]}

    def find(self, link_type: str) -> Link | None:
        rel = "gs1:" + link_type.removeprefix(GS1_VOC).removeprefix("gs1:")
        return next((link for link in self.links if link.rel == rel), None)

    def types(self) -> list[str]:
        return list(dict.fromkeys(link.rel for link in self.links))


# -- what each identifier links to ----------------------------------------------------------


def _is_id(text: str) -> bool:
    """A record id as a path writes it: digits, 1 to 2⁶³−1 (a larger one would overflow the
    database's integer, a 500)."""
    return text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID


def _host() -> str:
    return request.host_url.rstrip("/")


def _product_path(product: Product) -> str:
    return f"/01/{product.gtin14}" if product.gtin14 else f"/P/{product.id}"


def _shared_links(product: Product, host: str, lot_path: str | None) -> list[Link]:
    """Links every level has: the product's certificate, the lot's chain, its shops."""
    certificate = f"{host}{_product_path(product)}#chung-nhan"
    links = [Link("gs1:certificationInfo", certificate, LINK_TYPES["gs1:certificationInfo"])]
    if lot_path:
        links.append(Link("gs1:traceability", host + lot_path, LINK_TYPES["gs1:traceability"]))
    for listing in product.listings:
        title = (str(listing.platform.value), str(listing.platform.value))
        links.append(Link("gs1:hasRetailers", listing.url, title, hreflang=("vi",)))
    return links


def _page_links(href: str) -> list[Link]:
    return [
        Link("gs1:defaultLink", href, LINK_TYPES["gs1:defaultLink"]),
        Link("gs1:pip", href, LINK_TYPES["gs1:pip"]),
    ]


def _lot_path(run: PrintRun) -> str:
    """The lot's URL path as its stamps print it (the run's GTIN, or the product's id)."""
    head = f"/01/{run.gtin}" if run.gtin else f"/P/{run.product_id}"
    return f"{head}/10/{run.lot_code}"


def label_resolution(label: Label, host: str) -> Resolution:
    run = label.run
    lot_path = _lot_path(run)
    page = host + signed_path(label)
    epcis = Link(
        "gs1:epcis",
        f"{host}/api/v1/labels/{label.serial}/epcis",
        LINK_TYPES["gs1:epcis"],
        type="application/ld+json",
        hreflang=("en",),
    )
    anchor = run.base_url.lower() + claims_for(run, label.serial).path()
    links = [*_page_links(page), *_shared_links(run.product, host, lot_path), epcis]
    return Resolution(anchor, run.product.name_vi, links)


def lot_resolution(run: PrintRun, host: str) -> Resolution:
    lot_path = _lot_path(run)
    links = [*_page_links(host + lot_path), *_shared_links(run.product, host, lot_path)]
    return Resolution(host + lot_path, run.product.name_vi, links)


def product_resolution(product: Product, host: str) -> Resolution:
    path = _product_path(product)
    links = [*_page_links(host + path), *_shared_links(product, host, None)]
    return Resolution(host + path, product.name_vi, links)


# -- finding what a path names ---------------------------------------------------------------


def _valid_gtin(gtin: str) -> bool:
    return (
        len(gtin) == 14
        and gtin.isascii()
        and gtin.isdigit()
        and gtin_check_digit(gtin[:-1]) == int(gtin[-1])
    )


def _run_matches(run: PrintRun, args: dict[str, Any]) -> bool:
    """Whether the path's product and lot are the run's (a serial under another GTIN or lot
    names nothing)."""
    if "gtin" in args and args["gtin"] != run.gtin:
        return False
    if "product" in args and (run.gtin or args["product"] != str(run.product_id)):
        return False
    return "lot" not in args or args["lot"] == run.lot_code


def find_label(session: Session, args: dict[str, Any]) -> Label | None:
    label = session.scalar(
        select(Label)
        .options(joinedload(Label.run).joinedload(PrintRun.product))
        .where(Label.serial == args["serial"])
    )
    return label if label is not None and _run_matches(label.run, args) else None


def find_lot_run(session: Session, args: dict[str, Any]) -> PrintRun | None:
    """A run of stamps on the lot the path names: only lots that carry stamps are public."""
    stmt = select(PrintRun).where(PrintRun.lot_code == args["lot"]).order_by(PrintRun.id)
    if "gtin" in args:
        stmt = stmt.where(PrintRun.gtin == args["gtin"])
    else:
        stmt = stmt.where(PrintRun.product_id == int(args["product"]), PrintRun.gtin.is_(None))
    return session.scalars(stmt.limit(1)).first()


def find_product(session: Session, args: dict[str, Any]) -> Product | None:
    if "gtin" in args:
        return session.scalar(select(Product).where(Product.gtin14 == args["gtin"]))
    product = session.get(Product, int(args["product"]))
    # A product with a GTIN is named by it; /P/ is only for those without one.
    return product if product is not None and not product.gtin14 else None


def latest_certificate(session: Session, product: Product) -> Certificate | None:
    return session.scalars(
        select(Certificate)
        .where(Certificate.product_id == product.id)
        .order_by(Certificate.issue_date.desc(), Certificate.id.desc())
        .limit(1)
    ).first()


# -- answering ----------------------------------------------------------------------------------


def _prefers_linkset() -> bool:
    """Asked for the linkset by media type, over HTML (a browser's ``*/*`` is not asking)."""
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", LINKSET_TYPE, "application/json"])
    return best in (LINKSET_TYPE, "application/json") and accept[best] > accept["text/html"]


def wants_resolver() -> bool:
    """Whether this request is for the resolver rather than for the page at the URL."""
    link_type = request.args.get("linkType")
    if link_type is None:
        return _prefers_linkset()
    return link_type not in PAGE_TYPES


def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"  # GS1: a resolver supports CORS
    response.vary.add("Accept")
    return response


def _not_found(types: Iterable[str] = ()) -> Response:
    listed = list(types)
    response = error_response(
        404,
        "link_not_found",
        "Không có liên kết loại này cho mã này."
        if listed
        else "Không tìm thấy. Không có sản phẩm, lô hay tem nào mang mã này.",
        "No link of this type for this identifier." if listed else "Nothing has this identifier.",
        errors={"linkTypes": listed} if listed else None,
    )
    return _cors(response)


def resolve(resolution: Resolution | None) -> Response:
    """The linkset, a 307 to the link type asked for, or 404 (with the types there are)."""
    if resolution is None:
        return _not_found()
    link_type = request.args.get("linkType", "all")
    if link_type == "all":
        response = jsonify(resolution.linkset())
        response.mimetype = LINKSET_TYPE
        return _cors(response)
    link = resolution.find(link_type)
    if link is None:
        return _not_found(["all", *resolution.types()])
    return _cors(redirect(link.href, code=307))


def _bad_identifier() -> Response:
    """GS1: a resolver reports a syntactically invalid URI with 400 (a person's browser gets
    "not found" instead, as for any other damaged link)."""
    return _cors(
        error_response(
            400,
            "bad_identifier",
            "Mã GTIN không hợp lệ (14 chữ số, chữ số kiểm tra đúng).",
            "Not a valid GTIN (14 digits with a right check digit).",
        )
    )


def _negotiate_label() -> Response | None:
    """Before the label page: answer a GS1 application's request for links instead."""
    args = request.view_args or {}
    if request.blueprint != "label_page" or "serial" not in args:
        return None
    if request.method not in ("GET", "HEAD") or not wants_resolver():
        return None
    limit_resolver()
    if "gtin" in args and not _valid_gtin(args["gtin"]):
        return _bad_identifier()
    label = find_label(get_session(), args)
    return resolve(label_resolution(label, _host()) if label else None)


@resolver.before_request
def limit_resolver() -> None:
    """One limit per client over everything the resolver answers (the linkset and link
    types of a stamp, ``/.well-known/gs1resolver``, ``/01/{gtin}`` and lot pages), apart
    from the stamp's page's own and the typed lookup's: counted in Redis when
    ``OCOP_REDIS_URL`` is set, so every worker shares it."""
    check_client_limit("gs1_resolver", RESOLVER_RATE)


def _advertise(response: Response) -> Response:
    """Every page an identifier opens names its linkset (GS1 Digital Link resolvers do), and
    answers a browser application's CORS preflight."""
    if request.blueprint not in ("label_page", resolver.name):
        return response
    if response.status_code == 429 and (request.blueprint == resolver.name or wants_resolver()):
        _cors(response)  # a browser application may read its 429 and Retry-After
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        return response
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language"
    elif response.mimetype == "text/html":
        # The path as sent, encoded again: a decoded CR, LF, NUL or '>' would break or forge
        # the header.
        path = quote(request.path, safe="/")
        response.headers.add("Link", f'<{path}?linkType=all>; rel="linkset"; type="{LINKSET_TYPE}"')
        response.vary.add("Accept")
    return response


# -- the resolver's own pages ---------------------------------------------------------------

# The chain stops at packing, as on the stamp's page: where the goods went after it (shipping,
# receiving: the producer's customers) and official checks are not a shopper's to read.
KIND_TEXT: dict[str, tuple[str, str]] = {
    EventKind.HARVEST: ("Thu hoạch", "Harvest"),
    EventKind.TRANSFORMATION: ("Chế biến", "Processing"),
    EventKind.PACKING: ("Đóng gói", "Packing"),
}


@resolver.get("/.well-known/gs1resolver")
def description() -> Response:
    """What this resolver supports (GS1-Conformant Resolver, as Resolver CE describes it)."""
    body = {
        "name": "OCOP trace service – GS1 Digital Link resolver",
        "resolverRoot": _host(),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeAll": False,
        "supportsLanguageVariants": False,
        "supportsSemanticInterpretation": False,
        "validatesAIcombinations": True,
        "activeLinkTypes": {
            lang: {
                rel: {"title": titles[index], "url": GS1_VOC + rel.removeprefix("gs1:")}
                for rel, titles in LINK_TYPES.items()
            }
            for index, lang in enumerate(("vi", "en"))
        },
    }
    return _cors(jsonify(body))


def _certificate_facts(session: Session, product: Product) -> dict[str, Any] | None:
    certificate = latest_certificate(session, product)
    if certificate is None:
        return None
    status = status_of(certificate, today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"])
    vi, en = STATUS_TEXT[status]
    return {"record": certificate, "status": status.value, "status_text": t(vi, en)}


@resolver.get("/01/<gtin>")
@resolver.get("/P/<product>")
def product_page(**args: str) -> Response | tuple[str, int]:
    """A product's public page: the product, its producer, its OCOP certificate today."""
    if "gtin" in args and not _valid_gtin(args["gtin"]):
        return _bad_identifier() if wants_resolver() else _not_found()
    if "product" in args and not _is_id(args["product"]):
        return _not_found()
    session = get_session()
    product = find_product(session, args)
    certificate = _certificate_facts(session, product) if product else None
    if wants_resolver():
        found = product if certificate is not None else None
        return resolve(product_resolution(found, _host()) if found else None)
    if product is None or certificate is None:
        return _not_found()
    address = address_on(product.producer.address, product.producer.commune, today_vn())
    html = render_template(
        "labels/product.html", product=product, certificate=certificate, address=address
    )
    return html, 200


def _public_steps(run: PrintRun, session: Session) -> tuple[list[dict[str, Any]], list[Any]]:
    """The lot's chain as a shopper may see it: what happened, when and where (never how
    much: volumes are the producer's business); corrected entries are left out."""
    # The print runs on the lot grow with every order, and a page shows none of them.
    trace = backward_trace(session, run.lot, skip_parts=(print_runs_on,))
    corrected = {e.corrects_event_id for e in trace.events if e.corrects_event_id}
    areas = {area.id: area for area in trace.areas}
    today = today_vn()
    steps = []
    for event in trace.events:
        if event.id in corrected or event.kind not in KIND_TEXT:
            continue
        vi, en = KIND_TEXT[event.kind]
        processing = event.kind == EventKind.TRANSFORMATION and event.process
        process = f" ({event.process})" if processing else ""
        area = areas.get(event.area_id) if event.area_id else None
        steps.append(
            {
                "what": t(vi, en) + process,
                "when": event.event_time,
                "area": area,
                # named as on the stamp's page: today's commune, after any merger
                "commune": commune_of(area, today) if area else None,
                "place": event.location,
            }
        )
    return steps, trace.recalls


@resolver.get("/01/<gtin>/10/<lot>")
@resolver.get("/P/<product>/10/<lot>")
def lot_page(**args: str) -> Response | tuple[str, int]:
    """A stamped lot's public chain: from each raw-material area through each step."""
    if "gtin" in args and not _valid_gtin(args["gtin"]):
        return _bad_identifier() if wants_resolver() else _not_found()
    if "product" in args and not _is_id(args["product"]):
        return _not_found()
    session = get_session()
    run = find_lot_run(session, args)
    if wants_resolver():
        return resolve(lot_resolution(run, _host()) if run else None)
    if run is None:
        return _not_found()
    steps, recalls = _public_steps(run, session)
    html = render_template("labels/lot.html", run=run, steps=steps, recalls=recalls)
    return html, 200


_UNTRUSTED_HOST = (
    "Địa chỉ máy chủ (Host) trong yêu cầu không phải của dịch vụ này.",
    "The request's Host is not one this service answers to.",
)


def _untrusted_host(_error: SecurityError) -> Response:
    """A Host header outside ``OCOP_TRUSTED_HOSTS`` (config.py): refused before any link is
    built from it, with words saying so rather than a bare "bad request". The page is built
    here, not from the site's templates: they build URLs, which this request cannot."""
    vi, en = _UNTRUSTED_HOST
    accept = request.accept_mimetypes
    if accept.best_match(["application/json", "text/html"]) == "text/html":
        html = (
            '<!doctype html><html lang="vi"><meta charset="utf-8"><title>400</title>'
            f'<h1>{vi}</h1><p lang="en">{en}</p></html>'
        )
        return Response(html, status=400, mimetype="text/html")
    return error_response(400, "untrusted_host", vi, en)


def init_resolver(app: Flask) -> None:
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_blueprint(resolver)
    app.before_request(_negotiate_label)
    app.after_request(_advertise)
