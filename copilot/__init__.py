"""Moments: a response copilot for community managers.

The core library. `api/`, `ui/` and `evals/` depend on it; it depends on none of them
(the CLI in `copilot.cli` is the composition root and imports them lazily).
"""

__version__ = "0.1.0"
