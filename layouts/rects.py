"""Integer pixel rectangles (x, y, w, h; origin top left, y down)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle in integer pixels.

    ``x`` and ``y`` are the top-left corner, ``w`` and ``h`` the size; the
    rectangle covers columns ``x .. x + w - 1`` and rows ``y .. y + h - 1``
    (half-open), so two rects sharing an edge neither overlap nor leave a gap.
    The coordinate space (wall canvas, panel-local, tile-local) is named by
    whoever holds the rect.
    """

    x: int
    y: int
    w: int
    h: int

    @property
    def xywh(self) -> tuple[int, int, int, int]:
        """``(x, y, w, h)``, the wire order of a rect."""
        return self.x, self.y, self.w, self.h

    @property
    def x2(self) -> int:
        """The exclusive right edge, ``x + w``."""
        return self.x + self.w

    @property
    def y2(self) -> int:
        """The exclusive bottom edge, ``y + h``."""
        return self.y + self.h

    @property
    def area(self) -> int:
        """Area in pixels (0 for an empty or negative-sized rect).

        Examples:
            >>> Rect(0, 0, 1920, 1080).area
            2073600
            >>> Rect(5, 5, -3, 10).area
            0
        """
        return max(self.w, 0) * max(self.h, 0)

    @property
    def is_empty(self) -> bool:
        """Whether the rect covers no pixel (zero or negative size)."""
        return self.w <= 0 or self.h <= 0

    def intersection(self, other: Rect) -> Rect | None:
        """Return the common part of two rects, or ``None`` if they share no pixel.

        Examples:
            >>> Rect(0, 0, 100, 100).intersection(Rect(50, 60, 100, 100))
            Rect(x=50, y=60, w=50, h=40)
            >>> Rect(0, 0, 100, 100).intersection(Rect(100, 0, 10, 10)) is None
            True
        """
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        x2, y2 = min(self.x2, other.x2), min(self.y2, other.y2)
        if x2 <= x1 or y2 <= y1:
            return None
        return Rect(x1, y1, x2 - x1, y2 - y1)

    def contains(self, other: Rect) -> bool:
        """Whether ``other`` lies wholly inside this rect.

        Examples:
            >>> Rect(0, 0, 7680, 3240).contains(Rect(5760, 2160, 1920, 1080))
            True
            >>> Rect(0, 0, 7680, 3240).contains(Rect(5761, 2160, 1920, 1080))
            False
        """
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x2 <= self.x2
            and other.y2 <= self.y2
        )

    def shifted(self, dx: int, dy: int) -> Rect:
        """Return the rect moved by ``(dx, dy)`` pixels (a change of origin).

        Examples:
            >>> Rect(2000, 1100, 10, 10).shifted(-1920, -1080)
            Rect(x=80, y=20, w=10, h=10)
        """
        return Rect(self.x + dx, self.y + dy, self.w, self.h)
