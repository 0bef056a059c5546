"""The plots behind a lot as the EU deforestation rule (EUDR) asks for them: a GeoJSON
FeatureCollection in WGS84 (``[lon, lat]``), a point for plots up to 4 ha and a polygon
above, with the producer, country, place of production, area and harvest dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from trace_service.trace.rules import EventKind
from trace_service.trace.services import Trace

POINT_MAX_HA = 4  # EUDR: plots above 4 ha need a polygon, not a point
COORDINATE_DECIMALS = 6


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates, list):
        return [_rounded(c) for c in coordinates]
    return round(float(coordinates), COORDINATE_DECIMALS)


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def plots_feature_collection(trace: Trace) -> dict[str, Any]:
    harvests: dict[int, list[Any]] = {}
    for event in trace.events:
        if event.kind == EventKind.HARVEST and event.area_id is not None:
            harvests.setdefault(event.area_id, []).append(event)
    features = []
    for area in trace.areas:
        geometry = area.geometry
        problems = []
        if geometry is None:
            problems.append("no geometry recorded")
        elif geometry["type"] == "Point" and area.area_ha > POINT_MAX_HA:
            problems.append(
                f"{area.area_ha} ha is more than {POINT_MAX_HA} ha: EUDR needs a polygon"
            )
        dates = [(e.harvest_start, e.harvest_end) for e in harvests.get(area.id, [])]
        commune = area.commune
        features.append(
            {
                "type": "Feature",
                "geometry": (
                    {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])}
                    if geometry
                    else None
                ),
                "properties": {
                    "ProducerName": area.producer.name,
                    "ProducerCountry": "VN",
                    "ProductionPlace": commune.name
                    + (f", {commune.parent.name}" if commune.parent else ""),
                    "Area": float(area.area_ha),
                    "AreaUnit": "ha",
                    "HarvestStart": _day(min((d[0] for d in dates if d[0]), default=None)),
                    "HarvestEnd": _day(max((d[1] for d in dates if d[1]), default=None)),
                    "plot_id": area.id,
                    "plot_name": area.name,
                    "eudr_ready": not problems,
                    "problems": problems,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
