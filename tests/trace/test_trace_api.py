"""From three farms' plots to a bag of ground coffee, and back: recording the chain through
the API, the rules that refuse a wrong record, and the trace queries both ways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from tests import factories
from tests.conftest import Account, make_account
from trace_service.principal import Role

P = "/api/v1"
VN = "+07:00"


@dataclass
class Chain:
    producer: object
    account: Account
    areas: list
    harvests: list[int]
    dried: int
    green: int
    roasted: int
    ground: int
    bags: int


def _post(client, account, path, body):
    response = client.post(f"{P}{path}", headers=account.headers, json=body)
    assert response.status_code == 201, response.json
    return response.json


def _out(event):
    return next(item["lot_id"] for item in event["lots"] if item["role"] == "output")


def _harvest(client, account, area, code, kg, day="2025-11-20"):
    return _out(
        _post(
            client,
            account,
            "/trace/harvests",
            {
                "area_id": area.id,
                "harvest_start": "2025-11-01",
                "harvest_end": day,
                "event_time": f"{day}T17:00:00{VN}",
                "lot": {
                    "code": code,
                    "material": "Quả cà phê vối tươi",
                    "quantity": kg,
                    "unit": "kg",
                },
            },
        )
    )


def _transform(client, account, process, inputs, code, material, kg, time, **lot):
    return _out(
        _post(
            client,
            account,
            "/trace/transformations",
            {
                "process": process,
                "event_time": time,
                "location": "Xưởng HTX, Đức Minh",
                "inputs": [{"lot_id": lot_id, "quantity": q} for lot_id, q in inputs],
                "outputs": [
                    {"code": code, "material": material, "quantity": kg, "unit": "kg", **lot}
                ],
            },
        )
    )


@pytest.fixture
def chain(client, db_session) -> Chain:
    producer = factories.ProducerFactory()
    account = make_account(db_session, Role.PRODUCER, producer.id)
    areas = [factories.AreaFactory(producer=producer, name=f"Vườn {n}") for n in "ABC"]
    harvests = [_harvest(client, account, a, f"H-{i}", 1000) for i, a in enumerate(areas)]
    dried = _transform(
        client,
        account,
        "drying",
        [(h, 1000) for h in harvests],
        "D-1",
        "Cà phê quả khô",
        1500,
        f"2025-12-05T10:00:00{VN}",
    )
    green = _transform(
        client,
        account,
        "hulling",
        [(dried, 1500)],
        "G-1",
        "Cà phê nhân",
        600,
        f"2025-12-10T10:00:00{VN}",
    )
    roasted = _transform(
        client,
        account,
        "roasting",
        [(green, 100)],
        "R-1",
        "Cà phê rang",
        84,
        f"2026-01-05T09:00:00{VN}",
    )
    ground = _transform(
        client,
        account,
        "grinding",
        [(roasted, 84)],
        "M-1",
        "Cà phê bột",
        84,
        f"2026-01-05T15:00:00{VN}",
    )
    product = factories.ProductFactory(producer=producer, name_vi="Cà phê bột Đắk Mil")
    bags = _out(
        _post(
            client,
            account,
            "/trace/packings",
            {
                "event_time": f"2026-01-06T08:00:00{VN}",
                "location": "Xưởng HTX, Đức Minh",
                "inputs": [{"lot_id": ground, "quantity": 84}],
                "outputs": [
                    {
                        "code": "B-1",
                        "material": "Cà phê bột 250 g",
                        "quantity": 336,
                        "unit": "piece",
                        "unit_weight_kg": 0.25,
                        "product_id": product.id,
                    }
                ],
            },
        )
    )
    return Chain(producer, account, areas, harvests, dried, green, roasted, ground, bags)


def test_from_one_bag_an_inspector_names_every_plot_and_every_event(client, chain, inspector):
    trace = client.get(f"{P}/lots/{chain.bags}/trace", headers=inspector.headers).json
    assert sorted(a["name"] for a in trace["areas"]) == ["Vườn A", "Vườn B", "Vườn C"]
    kinds = [e["kind"] for e in trace["events"]]
    assert kinds == ["harvest"] * 3 + ["transformation"] * 4 + ["packing"]
    assert [e["process"] for e in trace["events"] if e["kind"] == "transformation"] == [
        "drying",
        "hulling",
        "roasting",
        "grinding",
    ]
    assert {lot["code"] for lot in trace["lots"]} == {
        "H-0",
        "H-1",
        "H-2",
        "D-1",
        "G-1",
        "R-1",
        "M-1",
        "B-1",
    }


def test_from_one_plot_the_forward_trace_reaches_every_packed_unit(client, chain, inspector):
    trace = client.get(f"{P}/areas/{chain.areas[1].id}/trace", headers=inspector.headers).json
    assert {lot["code"] for lot in trace["lots"]} == {"H-1", "D-1", "G-1", "R-1", "M-1", "B-1"}
    packed = next(lot for lot in trace["lots"] if lot["code"] == "B-1")
    assert (packed["quantity"], packed["unit"]) == (336, "piece")


def test_a_recall_of_a_harvest_reaches_the_bags_made_from_it(client, chain, admin):
    recall = client.post(
        f"{P}/lots/{chain.harvests[0]}/recall",
        headers=admin.headers,
        json={
            "recalled_at": f"2026-02-01T09:00:00{VN}",
            "decision": "12/QĐ-CCQLCL",
            "reason": "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng",
        },
    )
    assert recall.status_code == 201, recall.json
    forward = client.get(
        f"{P}/lots/{chain.harvests[0]}/trace?direction=forward", headers=admin.headers
    ).json
    assert "B-1" in {lot["code"] for lot in forward["lots"]}
    backward = client.get(f"{P}/lots/{chain.bags}/trace", headers=admin.headers).json
    assert [r["reason"] for r in backward["recalls"]] == [
        "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng"
    ]


def test_more_output_than_the_process_can_yield_is_refused_with_the_figures(client, chain):
    response = client.post(
        f"{P}/trace/transformations",
        headers=chain.account.headers,
        json={
            "process": "roasting",
            "event_time": f"2026-01-07T09:00:00{VN}",
            "inputs": [{"lot_id": chain.green, "quantity": 100}],
            "outputs": [{"code": "R-2", "material": "Cà phê rang", "quantity": 95, "unit": "kg"}],
        },
    )
    assert response.status_code == 422
    assert "95 kg out of 100 kg" in response.json["message_en"]
    assert "maximum yield 0.9 allows (90 kg)" in response.json["message_en"]


def test_an_event_before_the_events_of_its_lots_is_refused(client, chain):
    response = client.post(
        f"{P}/trace/packings",
        headers=chain.account.headers,
        json={
            "event_time": f"2025-11-10T08:00:00{VN}",  # before the harvest was even finished
            "inputs": [{"lot_id": chain.green, "quantity": 10}],
            "outputs": [
                {
                    "code": "B-X",
                    "material": "Cà phê nhân 1 kg",
                    "quantity": 10,
                    "unit": "piece",
                    "unit_weight_kg": 1,
                    "product_id": factories.ProductFactory(producer=chain.producer).id,
                }
            ],
        },
    )
    assert response.status_code == 422
    assert "cannot come before" in response.json["errors"]["json"]["event_time"][0]


def test_a_lot_cannot_give_more_than_it_has(client, chain):
    response = client.post(
        f"{P}/trace/transformations",
        headers=chain.account.headers,
        json={
            "process": "roasting",
            "event_time": f"2026-01-08T09:00:00{VN}",
            "inputs": [{"lot_id": chain.green, "quantity": 501}],  # 600 - 100 already roasted
            "outputs": [{"code": "R-3", "material": "Cà phê rang", "quantity": 400, "unit": "kg"}],
        },
    )
    assert response.status_code == 422
    assert "only 500 kg left" in response.json["message_en"]


@pytest.mark.parametrize(
    "lot_change, field",
    [
        ({"quantity": -5}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"unit": None}, "unit"),
        ({"unit": "bushel"}, "unit"),
    ],
)
def test_quantities_must_be_positive_in_a_known_unit(client, chain, lot_change, field):
    lot = {"code": "H-9", "material": "Quả cà phê", "quantity": 10, "unit": "kg", **lot_change}
    response = client.post(
        f"{P}/trace/harvests",
        headers=chain.account.headers,
        json={
            "area_id": chain.areas[0].id,
            "harvest_start": "2025-11-01",
            "harvest_end": "2025-11-02",
            "event_time": f"2025-11-03T08:00:00{VN}",
            "lot": lot,
        },
    )
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]["lot"]


def test_bags_need_their_weight(client, chain):
    response = client.post(
        f"{P}/trace/harvests",
        headers=chain.account.headers,
        json={
            "area_id": chain.areas[0].id,
            "harvest_start": "2025-11-01",
            "harvest_end": "2025-11-02",
            "event_time": f"2025-11-03T08:00:00{VN}",
            "lot": {"code": "H-B", "material": "Tiêu", "quantity": 10, "unit": "bag"},
        },
    )
    assert response.status_code == 422
    assert "unit_weight_kg" in response.json["errors"]["json"]["lot"][0]


def test_a_producer_cannot_use_another_producers_lot_or_area(client, chain, db_session):
    other = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    response = client.post(
        f"{P}/trace/transformations",
        headers=other.headers,
        json={
            "process": "roasting",
            "event_time": f"2026-01-08T09:00:00{VN}",
            "inputs": [{"lot_id": chain.green, "quantity": 1}],
            "outputs": [{"code": "R-9", "material": "Cà phê rang", "quantity": 0.8, "unit": "kg"}],
        },
    )
    assert response.status_code == 422
    assert client.get(f"{P}/lots/{chain.green}", headers=other.headers).status_code == 404
    assert client.get(f"{P}/lots/{chain.green}/trace", headers=other.headers).status_code == 404
    listed = client.get(f"{P}/lots", headers=other.headers).json
    assert listed["total"] == 0


def test_a_lot_code_is_used_once(client, chain):
    response = client.post(
        f"{P}/trace/transformations",
        headers=chain.account.headers,
        json={
            "process": "roasting",
            "event_time": f"2026-01-08T09:00:00{VN}",
            "inputs": [{"lot_id": chain.green, "quantity": 10}],
            "outputs": [{"code": "H-0", "material": "Cà phê rang", "quantity": 8, "unit": "kg"}],
        },
    )
    assert response.status_code == 409


def test_a_correction_keeps_the_wrong_event_and_marks_it(client, chain):
    trace = client.get(f"{P}/lots/{chain.roasted}/trace", headers=chain.account.headers).json
    roasting = next(e for e in trace["events"] if e["process"] == "roasting")
    correction = _post(
        client,
        chain.account,
        "/trace/corrections",
        {
            "corrects_event_id": roasting["id"],
            "event_time": f"2026-01-06T10:00:00{VN}",
            "reason": "Ghi nhầm nhiệt độ rang",
        },
    )
    assert correction["corrects_event_id"] == roasting["id"]
    again = client.get(f"{P}/lots/{chain.roasted}/trace", headers=chain.account.headers).json
    assert [e["kind"] for e in again["events"]][-1] == "correction"
    assert roasting["id"] in [e["id"] for e in again["events"]]
    twice = client.post(
        f"{P}/trace/corrections",
        headers=chain.account.headers,
        json={
            "corrects_event_id": roasting["id"],
            "event_time": f"2026-01-06T11:00:00{VN}",
            "reason": "Lần nữa",
        },
    )
    assert twice.status_code == 409


def test_the_harvest_dates_must_make_sense(client, chain):
    response = client.post(
        f"{P}/trace/harvests",
        headers=chain.account.headers,
        json={
            "area_id": chain.areas[0].id,
            "harvest_start": "2025-11-05",
            "harvest_end": "2025-11-02",
            "event_time": f"2025-11-06T08:00:00{VN}",
            "lot": {"code": "H-Z", "material": "Quả cà phê", "quantity": 10, "unit": "kg"},
        },
    )
    assert response.status_code == 422
    assert "harvest_end" in response.json["errors"]["json"]


def test_a_naive_time_is_refused(client, chain):
    response = client.post(
        f"{P}/trace/harvests",
        headers=chain.account.headers,
        json={
            "area_id": chain.areas[0].id,
            "harvest_start": "2025-11-01",
            "harvest_end": "2025-11-02",
            "event_time": "2025-11-03T08:00:00",
            "lot": {"code": "H-N", "material": "Quả cà phê", "quantity": 10, "unit": "kg"},
        },
    )
    assert response.status_code == 422
    assert "event_time" in response.json["errors"]["json"]


def test_a_bags_history_exports_as_epcis_that_gs1s_schema_accepts(client, chain, inspector):
    from trace_service.trace.epcis import validate_epcis

    factories.CertificateFactory(
        product=factories.ProductFactory(producer=chain.producer), issue_date=date(2025, 6, 1)
    )  # another product's: not on these
    try:
        validate_epcis({})
    except FileNotFoundError as missing:
        pytest.skip(f"GS1's EPCIS schema is not beside the project: {missing}")
    response = client.get(f"{P}/lots/{chain.bags}/epcis", headers=inspector.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.get_json(force=True)
    assert validate_epcis(document) == []
    events = document["epcisBody"]["eventList"]
    assert [e["type"] for e in events] == ["ObjectEvent"] * 3 + ["TransformationEvent"] * 5
    assert events[0]["bizStep"] == "commissioning" and events[0]["action"] == "ADD"
    assert events[-1]["bizStep"] == "packing"
    assert events[-1]["outputQuantityList"][0]["uom"] == "H87"


def test_shipping_and_an_inspection_join_the_lots_history(client, chain, inspector):
    shipped = _post(
        client,
        chain.account,
        "/trace/observations",
        {
            "kind": "shipping",
            "event_time": f"2026-01-07T08:00:00{VN}",
            "location": "Kho HTX",
            "lots": [{"lot_id": chain.bags, "quantity": 120}],
            "details": {"to": "Cửa hàng OCOP Gia Nghĩa"},
        },
    )
    assert shipped["lots"][0]["role"] == "subject"
    inspected = _post(
        client,
        inspector,
        "/trace/observations",
        {
            "kind": "inspection",
            "event_time": f"2026-01-08T09:00:00{VN}",
            "lots": [{"lot_id": chain.bags}],
            "details": {"result": "đạt", "report": "PKN-0113"},
        },
    )
    assert inspected["lots"][0]["quantity"] == 336
    trace = client.get(f"{P}/lots/{chain.bags}/trace", headers=inspector.headers).json
    assert [e["kind"] for e in trace["events"]][-2:] == ["shipping", "inspection"]


def test_inspectors_record_inspections_not_shipments(client, chain, inspector):
    response = client.post(
        f"{P}/trace/observations",
        headers=inspector.headers,
        json={
            "kind": "shipping",
            "event_time": f"2026-01-07T08:00:00{VN}",
            "lots": [{"lot_id": chain.bags}],
        },
    )
    assert response.status_code == 403


def test_the_plots_behind_a_bag_come_out_as_eudr_geojson(client, chain, inspector):
    response = client.get(f"{P}/lots/{chain.bags}/eudr.geojson", headers=inspector.headers)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    collection = response.get_json(force=True)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 3
    feature = collection["features"][0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 107 < lon < 109 and 11 < lat < 13
    properties = feature["properties"]
    assert properties["ProducerCountry"] == "VN" and properties["eudr_ready"] is True
    assert (properties["HarvestStart"], properties["HarvestEnd"]) == ("2025-11-01", "2025-11-20")


def test_a_large_plot_recorded_as_a_point_is_flagged_for_eudr(client, chain, db_session):
    chain.areas[0].area_ha = 12
    db_session.flush()
    collection = client.get(
        f"{P}/lots/{chain.bags}/eudr.geojson", headers=chain.account.headers
    ).get_json(force=True)
    flagged = [f for f in collection["features"] if not f["properties"]["eudr_ready"]]
    assert len(flagged) == 1 and "needs a polygon" in flagged[0]["properties"]["problems"][0]


def test_completeness_lists_the_ten_items_of_circular_02(client, chain, inspector):
    product_id = client.get(f"{P}/lots/{chain.bags}", headers=inspector.headers).json["product_id"]
    items = client.get(f"{P}/products/{product_id}/traceability", headers=inspector.headers).json
    assert len(items) == 10
    present = {i["key"]: i["present"] for i in items}
    assert present["stages"] and present["trace_code"] and present["standards"]
    assert present["image"] is False  # the factory product has no image


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _attach(client, account, event_id, content, name="Phiếu kết quả thử nghiệm.pdf"):
    import io

    return client.post(
        f"{P}/trace/events/{event_id}/attachments",
        headers=account.headers,
        data={"file": (io.BytesIO(content), name)},
    )


def test_an_inspector_attaches_the_lab_report_to_an_inspection(client, chain, inspector):
    inspection = _post(
        client,
        inspector,
        "/trace/observations",
        {
            "kind": "inspection",
            "event_time": f"2026-01-08T09:00:00{VN}",
            "lots": [{"lot_id": chain.bags}],
            "details": {"result": "đạt"},
        },
    )
    added = _attach(client, inspector, inspection["id"], PDF)
    assert added.status_code == 201, added.json
    assert (added.json["content_type"], added.json["size"]) == ("application/pdf", len(PDF))
    trace = client.get(f"{P}/lots/{chain.bags}/trace", headers=chain.account.headers).json
    listed = trace["events"][-1]["attachments"]
    assert [a["filename"] for a in listed] == ["Phiếu kết quả thử nghiệm.pdf"]
    file = client.get(listed[0]["url"], headers=chain.account.headers)
    assert file.data == PDF and file.mimetype == "application/pdf"
    assert "filename*=UTF-8''Phi%E1%BA%BFu" in file.headers["Content-Disposition"]


def test_only_pdf_png_or_jpeg_files_are_attached(client, chain):
    trace = client.get(f"{P}/lots/{chain.bags}/trace", headers=chain.account.headers).json
    packing = trace["events"][-1]["id"]
    refused = _attach(client, chain.account, packing, b"MZ\x90\x00 not a report", "report.pdf")
    assert refused.status_code == 422
    assert (
        _attach(client, chain.account, packing, b"\x89PNG\r\n\x1a\n....", "anh.png").status_code
        == 201
    )


def test_an_inspector_attaches_only_to_inspections_and_sampling(client, chain, inspector):
    trace = client.get(f"{P}/lots/{chain.bags}/trace", headers=inspector.headers).json
    response = _attach(client, inspector, trace["events"][0]["id"], PDF)
    assert response.status_code == 403


def test_a_file_over_the_upload_limit_is_refused(client, chain, app):
    import io

    trace = client.get(f"{P}/lots/{chain.bags}/trace", headers=chain.account.headers).json
    # Declared larger than the limit: refused before a byte of it is read.
    declared = str(app.config["MAX_UPLOAD_BYTES"] + 1)
    response = client.post(
        f"{P}/trace/events/{trace['events'][-1]['id']}/attachments",
        headers=chain.account.headers,
        data={"file": (io.BytesIO(PDF), "lon.pdf")},
        environ_overrides={"CONTENT_LENGTH": declared},
    )
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"


def test_the_areas_behind_a_lot_are_those_of_its_backward_trace(chain, db_session):
    from trace_service.trace.models import Lot
    from trace_service.trace.services import areas_behind, backward_trace

    for lot_id in (chain.bags, chain.green, chain.harvests[0]):
        lot = db_session.get(Lot, lot_id)
        expected = [area.id for area in backward_trace(db_session, lot).areas]
        assert [area.id for area in areas_behind(db_session, lot)] == expected
    assert len(areas_behind(db_session, db_session.get(Lot, chain.bags))) == 3
