"""End-to-end benchmark: the whole `meltano run tap-stripe-xdm target-aep`, files destination.

The Stripe emulator (stripe-emulator, as bin/run starts it) runs in its own process; Meltano runs
the pipeline from this repository (full refresh, its own state id, output to a temp folder).
The pipeline runs in a throwaway copy of the project (tests/e2e/meltano_project.py) whose
`local` environment gets the tap's `max_requests_per_second` for each scenario (decimal settings
cannot come from environment variables under Meltano 4.4.1, see README limits).
While it runs, the process tree is sampled for each process's peak resident memory (VmHWM in
/proc) and CPU time (utime + stime in /proc/<pid>/stat, last sample before it exits, so a
little low), so the numbers are per process: Meltano, the tap, the target. CPU µs per record
shows which process bounds the pipeline on 2 cores, Meltano's copying of lines included. The
emulator's CPU for serving the pages is printed too: Stripe's servers do that work in a real
run, but here it competes for the same 2 cores.

records/s is printed twice: over the whole `meltano run` (with its start-up and the tap's
start-up), and over the records themselves, from the first record the target
received to the end of its last drain (the `timing` of the target's run_summary.json).

Python's bytecode cache: Python writes compiled modules (.pyc) on first import, so every run
after the first starts from bytecode. Where PYTHONDONTWRITEBYTECODE is set (as in some sandboxes)
every process recompiles every module it imports, each run: about 1.3 s more CPU for Meltano
and 0.5 s for each plugin. By default the benchmark runs as on a normal machine: bytecode cached
(in a temporary PYTHONPYCACHEPREFIX, nothing written beside the code), after one warm-up run;
`--no-bytecode-cache` keeps the inherited setting.

Scenarios: zero latency (goal >= 10,000 records/s end to end on this 2-core machine), and
120 ms latency with a 25 requests/s limit at the emulator (a Stripe test-mode account from far
away; its ceiling is 25 pages x 100 records = 2,500 records/s).

Run: uv run python benchmarks/pipeline_benchmark.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.e2e.meltano_project import MeltanoProject  # noqa: E402

CEILING_AT_25_PER_SECOND = 25 * 100


def counts(scale: int) -> str:
    mix = {"charges": 10, "balance_transactions": 10, "customers": 3, "subscriptions": 1,
           "refunds": 2, "prices": 1}  # fmt: skip
    return ",".join(f"{name}={share * scale}" for name, share in mix.items())


def start_emulator(seed_counts: str, latency: float, rate: float | None) -> tuple:
    args = [sys.executable, "-m", "stripe_emulator", "--port", "0",
            "--seed-counts", seed_counts, "--start", "2024-01-01", "--end", "2026-01-01",
            "--latency", str(latency)]  # fmt: skip
    if rate:
        args += ["--rate-limit", str(rate)]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    return proc, url


def children(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = Path(f"/proc/{parent}/task").iterdir()
            kids = [int(k) for task in tasks for k in (task / "children").read_text().split()]
        except OSError:
            continue
        found.extend(kids)
        queue.extend(kids)
    return found


def process_name(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(part.decode(errors="replace") for part in cmd[:3])
    for name in ("tap-stripe-xdm", "target-aep", "meltano"):
        if name in text:
            return name
    return Path(cmd[0].decode(errors="replace")).name


def peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # fields 14 and 15 of proc(5)


def sample(root: int, peaks: dict[str, int], cpu: dict[int, tuple[str, float]],
           done: threading.Event) -> None:  # fmt: skip
    """Peak RSS per process name, and the latest CPU time per pid."""
    while not done.is_set():
        for pid in [root, *children(root)]:
            name, seen = cpu.get(pid, ("?", 0.0))
            current = process_name(pid)  # a fork shows Meltano's until it execs; a zombie, none
            name = current if current not in ("?", "") else name
            peaks[name] = max(peaks.get(name, 0), peak_kib(pid))
            cpu[pid] = (name, max(seen, cpu_seconds(pid)))
        time.sleep(0.05)


def set_tap_rate(project: MeltanoProject, rate: float) -> None:
    """The tap's own limit in the copy's `local` environment (matching the account's)."""
    path = project.root / "meltano.yml"
    document = yaml.safe_load(path.read_text())
    (local,) = [e for e in document["environments"] if e["name"] == "local"]
    (tap,) = local["config"]["plugins"]["extractors"]
    tap["config"]["max_requests_per_second"] = rate
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run(
    project: MeltanoProject,
    name: str,
    scale: int,
    latency: float,
    rate: float | None,
    extra_env: dict[str, str],
    *,
    report: bool = True,
) -> None:
    set_tap_rate(project, rate or 1000)
    emulator, url = start_emulator(counts(scale), latency, rate)
    seeded_cpu = cpu_seconds(emulator.pid)  # generating the data set is not serving it
    try:
        with tempfile.TemporaryDirectory() as out:
            env = project.env(
                {
                    "TAP_STRIPE_XDM_API_URL": url,
                    "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
                    "TARGET_AEP_OUTPUT_DIR": out,
                    **extra_env,
                }
            )
            peaks: dict[str, int] = {}
            cpu: dict[int, tuple[str, float]] = {}
            done = threading.Event()
            started = time.perf_counter()
            proc = subprocess.Popen(
                [
                    str(project.meltano),
                    "run",
                    "--full-refresh",
                    "--state-id-suffix",
                    "benchmark",
                    "tap-stripe-xdm",
                    "target-aep",
                ],
                cwd=project.root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            sampler = threading.Thread(target=sample, args=(proc.pid, peaks, cpu, done))
            sampler.start()
            _, err = proc.communicate()
            elapsed = time.perf_counter() - started
            done.set()
            sampler.join()
            if proc.returncode != 0:
                print(err[-3000:])
                raise SystemExit(f"{name}: meltano run failed ({proc.returncode})")
            summary = json.loads((Path(out) / "run_summary.json").read_text())
            records = sum(s["written"] if "written" in s else s["delivered"]
                          for s in summary["streams"].values())  # fmt: skip
            span = (summary.get("timing") or {}).get("seconds")
    finally:
        emulator_cpu = cpu_seconds(emulator.pid) - seeded_cpu  # not in a real pipeline, same cores
        emulator.terminate()
        emulator.wait()
    if not report:
        return
    memory = ", ".join(f"{n} {kib / 1024:.0f} MiB" for n, kib in sorted(peaks.items())
                       if n in ("meltano", "tap-stripe-xdm", "target-aep"))  # fmt: skip
    line = (
        f"{name:<28} {records:>7,} records in {elapsed:6.1f} s = {records / elapsed:>7,.0f} rec/s"
    )
    if rate:
        line += f" ({records / elapsed / CEILING_AT_25_PER_SECOND:.0%} of the 2,500 rec/s ceiling)"
    print(line)
    if span:
        print(f"{'':<28} without start-up: {records / span:>7,.0f} rec/s ({span:.1f} s from the "
              f"target's first record to its last drain)")  # fmt: skip
    per_name: dict[str, float] = {}
    for process, used in cpu.values():
        per_name[process] = per_name.get(process, 0.0) + used
    usage = ", ".join(f"{n} {per_name[n]:.1f} s = {per_name[n] / records * 1e6:.0f} µs/rec"
                      for n in ("meltano", "tap-stripe-xdm", "target-aep")
                      if n in per_name)  # fmt: skip
    print(f"{'':<28} CPU time: {usage}; Stripe emulator serving {emulator_cpu:.1f} s")
    print(f"{'':<28} peak RSS: {memory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data sets")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep the inherited PYTHONDONTWRITEBYTECODE, no warm-up")  # fmt: skip
    args = parser.parse_args()
    scale = 800 if args.quick else 2000
    with tempfile.TemporaryDirectory() as root:
        env: dict[str, str] = {}
        if args.no_bytecode_cache:
            print(f"bytecode cache as inherited (PYTHONDONTWRITEBYTECODE="
                  f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})")  # fmt: skip
        else:
            env = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(Path(root) / "pyc")}
            print("bytecode cached as on a normal machine (after one warm-up run)")
        (Path(root) / "project").mkdir()
        project = MeltanoProject(Path(root) / "project")
        project.install()
        if env:
            run(project, "warm-up", 10, 0.0, None, env, report=False)
        run(project, "zero latency", scale, 0.0, None, env)
        run(project, "zero latency, 2x the data", scale * 2, 0.0, None, env)
        run(project, "120 ms latency, 25 req/s", scale // 2, 0.12, 25, env)


if __name__ == "__main__":
    main()
