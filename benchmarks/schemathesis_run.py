"""schemathesis over the REST API's OpenAPI schema (``/api/v1/openapi.json``), in process.

Every operation of the schema gets ``--examples`` generated requests that match the schema (positive) and as
many that break it (negative), sent with a Bearer API token through the ASGI app on a freshly seeded demo
site. Each response is checked: no server error (5xx), a status code the schema declares, its content type,
and (for positive requests) a body that matches the declared response schema. The test
tests/integration/web/test_api_schemathesis.py runs the same function with few examples.

Run: ``python benchmarks/schemathesis_run.py [--examples 200] [--seed 8] [--quick]``; the table goes to
docs/security.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCHEMA_PATH = "/api/v1/openapi.json"
#: The account the run uses: admin and physician together reach every API operation's main path.
ROLES = ("admin", "physician")


@dataclass
class Finding:
    """One failed check: the operation, the check's message and a curl line that repeats the request."""

    operation: str
    check: str
    message: str
    curl: str


@dataclass
class RunReport:
    operations: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # by mode: positive, negative, existing ids
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    def failed_checks(self) -> Counter[str]:
        return Counter(f.check for f in self.findings)


def run_schema(
    app: Any,
    token: str,
    *,
    examples: int,
    seed: int = 8,
    progress: Callable[[str], None] | None = None,
    only: str | None = None,
) -> RunReport:
    """Run every operation of the app's schema (or only the one labelled ``only``, e.g. ``GET /api/v1/cases``)
    with ``examples`` positive and negative requests each, and positive ones again on existing rows."""
    import schemathesis
    from hypothesis import HealthCheck, settings
    from hypothesis import seed as hseed
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, app, headers=headers)
    report = RunReport()
    started = time.perf_counter()
    checks_for = {
        GenerationMode.POSITIVE: [
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        # A request that breaks the schema must be refused in a declared way; its body is not checked
        # against the success schema (a 422 has its own).
        GenerationMode.NEGATIVE: [not_a_server_error, status_code_conformance, content_type_conformance],
    }
    hypothesis_settings: dict[str, Any] = {
        "max_examples": examples,
        "deadline": None,
        "database": None,
        "suppress_health_check": list(HealthCheck),
    }
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if only is not None and label != only:
            continue
        report.operations += 1
        if progress is not None:
            progress(label)
        runs = [
            (mode.value, operation.as_strategy(generation_mode=mode), checks)
            for mode, checks in checks_for.items()
        ]
        known = _known_ids(operation)
        if known:
            # Random ids mostly miss: the same positive requests again on rows the demo site has.
            strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known)
            runs.append(("positive, existing ids", strategy, checks_for[GenerationMode.POSITIVE]))
        for mode_name, strategy, checks in runs:
            probe = _probe(strategy, mode_name, checks, label, headers, report)
            try:
                hseed(seed)(settings(**hypothesis_settings)(probe))()
            except Exception as exc:  # an unsatisfiable strategy is reported, not fatal
                name = type(exc).__name__
                if "Unsatisfiable" not in name:
                    report.findings.append(
                        Finding(label, f"generation ({mode_name})", f"{name}: {exc}"[:400], "")
                    )
    report.seconds = time.perf_counter() - started
    return report


def _known_ids(operation: Any) -> dict[str, int]:
    """Integer path parameters set to 1: the first patient, case, procedure and follow-up of the demo site."""
    return {
        p.name: 1
        for p in operation.path_parameters
        if (p.definition.get("schema") or {}).get("type") == "integer"
    }


def _probe(
    strategy: Any, mode: str, checks: list[Any], label: str, headers: dict[str, str], report: RunReport
) -> Callable[[], None]:
    """A Hypothesis test body that sends each generated case and records every distinct failed check."""
    from hypothesis import given

    seen: set[tuple[str, str]] = set()

    @given(case=strategy)
    def probe(case: Any) -> None:
        report.requests[mode] += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the in-process app raised: a server error
            report.server_errors += 1
            message = f"{type(exc).__name__}: {exc}"[:400]
            if ("Server error", message) not in seen:
                seen.add(("Server error", message))
                report.findings.append(Finding(label, "Server error", message, case.as_curl_command()))
            return
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.server_errors += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # a Failure, or a FailureGroup of several
            failures = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
            for failure in failures:
                title = str(getattr(failure, "title", type(failure).__name__))
                message = str(getattr(failure, "message", failure))[:400]
                if (title, message) not in seen:
                    seen.add((title, message))
                    report.findings.append(Finding(label, title, message, case.as_curl_command()))

    return probe  # type: ignore[no-any-return]


def demo_site_with_token(data_dir: str) -> tuple[Any, str]:
    """A freshly seeded demo site in ``data_dir`` and an API token of an account with :data:`ROLES`."""
    os.environ["PAINGUIDE_DATA_DIR"] = data_dir
    os.environ["PAINGUIDE_DEMO"] = "1"
    os.environ.setdefault("PAINGUIDE_PASSWORD_TIME_COST", "1")
    os.environ.setdefault("PAINGUIDE_PASSWORD_MEMORY_KIB", "8192")
    from painguide.settings import get_settings

    get_settings.cache_clear()
    from painguide.web.app import create_app

    app = create_app()  # migrates and seeds the demo data
    return app, api_token(ROLES)


def api_token(roles: tuple[str, ...], username: str = "api-probe") -> str:
    """Create an account with ``roles`` and issue it an API token (through the account service)."""
    from painguide.accounts.service import issue_token
    from painguide.auth import User
    from painguide.services import open_uow

    operator = User("setup", "", frozenset({"admin"}))
    with open_uow() as uow:
        if uow.users.row(username) is None:
            uow.users.add(username, "api-probe-password", list(roles))
        token = issue_token(uow, operator, username, label="schemathesis")
        uow.commit()
    return token


def _table(report: RunReport, examples: int) -> str:
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(report.statuses.items()))
    failed = report.failed_checks()
    lines = [
        "| operations | examples per operation and mode | requests (positive / negative) | server errors "
        "(5xx) | failed checks | status codes | seconds |",
        "|---|---|---|---|---|---|---|",
        f"| {report.operations} | {examples} | {report.requests['positive']} + "
        f"{report.requests['positive, existing ids']} on existing ids / {report.requests['negative']} "
        f"| {report.server_errors} | {sum(failed.values())} | {statuses} | {report.seconds:.0f} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="examples per operation and mode")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="10 examples per operation and mode")
    args = parser.parse_args(argv)
    examples = 10 if args.quick else args.examples
    with tempfile.TemporaryDirectory(prefix="painguide-schemathesis-") as folder:
        app, token = demo_site_with_token(folder)
        report = run_schema(
            app, token, examples=examples, seed=args.seed, progress=lambda op: print(op, file=sys.stderr)
        )
    print(_table(report, examples))
    for finding in report.findings[:20]:
        print(f"\n{finding.operation}: {finding.check}: {finding.message}\n  {finding.curl}")
    return 1 if report.server_errors or report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
