"""The REST API, version 1 (``/api/v1``): catalogue, advisor and the OpenAPI schema of these routes.

The unversioned paths of earlier releases (``/api/catalogue``, ``/api/advise/{id}``, ``/api/openapi.json``)
answer ``308 Permanent Redirect`` to their ``/api/v1`` twin for one more release. A bad query parameter
answers 422 with ``{"error": "validation", "detail": [{"field", "message"}]}`` (one handler in app.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from painguide.advisor import PatientFactors, find_procedure, recommend
from painguide.auth import User
from painguide.catalogue.loader import KnowledgeBase, load_knowledge
from painguide.settings import get_settings
from painguide.web.deps import allow

__all__ = [
    "MAX_ROW_ID",
    "PREFIX",
    "FieldProblem",
    "Problem",
    "RowId",
    "ValidationProblem",
    "legacy",
    "router",
]

PREFIX = "/api/v1"
#: The largest row id (a 32-bit SQL INTEGER); a larger id in a path is refused with 422, not passed to SQL.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Row id")]


class Problem(BaseModel):
    """An error: the exception's name and a message that names the field and the fix."""

    error: str = Field(examples=["UnknownProcedureError"])
    detail: str


class FieldProblem(BaseModel):
    """One invalid input: the field (query parameter, path parameter or body key) and what is expected."""

    field: str = Field(examples=["egfr"])
    message: str = Field(examples=["Input should be a valid number, unable to parse string as a number"])


class ValidationProblem(BaseModel):
    """422: every invalid input at once."""

    error: Literal["validation"] = "validation"
    detail: list[FieldProblem]


_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "The role may not perform this action"},
    422: {"model": ValidationProblem, "description": "Invalid input; names every bad field"},
}
router = APIRouter(prefix=PREFIX, tags=["v1"], responses=_RESPONSES)
legacy = APIRouter(prefix="/api", include_in_schema=False)
Catalogue = Annotated[User, Depends(allow("catalogue.read"))]
Advise = Annotated[User, Depends(allow("advise"))]
Schema = Annotated[User, Depends(allow("api.schema"))]


def _kb() -> KnowledgeBase:
    return load_knowledge(get_settings().site_policy)


class AdviceQuery(BaseModel):
    """Patient factors for the advisor; unknown parameters are refused (a misspelt factor is not ignored)."""

    model_config = ConfigDict(extra="forbid")

    pregnant: bool = False
    breastfeeding: bool = False
    contrast_allergy: bool = Field(False, description="Iodinated contrast allergy")
    renal_impairment: bool = False
    high_bleeding_risk: bool = False
    prior_fusion: bool = Field(False, description="Prior fusion at the treated level")
    spinal_hardware: bool = False
    egfr: float | None = Field(None, description="eGFR in mL/min/1.73 m² (0-200)")
    bmi: float | None = Field(None, description="Body-mass index in kg/m² (10-100)")
    age: float | None = Field(None, description="Age in years (0-120)")
    drug: list[str] = Field([], description="Antithrombotic drugs, generic names; repeat or comma-separate")
    aspirin_indication: Literal["primary", "secondary"] | None = None

    def factors(self) -> PatientFactors:
        """The advisor's patient factors (range checks raise a ValidationError naming the field)."""
        drugs = tuple(d.strip() for raw in self.drug for d in raw.split(",") if d.strip())
        return PatientFactors(
            **self.model_dump(exclude={"drug"}),
            drugs=drugs,
        )


@router.get("/catalogue")
def catalogue(user: Catalogue) -> list[dict[str, object]]:
    """Every enabled procedure: id, names, region, bleeding risk and the role of each modality."""
    return [p.summary() for p in _kb().catalogue.enabled()]


@router.get("/catalogue/{procedure_id}", responses={404: {"model": Problem}})
def procedure(procedure_id: str, user: Catalogue) -> dict[str, object]:
    """One procedure with every modality, fact, source and status."""
    return find_procedure(_kb(), procedure_id).model_dump(mode="json")


@router.get("/advise/{procedure_id}", responses={404: {"model": Problem}})
def advise(procedure_id: str, user: Advise, query: Annotated[AdviceQuery, Query()]) -> dict[str, object]:
    """Every modality of the procedure ranked for the patient, with reasons, sources and the anticoagulation
    plan (the same object as ``painguide advise --json``)."""
    return recommend(_kb(), procedure_id, query.factors()).to_dict()


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, user: Schema) -> dict[str, object]:
    """The OpenAPI schema of every ``/api/v1`` route (catalogue, advisor, pathway), for signed-in users."""
    app = request.app
    routes = [r for api in app.state.api_routers for r in api.routes if isinstance(r, APIRoute)]
    return get_openapi(title=f"{app.title} API", version="1", description=app.description, routes=routes)


def _moved(request: Request) -> RedirectResponse:
    """308 to the ``/api/v1`` twin of this path, keeping the query string (method and body are kept)."""
    target = PREFIX + request.url.path.removeprefix("/api")
    if request.url.query:
        target += f"?{request.url.query}"
    return RedirectResponse(target, status_code=308)


@legacy.get("/catalogue")
def moved_catalogue(request: Request, user: Catalogue) -> RedirectResponse:
    """Moved to ``/api/v1/catalogue``."""
    return _moved(request)


@legacy.get("/catalogue/{procedure_id}")
def moved_procedure(request: Request, procedure_id: str, user: Catalogue) -> RedirectResponse:
    """Moved to ``/api/v1/catalogue/{procedure_id}``."""
    return _moved(request)


@legacy.get("/advise/{procedure_id}")
def moved_advise(request: Request, procedure_id: str, user: Advise) -> RedirectResponse:
    """Moved to ``/api/v1/advise/{procedure_id}``."""
    return _moved(request)


@legacy.get("/openapi.json")
def moved_openapi(request: Request, user: Schema) -> RedirectResponse:
    """Moved to ``/api/v1/openapi.json``."""
    return _moved(request)
