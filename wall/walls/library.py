"""The layout library: every saved layout, validated before it is stored.

On first start it is seeded with the shipped layouts; after that the
repository is the source of truth and admins edit layouts through the API
(O7: an invalid layout is refused whole, the stored one stays).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

from layouts import (
    Layout,
    LayoutInvalid,
    WallShape,
    fit_layout_to_wall,
    load_builtin_layouts,
    validate_layout,
)
from layouts.errors import LayoutIssue, Severity
from wall.platform.audit import AuditEntry
from wall.platform.errors import Conflict, NotFound
from wall.platform.event_bus import EventBus
from wall.walls.repository import LayoutRepository
from wall.walls.topics import LAYOUT_DELETED, LAYOUT_SAVED, LayoutRef

log = logging.getLogger(__name__)


class LayoutLibrary:
    """Layouts by id, backed by a repository.

    Args:
        repository: where layouts and their audit lines are kept.
        bus: where ``layout.saved`` / ``layout.deleted`` events go.
        walls: the site's walls (a layout is checked against each of its shape).
        camera_ids: the configured camera ids (unknown cameras are errors at save).
    """

    def __init__(
        self,
        repository: LayoutRepository,
        bus: EventBus,
        walls: Sequence[WallShape],
        camera_ids: Callable[[], Collection[str]],
    ) -> None:
        self.repository = repository
        self.bus = bus
        self.walls = walls
        self.camera_ids = camera_ids
        self.layouts: dict[str, Layout] = {}

    async def load(self) -> None:
        """Read every stored layout; seed the shipped ones into an empty store."""
        stored = await self.repository.load_all()
        if stored is None:
            for layout in load_builtin_layouts():
                await self.repository.seed(layout)
                self.layouts[layout.id] = layout
            log.info("seeded %d built-in layouts", len(self.layouts))
            return
        self.layouts = {layout.id: layout for layout in stored}

    def get(self, layout_id: str) -> Layout:
        """A layout or :class:`NotFound`."""
        layout = self.layouts.get(layout_id)
        if layout is None:
            raise NotFound("layout_not_found", f"no layout with id {layout_id!r}")
        return layout

    def check(self, layout: Layout) -> list[LayoutIssue]:
        """Every issue of ``layout`` against each wall of its shape (or its own)."""
        shape = (layout.for_wall.rows, layout.for_wall.cols)
        targets = [w for w in self.walls if (w.rows, w.cols) == shape]
        cameras = set(self.camera_ids())
        issues: list[LayoutIssue] = []
        walls: list[WallShape] = [*targets] or [layout.for_wall]
        for target in walls:
            try:
                fitted = fit_layout_to_wall(layout, target)
            except LayoutInvalid as err:
                issues.extend(err.issues)
                continue
            for issue in validate_layout(fitted, target, cameras).issues:
                if issue not in issues:
                    issues.append(issue)
        return issues

    async def save(self, layout: Layout, actor: str, *, create: bool) -> Layout:
        """Create or replace a layout after validating it (nothing half-saved).

        Raises:
            LayoutInvalid: listing every error; the stored layout is unchanged.
            Conflict: creating an id that exists.
            NotFound: replacing an id that does not exist.
            StoreError: it could not be stored; nothing changed.
        """
        exists = layout.id in self.layouts
        if create and exists:
            raise Conflict("layout_exists", f"layout {layout.id!r} already exists")
        if not create and not exists:
            raise NotFound("layout_not_found", f"no layout with id {layout.id!r}")
        issues = self.check(layout)
        if any(i.severity is Severity.ERROR for i in issues):
            raise LayoutInvalid(layout.id, issues)
        entry = AuditEntry(
            actor=actor,
            action="layout.create" if create else "layout.update",
            target=f"layout:{layout.id}",
            cause="operator",
            detail={"name": layout.name, "tiles": len(layout.tiles)},
        )
        await self.repository.save(layout, entry)  # both commit, or neither
        self.layouts[layout.id] = layout
        self.bus.emit(LAYOUT_SAVED, LayoutRef(layout_id=layout.id))
        return layout

    async def delete(self, layout_id: str, actor: str, shown_on: Sequence[str]) -> None:
        """Delete a layout that no wall shows.

        Raises:
            Conflict: a wall shows it (switch the wall first).
            StoreError: it could not be deleted; nothing changed.
        """
        self.get(layout_id)
        if shown_on:
            raise Conflict(
                "layout_in_use",
                f"layout {layout_id!r} is on wall(s) {', '.join(shown_on)}",
            )
        entry = AuditEntry(
            actor=actor,
            action="layout.delete",
            target=f"layout:{layout_id}",
            cause="operator",
        )
        await self.repository.delete(layout_id, entry)  # both commit, or neither
        del self.layouts[layout_id]
        self.bus.emit(LAYOUT_DELETED, LayoutRef(layout_id=layout_id))
