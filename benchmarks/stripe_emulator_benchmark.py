"""Stripe emulator benchmark: how many charge records/s stripe-emulator serves on one core.

The tap benchmark needs the emulator to stay out of the way (goal: > 30,000 charges/s at zero
latency on one core), so this measures the emulator alone. It starts its command as a
process pinned to one CPU, then pages every charge with `limit=100` and `created[gte|lt]`, the
tap's query, from this process (pinned to another CPU when there is one):
  1. a raw keep-alive HTTP client that only finds the ids (what the server can give),
  2. requests + JSON parsing (what a Python client typically gets; client-bound).
It also prints how long seeding took and the server's CPU time per page.

Run: uv run python benchmarks/stripe_emulator_benchmark.py [--charges N] [--rounds R]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

REPO = Path(__file__).resolve().parents[1]
START, END = 1_700_000_000, 1_731_536_000
QUERY = f"limit=100&created%5Bgte%5D={START}&created%5Blt%5D={END}"
KEY = "sk_test_double"
ID = re.compile(rb'"id":"(ch_[A-Za-z0-9]+)"')


def start_emulator(charges: int, cpu: int | None) -> tuple[subprocess.Popen, str, float]:
    command = [sys.executable, "-m", "stripe_emulator", "--port", "0"]
    command += ["--seed-counts", f"charges={charges}", "--start", str(START), "--end", str(END)]
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=pin,
    )
    url = process.stdout.readline().strip()
    return process, url, time.perf_counter() - started


def server_cpu_seconds(pid: int) -> float:
    """utime + stime of the emulator process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def page_raw(url: str, rounds: int) -> tuple[int, int, float]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    headers = {"Authorization": f"Bearer {KEY}"}
    records = pages = 0
    started = time.perf_counter()
    for _ in range(rounds):
        cursor = ""
        while True:
            connection.request("GET", f"/v1/charges?{QUERY}{cursor}", headers=headers)
            body = connection.getresponse().read()
            ids = ID.findall(body)
            records += len(ids)
            pages += 1
            if b'"has_more":true' not in body[-60:]:
                break
            cursor = f"&starting_after={ids[-1].decode()}"
    return records, pages, time.perf_counter() - started


def page_requests(url: str, rounds: int) -> tuple[int, int, float]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    records = pages = 0
    started = time.perf_counter()
    for _ in range(rounds):
        params: dict[str, str | int] = {"limit": 100, "created[gte]": START, "created[lt]": END}
        while True:
            body = session.get(f"{url}/v1/charges", params=params, timeout=30).json()
            records += len(body["data"])
            pages += 1
            if not body["has_more"]:
                break
            params["starting_after"] = body["data"][-1]["id"]
    return records, pages, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu = cpus[0]
    client_cpu = cpus[1] if len(cpus) > 1 else None
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    process, url, seeded = start_emulator(args.charges, server_cpu)
    try:
        print(f"emulator on cpu {server_cpu}, {args.charges} charges ready in {seeded:.1f} s")
        for name, run in (("raw http.client", page_raw), ("requests + json", page_requests)):
            cpu_before = server_cpu_seconds(process.pid)
            records, pages, elapsed = run(url, args.rounds)
            cpu_used = server_cpu_seconds(process.pid) - cpu_before
            print(
                f"{name:16} {records / elapsed:10,.0f} records/s  {pages / elapsed:7,.0f} pages/s"
                f"  server CPU {1000 * cpu_used / pages:.2f} ms/page"
                f" ({records / max(cpu_used, 1e-9):,.0f} records per server CPU second)"
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
