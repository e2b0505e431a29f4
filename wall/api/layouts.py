"""Layout endpoints (list, read, validate, create, replace, delete) and audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import ValidationError

from layouts import Layout, LayoutInvalid
from layouts.errors import LayoutIssue, Severity
from layouts.loader import parse_layout_data
from wall.api.deps import runtime_of
from wall.platform.auth import Permission, Principal, requires
from wall.platform.errors import Invalid, Malformed
from wall.walls.library import layout_json

router = APIRouter(prefix="/api/v1", tags=["layouts"])

CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanEdit = Annotated[Principal, Depends(requires(Permission.EDIT_LAYOUTS))]
CanAudit = Annotated[Principal, Depends(requires(Permission.VIEW_AUDIT))]


class LayoutRejected(Invalid):
    """A layout with errors; ``details`` lists every issue."""


def _issue_json(i: LayoutIssue) -> dict[str, Any]:
    return {
        "severity": i.severity.value,
        "code": i.code.value,
        "message": i.message,
        "path": i.path,
        "tile_id": i.tile_id,
        "line": i.line,
    }


def _rejected(err: LayoutInvalid) -> LayoutRejected:
    issues = [_issue_json(i) for i in err.issues]
    errors = [i for i in err.issues if i.severity is Severity.ERROR]
    summary = "; ".join(
        (f"{i.tile_id}: " if i.tile_id else "") + i.message for i in errors[:10]
    )
    return LayoutRejected(
        "layout_invalid", f"{len(errors)} error(s): {summary}", issues
    )


@router.get("/layouts", summary="List layouts")
async def list_layouts(request: Request, _: CanView) -> dict[str, Any]:
    """Every layout (summary)."""
    svc = runtime_of(request).walls
    return {
        "layouts": [
            {
                "id": lay.id,
                "name": lay.name,
                "name_en": lay.name_en,
                "domain": lay.domain,
                "rows": lay.for_wall.rows,
                "cols": lay.for_wall.cols,
                "tiles": len(lay.tiles),
            }
            for lay in sorted(svc.layouts.values(), key=lambda x: x.id)
        ]
    }


@router.get("/layouts/{layout_id}", summary="One layout")
async def get_layout(request: Request, layout_id: str, _: CanView) -> dict[str, Any]:
    """A layout in its file format."""
    return layout_json(runtime_of(request).walls.layout(layout_id))


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
) -> dict[str, Any]:
    """Every error and warning of a layout against the site's walls and cameras."""
    layout = _parse(data, "request")
    issues = runtime_of(request).walls.library.check(layout)
    return {
        "ok": not any(i.severity is Severity.ERROR for i in issues),
        "issues": [_issue_json(i) for i in issues],
    }


@router.post("/layouts", status_code=201, summary="Create a layout")
async def create_layout(
    request: Request, who: CanEdit, data: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Store a new layout; refused whole with every error listed."""
    layout = _parse(data, "request")
    try:
        saved = await runtime_of(request).walls.save_layout(
            layout, who.name, create=True
        )
    except LayoutInvalid as err:
        raise _rejected(err) from None
    return layout_json(saved)


@router.put("/layouts/{layout_id}", summary="Replace a layout")
async def replace_layout(
    request: Request,
    layout_id: str,
    who: CanEdit,
    data: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """Replace a layout; displays showing it redraw. The old one stays if invalid."""
    layout = _parse(data, "request")
    if layout.id != layout_id:
        raise Malformed(
            "id_mismatch", f"body id {layout.id!r} differs from {layout_id!r}"
        )
    try:
        saved = await runtime_of(request).walls.save_layout(
            layout, who.name, create=False
        )
    except LayoutInvalid as err:
        raise _rejected(err) from None
    return layout_json(saved)


@router.delete("/layouts/{layout_id}", status_code=204, summary="Delete a layout")
async def delete_layout(request: Request, layout_id: str, who: CanEdit) -> Response:
    """Delete a layout no wall shows."""
    await runtime_of(request).walls.delete_layout(layout_id, who.name)
    return Response(status_code=204)


@router.get("/audit", summary="The append-only audit log, newest first")
async def audit(
    request: Request,
    _: CanAudit,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Who did what, when, from what to what, and why (O2)."""
    entries = await runtime_of(request).store.list_audit(
        limit=limit, before_id=before_id
    )
    return {
        "entries": [
            {
                "id": e.id,
                "at": e.at.isoformat() if e.at else None,
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "cause": e.cause,
                "detail": dict(e.detail),
            }
            for e in entries
        ]
    }
