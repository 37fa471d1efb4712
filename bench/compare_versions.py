#!/usr/bin/env python3
"""Time a cold `authorkit check` of the benchmark corpus for this tree and an earlier revision,
in alternation, and report the paired ratio.

    python bench/compare_versions.py --base 48c4542           # 8 pairs
    python bench/compare_versions.py --base HEAD~3 --runs 12

Each run is a whole process (`python -m authorkit check CORPUS --format json --no-cache`),
the working tree's code against a temporary git worktree of `--base` (through PYTHONPATH).
Runs alternate A B A B … and the ratio is taken pair by pair, so a machine whose speed drifts
during the call still gives a meaningful ratio. The worktree is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import make_corpus  # noqa: E402 - sibling script
from bench_check import ensure_corpus  # noqa: E402 - sibling script


def timed(src: Path, corpus: Path) -> tuple[float, float]:
    """(wall, CPU of the process and its children) of one cold check with the code in `src`."""
    env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1"}
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = ru.ru_utime + ru.ru_stime
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "authorkit", "check", str(corpus), "--format", "json", "--no-cache"],
                          cwd=corpus, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):  # 1: the corpus has findings on purpose
        raise SystemExit(f"compare_versions: check exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")
    return wall, ru.ru_utime + ru.ru_stime - cpu0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="git revision to compare against (e.g. the last release)")
    ap.add_argument("--runs", type=int, default=8, help="pairs of runs (default: 8)")
    ap.add_argument("--corpus", type=Path, default=make_corpus.DEFAULT_OUT)
    args = ap.parse_args()
    corpus = args.corpus.resolve()
    ensure_corpus(corpus, 1100, 2)
    with tempfile.TemporaryDirectory(prefix="authorkit-base-") as tmp:
        base = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.base], cwd=REPO, check=True)
        try:
            timed(REPO / "src", corpus)  # warm the file cache; not counted
            a_wall, a_cpu, b_wall, b_cpu = [], [], [], []
            for i in range(args.runs):
                w, c = timed(REPO / "src", corpus)
                a_wall.append(w)
                a_cpu.append(c)
                w, c = timed(base / "src", corpus)
                b_wall.append(w)
                b_cpu.append(c)
                print(f"pair {i + 1}: this tree {a_wall[-1]:.2f} s, {args.base} {b_wall[-1]:.2f} s", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False)
    med = statistics.median
    print(f"\nthis tree: wall {med(a_wall):.2f} s, cpu {med(a_cpu):.1f} s (medians of {args.runs})")
    print(f"{args.base}: wall {med(b_wall):.2f} s, cpu {med(b_cpu):.1f} s")
    print(f"paired ratio (this / base), median: wall {med(a / b for a, b in zip(a_wall, b_wall)):.2f}x, "
          f"cpu {med(a / b for a, b in zip(a_cpu, b_cpu)):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
