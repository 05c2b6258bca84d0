"""schemathesis over ``/api/v1/openapi.json``: every operation, schema-valid and schema-breaking requests.

Sent with a Bearer API token of an account that is admin and physician (together they may call every
operation) to the in-process app on a freshly seeded demo site. Every response must be a declared status
code with its declared content type, never a 5xx, and a schema-valid request's response must match the
declared response schema. benchmarks/schemathesis_run.py runs the same with 200 examples per operation.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_RUNNER = Path(__file__).resolve().parents[3] / "benchmarks" / "schemathesis_run.py"
_spec = importlib.util.spec_from_file_location("schemathesis_run", _RUNNER)
assert _spec is not None and _spec.loader is not None
runner = sys.modules.setdefault("schemathesis_run", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(runner)
demo_site_with_token, run_schema = runner.demo_site_with_token, runner.run_schema

#: Examples per operation and mode (positive, negative): 25 operations × 2 × 8 stays well under a minute.
EXAMPLES = 8


def test_every_api_operation_answers_as_its_schema_declares(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painguide.web.routes import api

    app, token = demo_site_with_token(str(isolated_settings))
    report = run_schema(app, token, examples=EXAMPLES, seed=8)

    assert report.operations >= 20  # every /api/v1 operation was found in the schema
    assert report.requests["positive"] >= report.operations
    assert report.requests["negative"] >= report.operations // 2
    assert report.requests["positive, existing ids"] >= 10
    assert report.statuses[200] > 0 and report.statuses[422] > 0  # accepted and refused requests
    assert report.server_errors == 0
    problems = "\n".join(f"{f.operation}: {f.check}: {f.message}\n  {f.curl}" for f in report.findings[:10])
    assert not report.findings, f"{len(report.findings)} failed checks:\n{problems}"

    # The same run can fail: an operation that raises is reported with the operation and a curl line.
    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "find_procedure", broken)
    label = "GET /api/v1/catalogue/{procedure_id}"
    report = run_schema(app, token, examples=2, seed=8, only=label)
    assert report.operations == 1 and report.server_errors > 0
    assert report.findings and report.findings[0].operation == label
    assert "boom" in report.findings[0].message and report.findings[0].curl.startswith("curl")


def test_what_schemathesis_found_answers_422_naming_the_field(isolated_settings: Path) -> None:
    """Found by the run: a body that is not UTF-8 answered 400 (undeclared), an id past SQL's INTEGER 500."""
    from fastapi.testclient import TestClient

    app, token = demo_site_with_token(str(isolated_settings))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with TestClient(app, raise_server_exceptions=False) as client:
        not_utf8 = client.post("/api/v1/cases/1/plan", content=b"\xff8\xffW", headers=headers)
        bad_json = client.post("/api/v1/cases/1/plan", content=b"{bad", headers=headers)
        huge_id = client.get(f"/api/v1/cases/{2**70}", headers=headers)
        huge_offset = client.get(f"/api/v1/cases?offset={2**70}", headers=headers)

    assert not_utf8.status_code == 422 and not_utf8.json()["detail"][0]["field"] == "body"
    assert bad_json.status_code == 422 and bad_json.json()["detail"][0]["field"] == "body"
    assert huge_id.status_code == 422 and huge_id.json()["detail"][0]["field"] == "case_id"
    assert huge_offset.status_code == 422 and huge_offset.json()["detail"][0]["field"] == "offset"
