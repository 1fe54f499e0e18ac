"""The HTTP API: `create_app()` builds a FastAPI app over the same core as the CLI.

One router per resource in `api.routers`, dependencies as named `Annotated` types in
`api.deps`, wire schemas in `api.schemas`, errors as one JSON envelope in `api.errors`,
body size, rate limits and request metrics in `api.limits`.
"""

from __future__ import annotations

__all__ = ["VERSION", "create_app"]

VERSION = "0.1.0"


def __getattr__(name: str) -> object:
    if name == "create_app":
        from api.app import create_app

        return create_app
    raise AttributeError(name)
