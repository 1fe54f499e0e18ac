"""All configuration, from `MOMENTS_*` environment variables or an optional `.env` file.

Read lazily with `get_settings()`; nothing is built at import. A wrong value fails with one
readable line naming the variable and a valid example (`ConfigError`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from copilot.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent

# Valid examples, quoted in error messages.
EXAMPLES: dict[str, str] = {
    "data_dir": "MOMENTS_DATA_DIR=./.moments",
    "env": "MOMENTS_ENV=development",
    "llm_provider": "MOMENTS_LLM_PROVIDER=local   (or openai, for any OpenAI-compatible server)",
    "llm_model": "MOMENTS_LLM_MODEL=qwen2.5-coder-1.5b   (or qwen2.5-coder-0.5b; with openai: gpt-4o-mini)",
    "llm_model_path": "MOMENTS_LLM_MODEL_PATH=/models/my-instruct-model.Q4_K_M.gguf",
    "llm_base_url": "MOMENTS_LLM_BASE_URL=http://127.0.0.1:8000/v1",
    "llm_api_key": "MOMENTS_LLM_API_KEY=sk-...",
    "llm_timeout": "MOMENTS_LLM_TIMEOUT=60",
    "llm_max_retries": "MOMENTS_LLM_MAX_RETRIES=3",
    "llm_context": "MOMENTS_LLM_CONTEXT=4096",
    "llm_threads": "MOMENTS_LLM_THREADS=2",
    "llm_temperature": "MOMENTS_LLM_TEMPERATURE=0.4",
    "llm_max_tokens": "MOMENTS_LLM_MAX_TOKENS=320",
    "embedding_provider": "MOMENTS_EMBEDDING_PROVIDER=local   (or openai)",
    "embedding_base_url": "MOMENTS_EMBEDDING_BASE_URL=http://127.0.0.1:11434/v1",
    "embedding_model": "MOMENTS_EMBEDDING_MODEL=text-embedding-3-small",
    "chroma_url": "MOMENTS_CHROMA_URL=http://127.0.0.1:8001",
    "database_url": "MOMENTS_DATABASE_URL=postgresql+psycopg://user@127.0.0.1:5432/moments",
    "community_id": "MOMENTS_COMMUNITY_ID=default",
    "api_url": "MOMENTS_API_URL=http://127.0.0.1:8000",
    "discourse_url": "MOMENTS_DISCOURSE_URL=https://forum.example.org",
    "eval_runs_dir": "MOMENTS_EVAL_RUNS_DIR=./.moments/eval-runs",
}

BUNDLED_MODELS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")


class Settings(BaseSettings):
    """Every setting Moments reads. The README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(
        env_prefix="MOMENTS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".moments")

    # LLM
    llm_provider: Literal["local", "openai"] = "local"
    llm_model: str = "qwen2.5-coder-1.5b"
    llm_model_path: Path | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(default=120.0, gt=0)
    llm_max_retries: int = Field(default=3, ge=0, le=10)
    llm_context: int = Field(default=4096, ge=512)
    llm_threads: int | None = Field(default=None, ge=1)
    llm_temperature: float = Field(default=0.4, ge=0, le=2)
    llm_max_tokens: int = Field(default=320, ge=16, le=8192)

    # Embeddings
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    embedding_model: str = "all-MiniLM-L6-v2"

    # Vectors and records
    chroma_url: str | None = None
    database_url: str | None = None

    # Community and voice
    community_id: str = "default"
    community_name: str = "Lumen Makers"
    brand_voice: str = (
        "Warm, plain-spoken and specific. We sound like a helpful fellow member who works here, "
        "not a corporation. We own our mistakes and never over-promise."
    )
    knowledge_dir: Path | None = None
    prompts_dir: Path | None = None
    eval_runs_dir: Path | None = None

    # API, UI and forum
    api_url: str = "http://127.0.0.1:8000"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    ui_port: int = Field(default=8501, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    discourse_url: str | None = None
    discourse_api_key: str | None = None
    discourse_api_username: str = "system"
    discourse_webhook_secret: str | None = None

    @field_validator("llm_base_url", "embedding_base_url", "chroma_url", "discourse_url", "api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.llm_provider == "openai" and not self.llm_base_url:
            raise ValueError("llm_base_url: is required when MOMENTS_LLM_PROVIDER=openai")
        if (
            self.llm_provider == "local"
            and self.llm_model_path is None
            and self.llm_model not in BUNDLED_MODELS
        ):
            raise ValueError(
                f"llm_model: '{self.llm_model}' is not a bundled model "
                f"(choose {' or '.join(BUNDLED_MODELS)}, or set MOMENTS_LLM_MODEL_PATH to a GGUF)"
            )
        if self.embedding_provider == "openai" and not self.embedding_base_url:
            raise ValueError(
                "embedding_base_url: is required when MOMENTS_EMBEDDING_PROVIDER=openai"
            )
        if self.env == "production":
            for name in ("discourse_webhook_secret",):
                value = getattr(self, name)
                if value and value in ("changeme", "secret", "change-me"):
                    raise ValueError(f"{name}: is a placeholder; set a real secret in production")
        return self

    # Derived paths -------------------------------------------------------------------------
    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def models_dir(self) -> Path:
        return self.resolved_data_dir / "models"

    @property
    def chroma_path(self) -> Path:
        return self.resolved_data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'moments.db'}"

    @property
    def resolved_knowledge_dir(self) -> Path:
        return (self.knowledge_dir or REPO_ROOT / "knowledge").expanduser().resolve()

    @property
    def resolved_eval_runs_dir(self) -> Path:
        return (self.eval_runs_dir or self.resolved_data_dir / "eval-runs").expanduser().resolve()

    @property
    def resolved_prompts_dir(self) -> Path:
        return (self.prompts_dir or REPO_ROOT / "prompts").expanduser().resolve()


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = [str(part) for part in first.get("loc", ()) if part != "__root__"]
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    field = loc[0] if loc else ""
    if not field and ":" in message:
        field, message = (part.strip() for part in message.split(":", 1))
    variable = f"MOMENTS_{field.upper()}" if field else "a MOMENTS_ setting"
    example = EXAMPLES.get(field)
    line = f"{variable}: {message}."
    if example:
        line += f" Example: {example}"
    return line


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and `.env`), raising `ConfigError` on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI's `--data-dir` use this)."""
    get_settings.cache_clear()
