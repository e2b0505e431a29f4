"""Layout endpoints (list, read, validate, create, replace, delete) and audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import Field, ValidationError

from layouts import Layout, LayoutInvalid
from layouts.errors import LayoutIssue, Severity
from layouts.loader import parse_layout_data
from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.api.handlers import MAX_LISTED
from wall.platform.auth import Permission, Principal
from wall.platform.errors import Invalid, Malformed
from wall.platform.wire import WireModel

router = APIRouter(prefix="/api/v1", tags=["layouts"])

CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanEdit = Annotated[Principal, Depends(requires(Permission.EDIT_LAYOUTS))]


class LayoutRejected(Invalid):
    """A layout with errors; ``details`` lists every issue."""


class IssueOut(WireModel):
    """One error or warning of a layout."""

    severity: str = Field(description="error or warning.")
    code: str = Field(description="Stable code, e.g. rect_outside_canvas.")
    message: str
    path: str = Field(description="Key path in the layout, e.g. tiles[2].rect.")
    tile_id: str | None
    line: int | None = Field(description="Line in the YAML file, if known.")


class LayoutSummary(WireModel):
    """One layout of the library."""

    id: str
    name: str
    name_en: str | None
    domain: str
    rows: int
    cols: int
    tiles: int = Field(description="How many tiles it has.")


class LayoutList(WireModel):
    """Every layout (summary)."""

    layouts: tuple[LayoutSummary, ...]


class ValidationResult(WireModel):
    """What checking a layout found."""

    ok: bool = Field(description="No errors (warnings allowed).")
    issues: tuple[IssueOut, ...]


def _issue(i: LayoutIssue) -> IssueOut:
    return IssueOut(
        severity=i.severity.value,
        code=i.code.value,
        message=i.message,
        path=i.path,
        tile_id=i.tile_id,
        line=i.line,
    )


def _issue_json(i: LayoutIssue) -> dict[str, Any]:
    return _issue(i).model_dump(mode="json")


def _rejected(err: LayoutInvalid) -> LayoutRejected:
    # Only the listed issues are turned into JSON; the handler lists MAX_LISTED.
    issues = [_issue_json(i) for i in err.issues[:MAX_LISTED]]
    errors = [i for i in err.issues if i.severity is Severity.ERROR]
    count = len(errors) if err.total == len(err.issues) else err.total
    summary = "; ".join(
        (f"{i.tile_id}: " if i.tile_id else "") + i.message for i in errors[:10]
    )
    total = err.total if err.total > len(issues) else None
    return LayoutRejected(
        "layout_invalid", f"{count} error(s): {summary}", issues, total=total
    )


@router.get("/layouts", summary="List layouts")
async def list_layouts(request: Request, _: CanView) -> LayoutList:
    """Every layout (summary)."""
    svc = runtime_of(request).walls
    return LayoutList(
        layouts=tuple(
            LayoutSummary(
                id=lay.id,
                name=lay.name,
                name_en=lay.name_en,
                domain=lay.domain,
                rows=lay.for_wall.rows,
                cols=lay.for_wall.cols,
                tiles=len(lay.tiles),
            )
            for lay in sorted(svc.layouts.values(), key=lambda x: x.id)
        )
    )


@router.get(
    "/layouts/{layout_id}",
    summary="One layout",
    response_model_exclude_none=True,
)
async def get_layout(request: Request, layout_id: str, _: CanView) -> Layout:
    """A layout in its file format."""
    return runtime_of(request).walls.layout(layout_id)


def _parse(data: dict[str, Any], source: str) -> Layout:
    # The schema first; geometry, cameras and dwell are checked afterwards
    # against the site's walls, so one answer lists every error.
    try:
        return Layout.model_validate(data)
    except ValidationError:
        pass
    try:
        return parse_layout_data(data, source)  # raises with path-named issues
    except LayoutInvalid as err:
        raise _rejected(err) from None


@router.post("/layouts/validate", summary="Check a layout without saving it")
async def validate(
    request: Request, _: CanEdit, data: Annotated[dict[str, Any], Body()]
) -> ValidationResult:
    """Every error and warning of a layout against the site's walls and cameras."""
    layout = _parse(data, "request")
    issues = runtime_of(request).walls.library.check(layout)
    return ValidationResult(
        ok=not any(i.severity is Severity.ERROR for i in issues),
        issues=tuple(_issue(i) for i in issues),
    )


@router.post(
    "/layouts",
    status_code=201,
    summary="Create a layout",
    response_model_exclude_none=True,
)
async def create_layout(
    request: Request, who: CanEdit, data: Annotated[dict[str, Any], Body()]
) -> Layout:
    """Store a new layout; refused whole with every error listed."""
    return await _save(request, _parse(data, "request"), who, create=True)


@router.put(
    "/layouts/{layout_id}",
    summary="Replace a layout",
    response_model_exclude_none=True,
)
async def replace_layout(
    request: Request,
    layout_id: str,
    who: CanEdit,
    data: Annotated[dict[str, Any], Body()],
) -> Layout:
    """Replace a layout; displays showing it redraw. The old one stays if invalid."""
    layout = _parse(data, "request")
    if layout.id != layout_id:
        raise Malformed(
            "id_mismatch", f"body id {layout.id!r} differs from {layout_id!r}"
        )
    return await _save(request, layout, who, create=False)


async def _save(
    request: Request, layout: Layout, who: Principal, *, create: bool
) -> Layout:
    try:
        return await runtime_of(request).walls.save_layout(
            layout, who.name, create=create
        )
    except LayoutInvalid as err:
        raise _rejected(err) from None


@router.delete(
    "/layouts/{layout_id}",
    status_code=204,
    summary="Delete a layout",
    response_class=Response,
)
async def delete_layout(request: Request, layout_id: str, who: CanEdit) -> Response:
    """Delete a layout no wall shows."""
    await runtime_of(request).walls.delete_layout(layout_id, who.name)
    return Response(status_code=204)
