"""Start the hotline under uvicorn on 127.0.0.1 in a subprocess (a real server for real clients)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SRC = str(Path(__file__).resolve().parents[2] / "src")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``python -m uvicorn citycheck.web.hotline.app:app_from_env --factory`` on a free port."""

    def __init__(
        self,
        db_url: str,
        *,
        secret: str = "test-secret",
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "CITYCHECK_HOTLINE_DB_URL": db_url,
            "CITYCHECK_HOTLINE_SECRET": secret,
            "CITYCHECK_HOTLINE_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            **(env or {}),
        }
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30.0) -> LiveServer:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "citycheck.web.hotline.app:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--workers",
            str(self.workers),
        ]
        self.proc = subprocess.Popen(cmd, env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/open311/v2/services.json", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def kill9(self) -> None:
        """SIGKILL the whole process group (no shutdown handlers run)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()
