"""Print the service's OpenAPI document (``python -m wall.openapi``).

The committed ``openapi.json`` is compared with this output by a test, so an
API change is always a visible diff.
"""

from __future__ import annotations

import json
from typing import Any

from wall.app import create_app
from wall.config.settings import Settings


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the app with default settings."""
    return create_app(Settings()).openapi()


if __name__ == "__main__":
    print(json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True))
