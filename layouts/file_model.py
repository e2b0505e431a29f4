"""The strict pydantic base of the layout file format (one copy for the package)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FileModel(BaseModel):
    """Base of every layout-file model: unknown keys are refused, values frozen.

    The service's own boundary base (``wall.platform.wire.WireModel``) has the
    same rule; this leaf package cannot import ``wall``, so it keeps its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
