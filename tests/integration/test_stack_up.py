"""`moments up` (the end of `make run`): API, worker, UI and a Chroma server as real processes on
the embedded defaults, the default knowledge base indexed, a local admin key that works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.testing import free_port


def test_moments_up_serves_api_ui_and_index(bundled_model_path: Path, tmp_path: Path) -> None:
    api_port, ui_port = free_port(), free_port()
    data = tmp_path / "data"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MOMENTS_")},
        "MOMENTS_DATA_DIR": str(data),
        "MOMENTS_LLM_MODEL_PATH": str(bundled_model_path),
        "MOMENTS_API_PORT": str(api_port),
        "MOMENTS_UI_PORT": str(ui_port),
        "HF_HUB_OFFLINE": "1",
    }
    moments = Path(sys.executable).parent / "moments"
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [str(moments), "up"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        api = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 600
        key_file = data / "local-admin.key"
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
            try:
                if (
                    key_file.exists()
                    and httpx.get(f"{api}/v1/health", timeout=2).status_code == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail(
                "moments up did not serve the API in time:\n"
                + (tmp_path / "up.log").read_text()[-3000:]
            )
        key = key_file.read_text().strip()
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{api}/v1/me", headers=headers, timeout=10).json()["role"] == "admin"
        found = httpx.get(
            f"{api}/v1/knowledge/search",
            params={"q": "a member is angry the firmware update broke their hub", "k": 3},
            headers=headers,
            timeout=60,
        )
        assert found.status_code == 200, found.text
        assert found.json(), "the default knowledge base should have been indexed"
        ui_deadline = time.monotonic() + 120
        while time.monotonic() < ui_deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{ui_port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            pytest.fail("the UI did not answer")
        assert (data / "chroma-server.log").exists()  # the index is served to API and worker
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("moments up did not stop on SIGTERM")
        log.close()
    assert proc.returncode == 0, (tmp_path / "up.log").read_text()[-3000:]
