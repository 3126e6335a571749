"""A real Datasette over an archive file, started the way an operator does (`publish/serve.sh DB PORT`)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Published:
    """`with Published(db, log) as site: site.json("/archive/runs.json")`: publish/serve.sh in a subprocess."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db, self.log_path = Path(db), Path(log)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Published":
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(ROOT / "publish" / "serve.sh"), str(self.db), str(self.port)],
                                        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("datasette exited:\n" + self.log())
            try:
                urllib.request.urlopen(self.base + "/-/versions.json", timeout=2).read()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("datasette did not start:\n" + self.log())

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, params: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, bytes]:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, path: str, params: dict[str, str] | None = None) -> Any:
        status, body = self.get(path, params)
        assert status == 200, (path, params, status, body[:500])
        return json.loads(body)
