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
The live-limits scenario also prints the run from the tap's first read (its first "Reading"
line, as Meltano logs it with its time) to the run's end: Meltano's, discovery's and the
plugins' start-up left out, everything after it in. The target's first record comes later
than that read, by the first window's whole reading, so its span alone would flatter.

Python's bytecode cache: Python writes compiled modules (.pyc) on first import, so every run
after the first starts from bytecode. Where PYTHONDONTWRITEBYTECODE is set (as in some sandboxes)
every process recompiles every module it imports, each run: about 1.3 s more CPU for Meltano
and 0.5 s for each plugin. By default the benchmark runs as on a normal machine: bytecode cached
(in a temporary PYTHONPYCACHEPREFIX, nothing written beside the code), after one warm-up run;
`--no-bytecode-cache` keeps the inherited setting.

Scenarios: zero latency (goal >= 10,000 records/s end to end on this 2-core machine), and
120 ms latency with a 25 requests/s limit at the emulator (a Stripe test-mode account from far
away; its ceiling is 25 pages x 100 records = 2,500 records/s).

Live limits (`--live-limits`): a whole-account backfill at Stripe's live ceilings. Six streams
(40,000 charges and 10,000 of each other resource, times `--scale`), 120 ms latency, and the
emulator enforcing Stripe's live limits: 100 requests/s per account and 25/s per endpoint
(https://docs.stripe.com/rate-limits). The tap is set to the same limits. Prints records/s, the
ideal time (the larger of all pages / 100 and the largest stream's pages / 25, pages of 100
objects), the ratio ideal / actual, the 429s the emulator answered and CPU µs per record per
process, over the whole run and without the start-up (from the tap's first read, as above:
the start-up does not grow with the data). The ideal counts list pages only; the
emulator's data set gives one subscription in six more than 10 items, each a request to
`GET /v1/subscription_items` (its own endpoint, 25/s),
so the floor including those requests is printed too (counted by listing the subscriptions
before the run); `--long-subscriptions-every N` seeds one in N instead (e.g. 100, an account of
mostly small subscriptions, where the pages-only ideal is the floor).
With `--kill`, the same backfill is run with `meltano run` (state kept by Meltano),
killed with SIGKILL (the whole process group) at three random moments and resumed each time,
then run to its end: it prints the share of objects written more than once (records in the
output's files over objects, minus one).

With `--batch-messages` the tap writes its records to JSON-lines batch files (the SDK's
`batch_config`, uncompressed, in a temp folder) and prints one BATCH message per file; the
target reads the files itself, so Meltano relays a few lines per 10,000 records instead of
every record: the pipeline without Meltano's copying of lines. The target's first record then
arrives with the first full file, so the target's span starts later than the records do.

Run: uv run python benchmarks/pipeline_benchmark.py [--quick] [--batch-messages]
     uv run python benchmarks/pipeline_benchmark.py --live-limits [--scale 0.25] [--kill]
         [--long-subscriptions-every N]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
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


LIVE_GLOBAL, LIVE_ENDPOINT, LIVE_LATENCY = 100.0, 25.0, 0.12


def live_counts(scale: float) -> dict[str, int]:
    """The live-limits mix: 40,000 charges, 10,000 of each other resource (times `scale`)."""
    mix = {"charges": 40_000, "balance_transactions": 10_000, "customers": 10_000,
           "subscriptions": 10_000, "refunds": 10_000, "prices": 10_000}  # fmt: skip
    return {name: max(1, round(n * scale)) for name, n in mix.items()}


def ideal_seconds(per_stream: dict[str, int]) -> float:
    """The fastest a reader within the limits can be: all pages at the global limit, or the
    largest stream's pages at the endpoint limit, whichever takes longer."""
    pages = {name: math.ceil(n / 100) for name, n in per_stream.items()}
    return max(sum(pages.values()) / LIVE_GLOBAL, max(pages.values()) / LIVE_ENDPOINT)


def embedded_list_requests(url: str) -> tuple[int, int]:
    """Requests the data needs beyond its pages: one GET /v1/subscription_items per
    subscription whose embedded `items` Stripe truncates (more than 10 items); and the 429s
    this count itself received (not the pipeline's)."""
    truncated, refused, after = 0, 0, None
    while True:
        query = "limit=100&status=all" + (f"&starting_after={after}" if after else "")
        headers = {"Authorization": "Bearer sk_test_double"}
        request = urllib.request.Request(f"{url}/v1/subscriptions?{query}", headers=headers)
        for _ in range(50):  # the emulator's own limits apply to this count too
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    page = json.load(answer)
                break
            except urllib.error.HTTPError as error:
                if error.code != 429:
                    raise
                refused += 1
                time.sleep(0.2)
        truncated += sum(1 for sub in page["data"] if sub["items"]["has_more"])
        if not page["has_more"]:
            time.sleep(1.5)  # the limits' one-second budgets refill before the measured run
            return truncated, refused
        after = page["data"][-1]["id"]


def start_emulator(
    seed_counts: str,
    latency: float,
    rate: float | None,
    endpoint_rate: float | None = None,
    long_subscriptions_every: int | None = None,
) -> tuple:
    args = [sys.executable, "-m", "stripe_emulator", "--port", "0",
            "--seed-counts", seed_counts, "--start", "2024-01-01", "--end", "2026-01-01",
            "--latency", str(latency)]  # fmt: skip
    if long_subscriptions_every:
        args += ["--long-subscriptions-every", str(long_subscriptions_every)]
    if rate:
        args += ["--rate-limit", str(rate)]
    if endpoint_rate:
        args += ["--endpoint-rate-limit", str(endpoint_rate)]
    proc = subprocess.Popen(
        args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    url = proc.stdout.readline().strip()
    return proc, url


def stop_emulator(proc: subprocess.Popen) -> int:
    """Stop the emulator; the 429s it answered (its last line on stderr)."""
    proc.terminate()
    _, err = proc.communicate()
    for line in reversed(err.splitlines()):
        if line.startswith("stripe-emulator answered "):
            return int(line.split()[2])
    return 0


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


def set_tap_rate(project: MeltanoProject, rate: float, endpoint_rate: float | None = None) -> None:
    """The tap's own limits in the copy's `local` environment (matching the account's)."""
    path = project.root / "meltano.yml"
    document = yaml.safe_load(path.read_text())
    (local,) = [e for e in document["environments"] if e["name"] == "local"]
    (tap,) = local["config"]["plugins"]["extractors"]
    tap["config"]["max_requests_per_second"] = rate
    known = {s["name"] for s in document["plugins"]["extractors"][0].get("settings", [])}
    if endpoint_rate is not None and "max_requests_per_second_per_endpoint" in known:
        tap["config"]["max_requests_per_second_per_endpoint"] = endpoint_rate
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
    set_tap_rate(project, rate or 1000, rate or 1000)  # the account's limit, for every endpoint
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
            elapsed, peaks, cpu, _reading = sampled_run(
                project, env, name, "--full-refresh", "--state-id-suffix", "benchmark"
            )
            summary = json.loads((Path(out) / "run_summary.json").read_text())
            records = sum(s["written"] if "written" in s else s["delivered"]
                          for s in summary["streams"].values())  # fmt: skip
            span = (summary.get("timing") or {}).get("seconds")
    finally:
        emulator_cpu = cpu_seconds(emulator.pid) - seeded_cpu  # not in a real pipeline, same cores
        stop_emulator(emulator)
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


def batch_messages(folder: Path) -> dict[str, str]:
    """The tap's `batch_config` as Meltano's environment variables: JSON lines, uncompressed
    (the files stay on this machine), one file per 10,000 records (the SDK's default)."""
    return {
        "TAP_STRIPE_XDM_BATCH_CONFIG_ENCODING_FORMAT": "jsonl",
        "TAP_STRIPE_XDM_BATCH_CONFIG_ENCODING_COMPRESSION": "none",
        "TAP_STRIPE_XDM_BATCH_CONFIG_STORAGE_ROOT": folder.as_uri(),
        "TAP_STRIPE_XDM_BATCH_CONFIG_STORAGE_PREFIX": "benchmark-",
    }


def written_records(out: Path) -> int:
    """Records in the files destination's finished files (temporary files are not written)."""
    total = 0
    for path in out.glob("*/part-*.json"):  # the files destination's layout (files.py)
        if not path.name.startswith(".tmp-"):
            with path.open("rb") as lines:
                total += sum(1 for _ in lines)
    return total


def pipeline(project: MeltanoProject, env: dict[str, str], *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(project.meltano), "run", *options, "tap-stripe-xdm", "target-aep"],
        cwd=project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a kill takes the tap and target too
    )


def sampled_run(
    project: MeltanoProject, env: dict[str, str], name: str, *options: str
) -> tuple[float, dict[str, int], dict[int, tuple[str, float]], float | None]:
    """One `meltano run` to its end while its processes are sampled: the seconds it took, peak
    RSS per process, CPU per process and the seconds from the tap's first read to the end (see
    `first_read`); a failed run stops the benchmark, showing its stderr."""
    peaks: dict[str, int] = {}
    cpu: dict[int, tuple[str, float]] = {}
    done = threading.Event()
    started = time.perf_counter()
    proc = pipeline(project, env, *options)
    sampler = threading.Thread(target=sample, args=(proc.pid, peaks, cpu, done))
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    ended = time.time()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        print(err[-3000:])
        raise SystemExit(f"{name}: meltano run failed ({proc.returncode})")
    read_at = first_read(err)
    return elapsed, peaks, cpu, None if read_at is None else ended - read_at


# Meltano's console log (logging.yaml): "2026-12-04T18:35:43.665215Z [info     ] tap-stripe-xdm
# Reading charges created in [...)"; the tap logs that line as it starts a stream's read
_FIRST_READ = re.compile(r"^(\S+Z) \[info\s*\] tap-stripe-xdm\s+Reading ", re.MULTILINE)


def first_read(err: str) -> float | None:
    """When the tap began reading (Unix seconds), from Meltano's log of the run."""
    found = _FIRST_READ.search(err)
    if found is None:
        return None
    stamp = found.group(1).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(stamp).timestamp()


def live_limits(
    project: MeltanoProject, scale: float, env_extra: dict[str, str], long_every: int | None = None
) -> None:
    """The live-limits scenario once, end to end; its numbers printed."""
    per_stream = live_counts(scale)
    objects = sum(per_stream.values())
    ideal = ideal_seconds(per_stream)
    set_tap_rate(project, LIVE_GLOBAL, LIVE_ENDPOINT)
    seed = ",".join(f"{n}={c}" for n, c in per_stream.items())
    emulator, url = start_emulator(seed, LIVE_LATENCY, LIVE_GLOBAL, LIVE_ENDPOINT, long_every)
    seeded_cpu = cpu_seconds(emulator.pid)
    items, counting_429s = 0, 0
    try:
        items, counting_429s = embedded_list_requests(url)
        seeded_cpu = cpu_seconds(emulator.pid)
        with tempfile.TemporaryDirectory() as out:
            env = project.env({"TAP_STRIPE_XDM_API_URL": url,
                               "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
                               "TARGET_AEP_OUTPUT_DIR": out, **env_extra})  # fmt: skip
            elapsed, _peaks, cpu, reading = sampled_run(
                project, env, "live limits", "--full-refresh", "--state-id-suffix", "live"
            )
            records = written_records(Path(out))
            summary = json.loads((Path(out) / "run_summary.json").read_text())
            span = (summary.get("timing") or {}).get("seconds")
    finally:
        emulator_cpu = cpu_seconds(emulator.pid) - seeded_cpu
        refused = stop_emulator(emulator) - counting_429s
    # what the data itself needs: every page, plus the item lists at their own endpoint
    pages = sum(math.ceil(n / 100) for n in per_stream.values())
    floor = max((pages + items) / LIVE_GLOBAL, max(math.ceil(n / 100) for n in
                per_stream.values()) / LIVE_ENDPOINT, items / LIVE_ENDPOINT)  # fmt: skip
    print(f"live limits (x{scale}): {objects:,} objects "
          f"({', '.join(f'{n} {c:,}' for n, c in per_stream.items())}), "
          f"{LIVE_LATENCY * 1000:.0f} ms latency, {LIVE_GLOBAL:.0f} req/s global, "
          f"{LIVE_ENDPOINT:.0f}/s per endpoint")  # fmt: skip
    print(f"{'':<4}{records:,} records in {elapsed:.1f} s = {records / elapsed:,.0f} rec/s; "
          f"ideal {ideal:.1f} s: ratio {ideal / elapsed:.2f}; 429s received {refused}")  # fmt: skip
    # Meltano's, discovery's and the plugins' start-up do not grow with the data
    if reading:
        print(f"{'':<4}without start-up: {reading:.1f} s from the tap's first read to the run's "
              f"end = {records / reading:,.0f} rec/s, ratio {ideal / reading:.2f}")  # fmt: skip
    if span:
        print(f"{'':<4}the target: {span:.1f} s from its first record to its last drain = "
              f"{records / span:,.0f} rec/s")  # fmt: skip
    print(f"{'':<4}the data also needs {items:,} item-list requests (subscriptions with over 10 "
          f"items, GET /v1/subscription_items at {LIVE_ENDPOINT:.0f}/s): its floor is "
          f"{floor:.1f} s, ratio {floor / elapsed:.2f}")  # fmt: skip
    per_name: dict[str, float] = {}
    for process, used in cpu.values():
        per_name[process] = per_name.get(process, 0.0) + used
    usage = ", ".join(f"{n} {per_name[n] / max(records, 1) * 1e6:.0f} µs/rec"
                      for n in ("meltano", "tap-stripe-xdm", "target-aep")
                      if n in per_name)  # fmt: skip
    print(f"{'':<4}CPU: {usage}; Stripe emulator serving {emulator_cpu:.1f} s")


def live_limits_kills(
    project: MeltanoProject, scale: float, env_extra: dict[str, str], seed: int
) -> None:
    """Kill the backfill three times at random moments, resume each time, finish; print the
    share of objects written more than once."""
    per_stream = live_counts(scale)
    objects = sum(per_stream.values())
    set_tap_rate(project, LIVE_GLOBAL, LIVE_ENDPOINT)
    emulator, url = start_emulator(",".join(f"{n}={c}" for n, c in per_stream.items()),
                                   LIVE_LATENCY, LIVE_GLOBAL, LIVE_ENDPOINT)  # fmt: skip
    rng = random.Random(seed)
    suffix = f"kill{seed}-{time.time_ns()}"
    try:
        with tempfile.TemporaryDirectory() as out:
            env = project.env({"TAP_STRIPE_XDM_API_URL": url,
                               "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
                               "TARGET_AEP_OUTPUT_DIR": out, **env_extra})  # fmt: skip
            # the first run ends at about start-up + the ideal time; kill within it
            span = 6.0 + ideal_seconds(per_stream)
            kills = []
            for _ in range(3):
                at = rng.uniform(4.0, span)
                # --force: the killed run's job is still marked running in Meltano's database
                proc = pipeline(project, env, "--force", "--state-id-suffix", suffix)
                try:
                    proc.wait(timeout=at)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                kills.append(f"{at:.1f} s -> {written_records(Path(out)):,} written")
            proc = pipeline(project, env, "--force", "--state-id-suffix", suffix)
            _, err = proc.communicate()
            if proc.returncode != 0:
                print(err[-3000:])
                raise SystemExit(f"live limits --kill: the last run failed ({proc.returncode})")
            records = written_records(Path(out))
    finally:
        refused = stop_emulator(emulator)
    print(f"live limits (x{scale}) with kill -9 at random moments: {'; '.join(kills)}")
    print(f"{'':<4}{records:,} records written for {objects:,} objects: re-sent share "
          f"{records / objects - 1:.1%}; 429s received {refused}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data sets")
    parser.add_argument("--live-limits", action="store_true",
                        help="only the live-limits scenario (see above)")  # fmt: skip
    parser.add_argument("--scale", type=float, default=1.0,
                        help="live limits: multiply the object counts (e.g. 0.25)")  # fmt: skip
    parser.add_argument("--kill", action="store_true",
                        help="live limits: kill -9 three times, resume, print the re-sent "
                             "share")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="--kill: seed of the kill moments")
    parser.add_argument("--long-subscriptions-every", type=int, default=None, metavar="N",
                        help="live limits: one subscription in N has more than 10 items, each "
                             "a GET /v1/subscription_items at its own 25/s (emulator default "
                             "6; e.g. 100 for an account of mostly small "
                             "subscriptions)")  # fmt: skip
    parser.add_argument("--batch-messages", action="store_true",
                        help="the tap writes batch files and prints BATCH messages, which the "
                             "target reads (Meltano relays no records)")  # fmt: skip
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
        if args.batch_messages:
            (Path(root) / "batches").mkdir()
            env |= batch_messages(Path(root) / "batches")
            print("records in batch files: the tap prints BATCH messages, the target reads them")
        (Path(root) / "project").mkdir()
        project = MeltanoProject(Path(root) / "project")
        project.install()
        if env:
            run(project, "warm-up", 10, 0.0, None, env, report=False)
        if args.live_limits:
            if args.kill:
                live_limits_kills(project, args.scale, env, args.seed)
            else:
                live_limits(project, args.scale, env, args.long_subscriptions_every)
            return
        run(project, "zero latency", scale, 0.0, None, env)
        run(project, "zero latency, 2x the data", scale * 2, 0.0, None, env)
        run(project, "120 ms latency, 25 req/s", scale // 2, 0.12, 25, env)


if __name__ == "__main__":
    main()
