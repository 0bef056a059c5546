"""The registry for the office: producers and products, searched by name (accents or not,
as the API's ``q``) and filtered by district (a commune formed in 2025 counts in the
district its predecessors belonged to) and, for products, by OCOP product group."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from trace_service.api import paginate
from trace_service.db import get_session
from trace_service.portal.access import page_roles
from trace_service.portal.forms import query_id
from trace_service.portal.office.blueprint import office
from trace_service.portal.office.board import district_of, districts
from trace_service.principal import Role, current_principal
from trace_service.registry.enums import (
    PRODUCER_KIND_VI,
    PRODUCT_GROUP_EN,
    PRODUCT_GROUP_VI,
    ProductGroup,
)
from trace_service.registry.services import producer_query, product_query
from trace_service.web import i18n

PAGE_SIZE = 50
MAX_PAGE = 100_000


def filters(with_group: bool) -> dict[str, Any]:
    """The list's arguments from the query string; anything unknown is left out."""
    args: dict[str, Any] = {}
    q = request.args.get("q", "").strip()[:100]
    if q:
        args["q"] = q
    district = district_of(get_session(), request.args.get("huyen"))
    if district is not None:
        args["district_id"] = district.id
    group = request.args.get("nhom", "")
    if with_group and group in {g.value for g in ProductGroup}:
        args["product_group"] = ProductGroup(group)
    return args


def _page() -> dict[str, int]:
    # Past the last page is an empty page; the cap keeps the offset a database integer.
    asked = min(query_id(request.args.get("trang")) or 1, MAX_PAGE)
    return {"page": asked, "page_size": PAGE_SIZE}


def _past_the_end(found: dict[str, Any], endpoint: str) -> WResponse | None:
    """A page past the last (an old link, ?trang=99) leads to the last page, filters kept,
    rather than an empty list under the total with no way back."""
    if found["pages"] < 1 or found["page"] <= found["pages"]:
        return None
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k != "trang"}
    return redirect(url_for(endpoint, trang=found["pages"], **kept))


@office.route("/chu-the/")
@page_roles(Role.ADMIN)
def producers() -> str | WResponse:
    session, args = get_session(), filters(with_group=False)
    found = paginate(session, producer_query(current_principal(), args), _page())
    if (last := _past_the_end(found, "office.producers")) is not None:
        return last
    return render_template(
        "portal/office/producers.html",
        found=found,
        args=args,
        districts=districts(session),
        kinds=PRODUCER_KIND_VI,
    )


@office.route("/san-pham/")
@page_roles(Role.ADMIN)
def products() -> str | WResponse:
    session, args = get_session(), filters(with_group=True)
    found = paginate(session, product_query(current_principal(), args), _page())
    if (last := _past_the_end(found, "office.products")) is not None:
        return last
    return render_template(
        "portal/office/products.html",
        found=found,
        args=args,
        districts=districts(session),
        groups=PRODUCT_GROUP_VI if i18n.current() == "vi" else PRODUCT_GROUP_EN,
    )
