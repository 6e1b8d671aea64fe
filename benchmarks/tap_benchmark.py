"""Tap benchmark: tap-stripe-xdm reading charges from the local Stripe emulator.

The emulator runs in its own process (its command), the tap in another (its console script, charges
selected, output read and counted here), so the tap's CPU time and peak memory are its own:
they come from os.wait4's rusage of the tap process.

Scenarios:
- zero latency, no rate limit, two data sizes: raw record throughput of the tap on one core
  (goal >= 25,000 records/s) and peak RSS that does not grow with the number of records;
- 120 ms latency per request and a 25 requests/s limit at the emulator: the realistic case,
  whose ceiling is 25 pages x 100 records = 2,500 records/s (goal >= 80 % of it).

records/s is measured over the sync (from the tap's first SCHEMA message to its exit), so the
interpreter's start-up is left out; the wall time including start-up is printed too. Last, the
cost per record of the schema_drift check alone (every record pays it: schema_drift.py).

Run: uv run python benchmarks/tap_benchmark.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.tap.tap_run import charges_only_catalog  # noqa: E402

CEILING_AT_25_PER_SECOND = 25 * 100
DAY = 86_400


@dataclass
class Result:
    name: str
    records: int
    sync_seconds: float
    wall_seconds: float
    cpu_seconds: float
    max_rss_mib: float
    requests_per_second_limit: float | None
    startup_cpu_seconds: float

    @property
    def records_per_cpu_second(self) -> float:
        """Records per second of tap CPU time, start-up excluded: the one-core throughput."""
        return self.records / max(self.cpu_seconds - self.startup_cpu_seconds, 1e-9)

    def line(self) -> str:
        rate = self.records / self.sync_seconds
        text = (
            f"{self.name:<34} {self.records:>8,} rec  {rate:>7,.0f} rec/s wall  "
            f"{1e6 * self.cpu_seconds / self.records:>5.1f} CPU us/rec "
            f"({self.records_per_cpu_second:>6,.0f} rec per CPU-s w/o start-up)  "
            f"peak RSS {self.max_rss_mib:>5.1f} MiB"
        )
        if self.requests_per_second_limit:
            text += f"  ratio to ceiling {rate / CEILING_AT_25_PER_SECOND:.0%}"
        return text


def start_double(
    charges: int, latency: float, rate_limit: float | None
) -> tuple[subprocess.Popen, str, int, int]:
    end = int(time.time()) - DAY
    start = end - 365 * DAY
    command = [
        sys.executable, "-m", "stripe_emulator", "--port", "0",
        "--seed-counts", f"charges={charges}", "--start", str(start), "--end", str(end),
        "--latency", str(latency),
    ]  # fmt: skip
    if rate_limit:
        command += ["--rate-limit", str(rate_limit)]
    double = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert double.stdout is not None
    url = double.stdout.readline().decode().strip()
    if not url.startswith("http"):
        double.kill()
        raise RuntimeError("the Stripe emulator did not start")
    return double, url, start, end


def startup_cpu_seconds() -> float:
    """CPU time the tap's process spends starting (imports, CLI), measured with --about."""
    tap = subprocess.Popen(
        [REPO / ".venv" / "bin" / "tap-stripe-xdm", "--about"], stdout=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(tap.pid, 0)
    return usage.ru_utime + usage.ru_stime


def run_tap(name: str, url: str, start: int, rate: float | None, workdir: Path) -> Result:
    config = {
        "api_key": "sk_test_double",
        "api_url": url,
        "start_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start - DAY)),
        "max_requests_per_second": rate or 10_000,
        # one stream reads one endpoint: the account's limit is the endpoint's here
        "max_requests_per_second_per_endpoint": rate or 10_000,
        "max_concurrency": 8,
    }
    config_file = workdir / "config.json"
    config_file.write_text(json.dumps(config))
    catalog_file = workdir / "catalog.json"
    catalog_file.write_text(json.dumps(charges_only_catalog(config_file)))
    began = time.perf_counter()
    tap = subprocess.Popen(
        [REPO / ".venv" / "bin" / "tap-stripe-xdm", "--config", config_file,
         "--catalog", catalog_file],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TAP_STRIPE_XDM_LOGLEVEL": "WARNING"},
    )  # fmt: skip
    assert tap.stdout is not None
    records = 0
    sync_began: float | None = None
    marker = b'"type":"RECORD"'
    tail = b""  # a marker may straddle two chunks
    while chunk := tap.stdout.read1(1 << 20):
        if sync_began is None and b'"type":"SCHEMA"' in chunk:
            sync_began = time.perf_counter()
        data = tail + chunk
        records += data.count(marker)
        tail = data[-(len(marker) - 1) :]
    _, status, usage = os.wait4(tap.pid, 0)
    ended = time.perf_counter()
    tap.returncode = os.waitstatus_to_exitcode(status)
    if tap.returncode != 0:
        raise RuntimeError(f"{name}: the tap exited with {tap.returncode}")
    return Result(
        name=name,
        records=records,
        sync_seconds=ended - (sync_began or began),
        wall_seconds=ended - began,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_mib=usage.ru_maxrss / 1024,
        requests_per_second_limit=rate,
        startup_cpu_seconds=min(startup_cpu_seconds() for _ in range(3)),
    )


def scenario(name: str, charges: int, latency: float, rate: float | None) -> Result:
    double, url, start, _ = start_double(charges, latency, rate)
    try:
        with tempfile.TemporaryDirectory(prefix="tap-bench-") as workdir:
            return run_tap(name, url, start, rate, Path(workdir))
    finally:
        double.terminate()
        double.wait(timeout=10)


def drift_check_microseconds(stream: str = "charges", records: int = 2_000) -> float:
    """CPU µs per record of the schema_drift check alone (in this process, best of 5), on the
    emulator's objects (Stripe's examples when ../shared is there): what every record pays."""
    import logging
    from importlib import resources

    from stripe_emulator.seed_data import seed_objects
    from tap_stripe_xdm.schema_drift import SchemaDrift

    schema = json.loads(
        resources.files("tap_stripe_xdm.schemas").joinpath(f"{stream}.json").read_text()
    )
    objects = seed_objects({stream: records, "customers": 50, "prices": 20}, start=0, end=DAY)[
        stream
    ]
    check = SchemaDrift(stream, schema, "fail", announce=print, logger=logging.getLogger("bench"))
    best = float("inf")
    for _ in range(5):
        began = time.process_time()
        check.check(objects)
        best = min(best, time.process_time() - began)
    return 1e6 * best / len(objects)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data sets")
    args = parser.parse_args()
    small, large, latent = (20_000, 60_000, 10_000) if args.quick else (50_000, 150_000, 30_000)
    results = [
        scenario(f"zero latency, {small:,} charges", small, 0.0, None),
        scenario(f"zero latency, {large:,} charges", large, 0.0, None),
        scenario(f"120 ms latency, 25 req/s, {latent:,}", latent, 0.12, 25),
    ]
    print(f"tap-stripe-xdm benchmark (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print("wall rate: from the tap's first SCHEMA message to its exit; the emulator shares CPUs")
    for result in results:
        print(result.line())
    zero_small, zero_large, latent_result = results
    print(
        f"peak RSS {zero_small.max_rss_mib:.0f} MiB for {zero_small.records:,} records vs "
        f"{zero_large.max_rss_mib:.0f} MiB for {zero_large.records:,}: memory does not grow "
        "with the number of records"
        if zero_large.max_rss_mib < zero_small.max_rss_mib * 1.15
        else "WARNING: peak RSS grew with the number of records"
    )
    best = max(zero_small.records_per_cpu_second, zero_large.records_per_cpu_second)
    print(f"zero latency, one core: {best:,.0f} charge records per tap CPU-second (goal 25,000)")
    rate = latent_result.records / latent_result.sync_seconds
    print(f"120 ms / 25 req/s: {rate:,.0f} rec/s = {rate / CEILING_AT_25_PER_SECOND:.0%} of 2,500")
    for stream in ("charges", "subscriptions"):
        cost = drift_check_microseconds(stream)
        print(f"schema_drift check alone: {cost:.2f} CPU us per {stream} record (no drift)")


if __name__ == "__main__":
    main()
