"""`POST /v1/moments`: which moment of impact a post is, how urgent, how the member feels.

The rules decide alone unless the bundled embedder is at hand: then the learned layer of
`copilot.moments_model` decides (`method: "rules+embed"` in the answer). The embedder is the
knowledge index's when the index is already open (same vector space, model already loaded),
else one built from the settings on first use; the model itself loads once per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from api.deps import PluginKey
from api.schemas import AUTH_ERRORS, MomentRequest, errors
from copilot.types import Moment, Post

if TYPE_CHECKING:
    from copilot.embeddings import Embedder

router = APIRouter(tags=["moments"])


def moment_embedder(request: Request) -> Embedder | None:
    """The index's embedder if an index is open, else the settings' (built once, lazily)."""
    state = request.app.state
    index: Any = getattr(state, "index", None)
    if index is not None:
        embedder: Embedder | None = getattr(index, "embedder", None)
        return embedder
    built: Embedder | None = getattr(state, "moment_embedder", None)
    if built is None:
        from copilot.embeddings import build_embedder

        built = build_embedder(state.settings)
        state.moment_embedder = built
    return built


@router.post(
    "/moments",
    summary="Classify a post's moment (rules + the bundled sentence embedder)",
    response_model=Moment,
    responses={**AUTH_ERRORS, **errors(400)},
)
def classify(body: MomentRequest, request: Request, _caller: PluginKey) -> Moment:
    from copilot.moments import classify_post

    return classify_post(Post(**body.model_dump()), embedder=moment_embedder(request))
