"""The runtime's register of components: each with its health and metrics.

Every capability registers its long-lived component the same way: the
register enters it (so shutdown runs in reverse order) and keeps the
component's health and metric sources, which ``/healthz`` and ``/metrics``
read at request time. Nothing here knows a capability.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client.core import Metric

from wall.platform.health import ComponentHealth

T = TypeVar("T")

HealthSource = Callable[[], Iterable[ComponentHealth]]
"""Health entries of one component, read at request time."""
MetricSource = Callable[[], Iterable[Metric]]
"""Prometheus metric families of one component, read at scrape time."""


@dataclass(frozen=True, slots=True)
class Registration:
    """One registered component.

    Attributes:
        name: the component's name (``store``, ``detector``…).
        health: its health source, if it reports health.
        metrics: its metric source, if it exports metrics.
    """

    name: str
    health: HealthSource | None
    metrics: MetricSource | None


class ComponentRegistry:
    """Components in start order, entered into one exit stack."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self._stack = stack
        self._entries: list[Registration] = []

    async def start(
        self,
        name: str,
        component: AbstractAsyncContextManager[T],
        *,
        health: HealthSource | None = None,
        metrics: MetricSource | None = None,
    ) -> T:
        """Enter ``component`` and register its sources; returns what it yields.

        Raises:
            ValueError: the name is registered already.
        """
        entered = await self._stack.enter_async_context(component)
        self.add(name, health=health, metrics=metrics)
        return entered

    def add(
        self,
        name: str,
        *,
        health: HealthSource | None = None,
        metrics: MetricSource | None = None,
    ) -> None:
        """Register sources of something the caller started itself.

        Raises:
            ValueError: the name is registered already.
        """
        if any(e.name == name for e in self._entries):
            raise ValueError(f"component {name!r} is registered twice")
        self._entries.append(Registration(name, health, metrics))

    @property
    def names(self) -> tuple[str, ...]:
        """Registered names, in start order."""
        return tuple(e.name for e in self._entries)

    def health(self) -> list[ComponentHealth]:
        """Every component's health entries, in start order."""
        return [h for e in self._entries if e.health for h in e.health()]

    def metric_families(self) -> Iterator[Metric]:
        """Every component's metric families, in start order."""
        for entry in self._entries:
            if entry.metrics is not None:
                yield from entry.metrics()
