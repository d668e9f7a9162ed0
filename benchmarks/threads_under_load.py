"""How torch's CPU thread pool behaves when the cores are shared (issue 15, point 10).

Each configuration runs in a fresh process (thread settings and OMP_* variables are read
once at start-up) and times the same training step of a classifier the size of the IMDB
row (embedding 128, bidirectional GRU 128, batch 64 x 256 tokens): forward, backward and
an Adam update. The configurations run beside competing processes that each keep a core
busy (`--hog N`), or on the machine as it is (`--hog 0`), the situation of a user running
two jobs on a 2-core machine. Runs of the configurations are interleaved and
repeated, and the median kept. Results: JSON and a Markdown table under benchmarks/results/
(one pair per --hog value).

    python benchmarks/threads_under_load.py --hog 1       # one competing busy process
    python benchmarks/threads_under_load.py --hog 0       # the machine as it is
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

# (name, torch threads, extra environment)
CONFIGS = [
    ("1 thread", 1, {}),
    ("2 threads (torch default here)", 2, {}),
    ("2 threads, OMP_WAIT_POLICY=PASSIVE", 2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("2 threads, OMP_WAIT_POLICY=ACTIVE", 2, {"OMP_WAIT_POLICY": "ACTIVE"}),
    ("2 threads, GOMP_SPINCOUNT=10000", 2, {"GOMP_SPINCOUNT": "10000"}),
    ("2 threads, GOMP_SPINCOUNT=100000", 2, {"GOMP_SPINCOUNT": "100000"}),
]

WORKER = r"""
import sys, time, torch
from torch import nn
threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
emb, gru, out = nn.Embedding(20000, 128), nn.GRU(128, 128, batch_first=True, bidirectional=True), nn.Linear(256, 2)
params = [*emb.parameters(), *gru.parameters(), *out.parameters()]
opt = torch.optim.Adam(params, 1e-3)
x, y = torch.randint(0, 20000, (64, 256)), torch.randint(0, 2, (64,))
def step():
    opt.zero_grad()
    h, _ = gru(emb(x))
    loss = nn.functional.cross_entropy(out(h.max(1).values), y)
    loss.backward()
    opt.step()
step()  # warm-up
times = []
for _ in range(steps):
    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
times.sort()
print(times[len(times) // 2], sum(times) / len(times))
"""


def busy(stop: mp.Event) -> None:  # type: ignore[valid-type]
    """Keep one core busy, as another user's job would."""
    while not stop.is_set():  # type: ignore[attr-defined]
        sum(i * i for i in range(10_000))


def run_config(threads: int, env: dict[str, str], steps: int) -> float:
    """The median seconds per step of one configuration, in a fresh process."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    environment.update(env)
    out = subprocess.run([sys.executable, "-c", WORKER, str(threads), str(steps)],
                         env=environment, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each configuration, interleaved (the median is kept)")
    parser.add_argument("--hog", type=int, default=1,
                        help="busy processes started beside the runs (0: the machine as it is)")
    parser.add_argument("--label", default="", help="how loaded the machine was otherwise")
    parser.add_argument("--name", default="", help="results file suffix (default: hogN)")
    args = parser.parse_args()
    stop = mp.Event()
    hogs = [mp.Process(target=busy, args=(stop,)) for _ in range(args.hog)]
    for hog in hogs:
        hog.start()
    times: dict[str, list[float]] = {name: [] for name, _, _ in CONFIGS}
    loads = []
    try:
        for repeat in range(args.repeats):
            for name, threads, env in CONFIGS:
                times[name].append(run_config(threads, env, args.steps))
                loads.append(os.getloadavg()[0])
                print(f"repeat {repeat}  {name:<38} {times[name][-1]:.3f} s/step  "
                      f"load {loads[-1]:.1f}", flush=True)
    finally:
        stop.set()
        for hog in hogs:
            hog.join()
    rows = [{"config": name, "threads": threads, "env": env, "runs_s_per_step": times[name],
             "median_s_per_step": statistics.median(times[name])}
            for name, threads, env in CONFIGS]
    write(rows, args, statistics.mean(loads))


def write(rows: list[dict], args: argparse.Namespace, load: float) -> None:
    RESULTS.mkdir(exist_ok=True)
    suffix = args.name or f"hog{args.hog}"
    meta = {"date": date.today().isoformat(), "cpu": cpu_name(), "cores": os.cpu_count(),
            "command": "python " + " ".join(sys.argv), "busy_processes_started": args.hog,
            "mean_load_average_1min": round(load, 2), "label": args.label}
    path = RESULTS / f"threads_under_load_{suffix}.json"
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    best = min(r["median_s_per_step"] for r in rows)
    lines = [f"# torch threads on a shared {os.cpu_count()}-core CPU ({meta['cpu']})", "",
             f"`{meta['command']}` on {meta['date']}: {args.hog} busy process(es) started "
             f"beside the runs; 1-minute load average during the runs {load:.1f}"
             f"{'; ' + args.label if args.label else ''}.", "",
             "| configuration | median s/step | runs | vs best |", "|---|---:|---|---:|"]
    for r in rows:
        runs = ", ".join(f"{t:.2f}" for t in r["runs_s_per_step"])
        lines.append(f"| {r['config']} | {r['median_s_per_step']:.3f} | {runs} | "
                     f"{r['median_s_per_step'] / best:.2f}x |")
    (RESULTS / f"threads_under_load_{suffix}.md").write_text("\n".join(lines) + "\n",
                                                            encoding="utf-8")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
