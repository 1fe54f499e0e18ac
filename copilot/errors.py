"""One exception tree for Moments. Every message says what to do next.

    MomentsError
    ├── ConfigError            a setting is missing or invalid (names the MOMENTS_ variable)
    ├── ModelError             the bundled model cannot be prepared or loaded
    │   └── ModelIntegrityError  a chunk package is missing or the sha256 does not match
    ├── LLMError               generation failed
    │   ├── LLMUnavailableError  the server cannot be reached / timed out after retries
    │   └── LLMResponseError     the server answered with an error or nonsense
    ├── KnowledgeError         a document or interaction file cannot be ingested
    ├── IndexError_            the vector index (Chroma) cannot be opened or queried
    ├── InputError             bad user input (empty post, facts missing fields, bad suite file)
    ├── StoreError             the database cannot be reached or migrated
    │   ├── NotFoundError        a record does not exist
    │   └── ConflictError        a state transition lost a race or is not allowed
    ├── AuthError              missing or invalid API key, or a role that may not do this
    └── PublishError           the forum refused or could not be reached while publishing
"""

from __future__ import annotations


class MomentsError(Exception):
    """Base of every error Moments raises on purpose. `str(err)` is meant for humans."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(MomentsError):
    """A setting is missing or invalid."""


class ModelError(MomentsError):
    """The bundled model cannot be prepared or loaded."""


class ModelIntegrityError(ModelError):
    """A chunk package is missing or the assembled file does not match its sha256."""


class LLMError(MomentsError):
    """Generation failed."""


class LLMUnavailableError(LLMError):
    """The model server cannot be reached, or timed out after the retries."""


class LLMResponseError(LLMError):
    """The model server answered with an error status or an unreadable body."""


class KnowledgeError(MomentsError):
    """A guideline document or interaction file cannot be ingested."""


class IndexError_(MomentsError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The vector index cannot be opened or queried."""


VectorIndexError = IndexError_


class InputError(MomentsError):
    """The input is not usable (empty post, incident facts missing fields, malformed suite)."""


class StoreError(MomentsError):
    """The database cannot be reached or migrated."""


class NotFoundError(StoreError):
    """A record does not exist."""


class ConflictError(StoreError):
    """A state transition is not allowed, or lost a race with another reviewer or worker."""


class AuthError(MomentsError):
    """Missing or invalid API key, or a role that may not perform the action."""


class PublishError(MomentsError):
    """The forum refused the reply or could not be reached while publishing."""
