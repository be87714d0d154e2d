"""API tier: the Flask test client over a Core on a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

from typing import Any

import pytest

from api import create_app
from engine.core import Core
from tests.conftest import PASSWORD


class Client:
    """A logged-in API user."""

    def __init__(self, http: Any, username: str):
        self.http = http
        self.username = username
        response = http.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        self.token = response.get_json()["access_token"]

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.http.get(url, headers=self._headers(), **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.http.post(url, headers=self._headers(), **kw)

    def ready(self, case_id: int, bpmn_id: str) -> dict[str, Any]:
        items = self.get(f"/api/v1/tasks?case_id={case_id}&state=ready").get_json()["items"]
        found = [t for t in items if t["bpmn_id"] == bpmn_id]
        assert found, f"{bpmn_id} not ready; ready: {[t['bpmn_id'] for t in items]}"
        return found[0]

    def complete(self, case_id: int, bpmn_id: str, data: dict[str, Any], status: int = 200) -> Any:
        task = self.ready(case_id, bpmn_id)
        response = self.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == status, response.get_json()
        return response.get_json()


@pytest.fixture
def app(core: Core) -> Any:
    return create_app(core)


@pytest.fixture
def http(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def login(http: Any) -> Any:
    return lambda username: Client(http, username)
