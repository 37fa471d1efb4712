"""How fast is this machine right now, and how much do two processes get from its cores?

Times a fixed pure-Python loop alone and then two copies at once (medians of --repeat runs).
Quote it beside benchmark figures: shared machines drift, and `check`'s worker processes gain
only what running two at once gains here.

    python bench/machine_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

LOOP = "x = 0\nfor i in range(20_000_000):\n    x += i\n"


def run_copies(copies: int) -> float:
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", LOOP]) for _ in range(copies)]
    for p in procs:
        p.wait()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", "-n", type=int, default=3)
    args = ap.parse_args()
    alone = statistics.median(run_copies(1) for _ in range(args.repeat))
    together = statistics.median(run_copies(2) for _ in range(args.repeat))
    print(f"fixed loop alone:         {alone:.2f} s")
    print(f"two copies at once:       {together:.2f} s")
    print(f"throughput of two vs one: {2 * alone / together:.2f}x")


if __name__ == "__main__":
    main()
