"""`LlamaCppChatModel`: the bundled GGUF (or any GGUF) in-process through llama-cpp-python.

Loading takes seconds and ~1 GB of memory, so loaded models are cached per
(path, n_ctx, n_threads, chat_format) for the life of the process: several drafts share one.
A llama.cpp context is not thread-safe, so generation holds a per-model lock; concurrent callers
queue. The chat format comes from the GGUF's own template (Qwen2.5 ships a ChatML template).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import LLMResponseError, LLMUnavailableError, ModelError
from copilot.guard import ensure_real_models_allowed
from copilot.llm.cpu import extra_buffers_disabled
from copilot.types import ChatMessage, GenerationOptions

if TYPE_CHECKING:
    from llama_cpp import Llama


@dataclass
class Usage:
    """Token counts and timings of the last call (for benchmarks and logs)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0  # streamed pieces; llama-cpp-python streams one token per piece
    seconds: float = 0.0
    first_token_seconds: float | None = None
    finish_reason: str | None = None


@dataclass
class _Loaded:
    llama: Llama
    lock: threading.Lock
    load_seconds: float


_CacheKey = tuple[str, int, int, str | None]
_CACHE: dict[_CacheKey, _Loaded] = {}
_CACHE_LOCK = threading.Lock()


def load_llama(
    path: Path, *, n_ctx: int, n_threads: int, chat_format: str | None = None
) -> tuple[Llama, threading.Lock]:
    """The process-wide `llama_cpp.Llama` for these parameters, loading it on first use."""
    ensure_real_models_allowed(f"loading the local model {path.name}")
    key: _CacheKey = (str(path), n_ctx, n_threads, chat_format)
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            loaded = _load(path, n_ctx=n_ctx, n_threads=n_threads, chat_format=chat_format)
            _CACHE[key] = loaded
    return loaded.llama, loaded.lock


def _load(path: Path, *, n_ctx: int, n_threads: int, chat_format: str | None) -> _Loaded:
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ModelError(
            f"llama-cpp-python is not installed ({exc})",
            hint="pip install 'llama-cpp-python==0.3.36' (builds from source, ~10 minutes)",
        ) from None
    if not path.is_file():
        raise ModelError(
            f"the model file {path} does not exist",
            hint="run: moments models prepare   (or fix MOMENTS_LLM_MODEL_PATH)",
        )
    started = time.perf_counter()
    try:
        with extra_buffers_disabled():  # llama.cpp's AMX kernels crash: see copilot.llm.cpu
            llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                chat_format=chat_format,
                verbose=False,
            )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(
            f"llama.cpp could not load {path}: {exc}",
            hint="check the file with: moments models --verify; a lower MOMENTS_LLM_CONTEXT "
            "needs less memory",
        ) from None
    return _Loaded(llama=llama, lock=threading.Lock(), load_seconds=time.perf_counter() - started)


def unload_all() -> None:
    """Drop every cached model (tests and long-lived processes switching models)."""
    with _CACHE_LOCK:
        for loaded in _CACHE.values():
            with loaded.lock:
                loaded.llama.close()
        _CACHE.clear()


class LlamaCppChatModel:
    """A `ChatModel` running a GGUF in this process. Text never leaves the machine."""

    provider = "local"
    local = True

    def __init__(
        self,
        path: Path | str,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        name: str | None = None,
        *,
        chat_format: str | None = None,
        lock_timeout: float | None = None,
    ) -> None:
        self.path = Path(path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.name = name or self.path.stem
        self.chat_format = chat_format
        self.lock_timeout = lock_timeout  # seconds to wait for a busy model; None: forever
        self.last_usage = Usage()  # of the last call on this instance

    def __repr__(self) -> str:
        return f"LlamaCppChatModel(name={self.name!r}, path={str(self.path)!r}, n_ctx={self.n_ctx})"

    def load(self) -> Llama:
        """Load (or fetch from the cache) the underlying `llama_cpp.Llama`."""
        llama, _lock = load_llama(
            self.path, n_ctx=self.n_ctx, n_threads=self.n_threads, chat_format=self.chat_format
        )
        return llama

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        """Yield the reply token by token. Holds the model's lock until the stream ends or closes."""
        ensure_real_models_allowed(f"LlamaCppChatModel({self.name}).stream")
        return self._stream(list(messages), options)

    def _stream(self, messages: list[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        llama, lock = load_llama(
            self.path, n_ctx=self.n_ctx, n_threads=self.n_threads, chat_format=self.chat_format
        )
        usage = Usage()
        self.last_usage = usage
        waited = time.perf_counter()
        if not lock.acquire(timeout=-1 if self.lock_timeout is None else self.lock_timeout):
            raise LLMUnavailableError(
                f"the local model {self.name} stayed busy with another generation for "
                f"{time.perf_counter() - waited:.0f} s",
                hint="drafts queue on one in-process model; raise MOMENTS_LLM_TIMEOUT, or serve "
                "the model with an OpenAI-compatible server for parallel requests",
            )
        chunks: Any = None
        started = time.perf_counter()
        try:
            chunks = llama.create_chat_completion(
                messages=[m.model_dump() for m in messages],  # type: ignore[misc]
                temperature=options.temperature,
                top_p=options.top_p,
                max_tokens=options.max_tokens,
                seed=options.seed,
                stop=list(options.stop) or None,
                stream=True,
            )
            for chunk in chunks:
                choice = chunk["choices"][0]
                if choice.get("finish_reason"):
                    usage.finish_reason = choice["finish_reason"]
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    if usage.first_token_seconds is None:
                        usage.first_token_seconds = time.perf_counter() - started
                    usage.completion_tokens += 1
                    yield piece
        except ValueError as exc:  # e.g. "Requested tokens (5000) exceed context window"
            raise LLMResponseError(
                f"the local model refused the request: {exc}",
                hint="shorten the input or raise MOMENTS_LLM_CONTEXT",
            ) from None
        finally:
            try:
                if chunks is not None and hasattr(chunks, "close"):
                    chunks.close()  # a caller that stops early ends llama.cpp's loop now
                usage.seconds = time.perf_counter() - started
                # Tokens in the context after the call = prompt + generated (the last one
                # sampled is not evaluated), so this is the prompt length, give or take one.
                usage.prompt_tokens = max(0, int(llama.n_tokens) - usage.completion_tokens)
            finally:
                lock.release()
