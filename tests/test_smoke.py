def test_health_answers(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}


def test_admin_can_list_products(client, admin):
    from tests.factories import ProductFactory

    ProductFactory()
    response = client.get("/api/v1/products", headers=admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["total"] == 1
