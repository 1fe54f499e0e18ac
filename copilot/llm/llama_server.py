"""llama-cpp-python's own OpenAI-compatible server, started with the same CPU safeguard as the
in-process adapter (`copilot.llm.cpu`): on AMX CPUs its models load without llama.cpp's AMX
buffers, which crash on long prompts.

    python -m copilot.llm.llama_server --model .moments/models/qwen2.5-coder-1.5b.gguf --port 8000

Every argument is `python -m llama_cpp.server`'s; this module only wraps its `main()`.
"""

from __future__ import annotations

import sys


def main() -> None:
    from copilot.llm.cpu import disable_extra_buffers, patch_model_defaults

    if disable_extra_buffers():
        # the server builds its models after parsing arguments, so the defaults stay patched for
        # the life of the process (it is the only user of llama.cpp here)
        patch_model_defaults()
    from llama_cpp.server.__main__ import main as server_main

    sys.argv[0] = "llama_server"
    server_main()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
