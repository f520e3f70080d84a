"""Head office's API tested through its own OpenAPI schema: generated requests never get a server error."""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis

from app.group import services
from app.group.protocol import ENROL_PATH, RECORDS_PATH
from app.staff.services import create_api_token
from tests.integration.api.test_api_schema import _generated
from tests.integration.group.test_group_api import _check


async def test_generated_requests_to_head_office_api_never_get_a_5xx(runtime: Any, api: httpx.AsyncClient) -> None:
    async with runtime.db.write() as session:
        added = await services.add_venue(
            session, code="NORTH", name="Brigade North", timezone="Europe/Amsterdam", currency="EUR"
        )
        token = await create_api_token(session, name="Group ERP", scopes="read,write")
    credential = (await api.post(ENROL_PATH, json={"token": added.token})).json()["credential"]
    sent_batch = await api.post(
        RECORDS_PATH, json={"records": [_check(1, 1)]}, headers={"authorization": f"Bearer {credential}"}
    )
    assert sent_batch.status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    spec = (await api.get("/schema/openapi.json")).json()
    assert "after" in {p["name"] for p in spec["paths"]["/api/v1/checks"]["get"]["parameters"]}
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1"):
            continue
        for case in _generated(operation):
            request = case.as_transport_kwargs(base_url="http://head-office.test", headers=headers)
            response = await api.request(
                request["method"],
                request["url"],
                params=request.get("params"),
                headers={**(request.get("headers") or {}), **headers},
                json=request.get("json"),
                content=request.get("data") if "json" not in request else None,
            )
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {request.get('params')} -> {response.text[:200]}")
    assert sent >= 30
    assert failures == []
