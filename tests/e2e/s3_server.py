"""A local S3-compatible server for the remote-state tests: moto's server mode, from PyPI.

moto (https://docs.getmoto.org/en/latest/docs/server_mode.html) answers the S3 REST API on
127.0.0.1; Meltano's S3 state backend (boto3, `meltano[s3]`) talks to it through
`state_backend.s3.endpoint_url`. moto[server] brings Flask, boto3 and their dependencies, more
than the workspace should carry for one test, so it lives in a cached venv of its own, built
like the interop plugins' (`.venv-interop/moto-<key>/`, reused by later runs).

The test lists the bucket with plain HTTP (moto accepts unsigned requests), so the test
environment needs no AWS SDK.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import requests

from tests.interop.foreign_venv import ForeignPlugin, ensure_venv

MOTO = ForeignPlugin("moto", ("moto[server]==5.2.5",))
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    url: str

    def create_bucket(self, bucket: str) -> None:
        requests.put(f"{self.url}/{bucket}", timeout=10).raise_for_status()

    def keys(self, bucket: str) -> list[str]:
        """Every object key in `bucket` (ListObjectsV2, one page: the tests hold few)."""
        answer = requests.get(f"{self.url}/{bucket}", params={"list-type": "2"}, timeout=10)
        answer.raise_for_status()
        root = ET.fromstring(answer.content)
        return sorted(key.text or "" for key in root.iter(f"{_S3_NS}Key"))


@contextmanager
def moto_s3() -> Iterator[S3Server]:
    """moto's server on 127.0.0.1 and a free port, stopped afterwards."""
    venv = ensure_venv(MOTO)
    port = free_port()
    # It logs every request: to a file, as a pipe nobody reads would fill and block it.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(venv.executable("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield _started(process, f"http://127.0.0.1:{port}", log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _started(process: subprocess.Popen, url: str, log: IO[bytes]) -> S3Server:
    """The server once it answers (RuntimeError with its output if it exits or takes 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(url, timeout=2)
            return S3Server(url)
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                said = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"moto_server did not start: {said}") from None
            time.sleep(0.2)
