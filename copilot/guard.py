"""A switch that makes real model loads and calls fail (pydantic-ai's ALLOW_MODEL_REQUESTS).

The test suite turns it off for unit tests; every adapter that loads weights or calls a model
server calls `ensure_real_models_allowed()` first.
"""

from __future__ import annotations

from copilot.errors import MomentsError

ALLOW_REAL_MODELS = True


class RealModelCallForbidden(MomentsError):
    """A real model was about to be loaded or called while real models are forbidden."""


def ensure_real_models_allowed(what: str) -> None:
    if not ALLOW_REAL_MODELS:
        raise RealModelCallForbidden(
            f"{what} was about to run a real model while real models are forbidden",
            hint="unit tests use FakeChatModel / FakeEmbedder; move this test to tests/integration",
        )
