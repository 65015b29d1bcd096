from tests.conftest import PULL


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_pull_needs_credentials(client, tenant):
    response = client.post(PULL, json={"cmId": 1000298, "customerIds": "1"})
    assert response.status_code == 401
    assert response.json() == {"status": "failed", "message": "Invalid Auth Key"}
