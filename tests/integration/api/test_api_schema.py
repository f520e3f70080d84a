"""The API tested through its own OpenAPI schema: generated requests never get a server error."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase

EXAMPLES_PER_OPERATION = 25


def _generated(operation: Any) -> list[Any]:
    """Requests hypothesis generates from one operation's schema (collected, then sent by the async test)."""
    cases: list[Any] = []

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases


async def test_generated_requests_to_every_api_operation_never_get_a_5xx(
    api: Any, writer: dict[str, str], runtime: Any
) -> None:
    schema = schemathesis.openapi.from_dict((await api.get("/schema/openapi.json")).json())
    failures: list[str] = []
    operations = 0
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1"):
            continue
        operations += 1
        cases = _generated(operation)
        for case in cases:
            request = case.as_transport_kwargs(base_url="http://testserver.local", headers=writer)
            response = await api.request(
                request["method"],
                request["url"],
                params=request.get("params"),
                headers={**(request.get("headers") or {}), **writer},
                json=request.get("json"),
                content=request.get("data") if "json" not in request else None,
            )
            sent += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {request.get('params')} -> "
                    f"{response.status_code}: {response.text[:200]}"
                )
    assert operations >= 10
    assert sent >= operations * 5, f"only {sent} generated requests"
    assert failures == []


async def test_the_schema_says_every_api_operation_needs_a_bearer_token(api: Any, reader: dict[str, str]) -> None:
    response = await api.get("/schema/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["components"]["securitySchemes"]["BearerToken"]["type"] == "http"
    assert spec["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    operations = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    api_operations = [(method, path, op) for method, path, op in operations if path.startswith("/api/v1/")]
    assert len(api_operations) >= 10
    assert [(m, p) for m, p, op in api_operations if op.get("security") != [{"BearerToken": []}]] == []
    assert [p for _, p, _ in operations if not p.startswith("/api/v1/")] == [], "only the API is in the schema"
    unauthenticated = await api.get("/api/v1/menu/items")
    assert unauthenticated.status_code == 401, "the schema's word is what the API does"
    assert (await api.get("/api/v1/menu/items", headers=reader)).status_code == 200
