#!/usr/bin/env python3
"""authorkit against rumdl and markdownlint-cli2 on the generated site, interleaved in the same rounds.

    python bench/bench_speed.py                  # 3 rounds, medians of the ratios
    python bench/bench_speed.py --rounds 5 --no-markdownlint
    PYTHONPATH=/path/to/other/src python bench/bench_speed.py   # another authorkit tree

Each round runs every measurement of every tool once, in turn, so a busy spell on a shared
machine hits all of them alike; each ratio is computed within a round and the median over the
rounds is reported. Times are CPU seconds of the whole process tree (user + system of the
process and every descendant it waited for, from wait4), which a noisy machine disturbs far
less than wall time; wall times are printed beside them. Memory is the peak resident size of
the largest single process of the tree.

A subreaper (PR_SET_CHILD_SUBREAPER) makes any process a run leaves behind a child of this
script once its parent exits, so it is seen, counted as "left behind", and killed.

Measures (authorkit / rumdl unless named):
  cold      both caches emptied first
  warm      nothing changed since the last run
  one file  one document's content changed (a line appended), vs rumdl warm
  mdl       authorkit cold / markdownlint-cli2 cold
  --help, --version   seconds of `authorkit --help` / `--version` (wall and CPU)
  hook      `authorkit hook` answering a PostToolUse event for one file, warm
The exit code is 0 whatever the figures; --strict makes a missed target exit 1.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_check  # noqa: E402 - sibling script
import make_corpus  # noqa: E402 - sibling script

TARGETS = {"cold": 1.3, "warm": 1.0, "one_file": 1.2, "mdl": 1 / 8, "help_s": 0.15, "version_s": 0.15,
           "hook_s": 0.3, "memory": 1.0}


class BenchError(Exception):
    pass


def _subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _our_children() -> list[int]:
    me = str(os.getpid())
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == me:
            kids.append(int(d))
    return kids


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, stdin: bytes | None = None,
        ok: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
    """Run to completion: wall s, CPU s of the tree, peak RSS MB of its largest process,
    processes left behind (reaped and killed here), stdout bytes."""
    import subprocess

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=inp, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu = ru.ru_utime + ru.ru_stime
        rss = ru.ru_maxrss / 1024
        # Orphans of the run were re-parented to us: count them, kill them, reap them.
        left = _our_children()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in left:
            try:
                _, _, kru = os.wait4(pid, 0)
                cpu += kru.ru_utime + kru.ru_stime
            except ChildProcessError:
                pass
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if p.returncode not in ok:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise BenchError(f"`{' '.join(cmd)}` exited {p.returncode}:\n  " + "\n  ".join(tail))
    return {"wall": wall, "cpu": cpu, "rss_mb": rss, "left": len(left), "stdout": stdout}


class Tools:
    def __init__(self, corpus: Path, work: Path, args: argparse.Namespace) -> None:
        self.corpus = corpus
        self.ak = bench_check.authorkit_cmd()
        self.ak_cache = work / "authorkit-cache"
        self.ak_env = {**os.environ, "AUTHORKIT_CACHE_DIR": str(self.ak_cache), "NO_COLOR": "1"}
        self.rumdl = shutil.which("rumdl") or str(Path(sys.executable).parent / "rumdl")
        if not Path(self.rumdl).exists():
            raise BenchError("rumdl not found: pip install rumdl (it is in authorkit's `bench` extra)")
        self.rumdl_cache = work / "rumdl-cache"
        self.jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        self.mdl = args.markdownlint
        self.mdl_rounds = args.markdownlint_rounds
        # The document changed for "one file": a mid-sized tutorial page.
        docs = sorted(corpus.rglob("*.md"))
        self.changed = sorted(docs, key=lambda p: p.stat().st_size)[len(docs) // 2]
        self.changed_text = self.changed.read_bytes()
        self.edits = 0

    def authorkit(self) -> dict[str, Any]:
        return run([*self.ak, "check", ".", "--format", "json", *self.jobs], cwd=self.corpus, env=self.ak_env)

    def rumdl_run(self) -> dict[str, Any]:
        return run([self.rumdl, "check", ".", "--cache-dir", str(self.rumdl_cache), "--output-format", "json"],
                   cwd=self.corpus)

    def markdownlint(self) -> dict[str, Any]:
        rel = self.corpus.relative_to(HERE).as_posix() if self.corpus.is_relative_to(HERE) else None
        cwd, glob = (HERE, f"{rel}/**/*.md") if rel else (self.corpus, "**/*.md")
        return run([str(bench_check.MDL_BIN), "--config", str(bench_check.MDL_CONFIG), glob], cwd=cwd)

    def edit(self) -> None:
        self.edits += 1
        self.changed.write_bytes(self.changed_text + f"\nEdited for round {self.edits}.\n".encode())

    def restore(self) -> None:
        self.changed.write_bytes(self.changed_text)

    def hook(self) -> dict[str, Any]:
        event = {"hook_event_name": "PostToolUse", "session_id": "bench", "cwd": str(self.corpus),
                 "tool_name": "Edit", "tool_input": {"file_path": str(self.changed)}}
        return run([*self.ak, "hook"], cwd=self.corpus, env=self.ak_env, stdin=json.dumps(event).encode(), ok=(0,))


def one_round(t: Tools, i: int) -> dict[str, Any]:
    r: dict[str, Any] = {}
    first_ak = i % 2 == 0  # alternate who goes first
    shutil.rmtree(t.ak_cache, ignore_errors=True)
    shutil.rmtree(t.rumdl_cache, ignore_errors=True)
    for name in (["ak", "rumdl"] if first_ak else ["rumdl", "ak"]):
        r[f"{name}_cold"] = t.authorkit() if name == "ak" else t.rumdl_run()
    if t.mdl and i < t.mdl_rounds:
        r["mdl_cold"] = t.markdownlint()
    for name in (["ak", "rumdl"] if first_ak else ["rumdl", "ak"]):
        r[f"{name}_warm"] = t.authorkit() if name == "ak" else t.rumdl_run()
    t.edit()
    try:
        for name in (["ak", "rumdl"] if first_ak else ["rumdl", "ak"]):
            r[f"{name}_one"] = t.authorkit() if name == "ak" else t.rumdl_run()
        t.restore()
        t.authorkit()  # back to "nothing changed" for the hook
        r["hook"] = t.hook()
    finally:
        t.restore()
    r["help"] = run([*t.ak, "--help"], cwd=t.corpus, ok=(0,))
    r["version"] = run([*t.ak, "--version"], cwd=t.corpus, ok=(0,))
    return r


def med(rounds: list[dict[str, Any]], key: str, field: str = "cpu") -> float:
    return statistics.median(r[key][field] for r in rounds if key in r)


def ratio(rounds: list[dict[str, Any]], a: str, b: str, field: str = "cpu") -> float:
    return statistics.median(r[a][field] / r[b][field] for r in rounds if a in r and b in r)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=make_corpus.DEFAULT_OUT, help="corpus directory (built if missing)")
    ap.add_argument("--docs", type=int, default=1100)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--rounds", "-n", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=None, help="pass --jobs to authorkit")
    ap.add_argument("--no-markdownlint", dest="markdownlint", action="store_false", default=True)
    ap.add_argument("--markdownlint-rounds", type=int, default=1,
                    help="rounds that also run markdownlint-cli2 (slow: ~10x authorkit; default 1)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "speed.json")
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args(argv)
    reaper = _subreaper()
    corpus = args.corpus.resolve()
    try:
        m = bench_check.ensure_corpus(corpus, args.docs, args.seed)
        if args.markdownlint:
            skipped = bench_check.ensure_markdownlint()
            if skipped:
                print(f"markdownlint-cli2 skipped: {skipped}", file=sys.stderr)
                args.markdownlint = False
        with tempfile.TemporaryDirectory(prefix="authorkit-bench-") as work:
            t = Tools(corpus, Path(work), args)
            rounds = []
            for i in range(args.rounds):
                print(f"round {i + 1}/{args.rounds} ...", flush=True)
                rounds.append(one_round(t, i))
    except BenchError as exc:
        print(f"bench_speed: {exc}", file=sys.stderr)
        return 2

    rows: list[tuple[str, str, str, str, str]] = []
    verdicts: dict[str, bool] = {}

    def row(name: str, ak: str, other: str, value: float, target: float, key: str, fmt: str = "{:.2f}×") -> None:
        verdicts[key] = value <= target
        rows.append((name, ak, other, fmt.format(value), ("≤ " + fmt.format(target)) + ("  ok" if verdicts[key] else "  MISSED")))

    def cpu_wall(k: str) -> str:
        return f"{med(rounds, k):.2f} s CPU ({med(rounds, k, 'wall'):.2f} s wall)"

    row("cold", cpu_wall("ak_cold"), cpu_wall("rumdl_cold"), ratio(rounds, "ak_cold", "rumdl_cold"), TARGETS["cold"], "cold")
    row("warm, nothing changed", cpu_wall("ak_warm"), cpu_wall("rumdl_warm"), ratio(rounds, "ak_warm", "rumdl_warm"), TARGETS["warm"], "warm")
    row("one file changed (vs rumdl warm)", cpu_wall("ak_one"), cpu_wall("rumdl_warm") + f"; rumdl one file {med(rounds, 'rumdl_one'):.2f} s",
        ratio(rounds, "ak_one", "rumdl_warm"), TARGETS["one_file"], "one_file")
    if args.markdownlint:
        row("cold vs markdownlint-cli2", cpu_wall("ak_cold"), "markdownlint-cli2 " + cpu_wall("mdl_cold"),
            ratio(rounds, "ak_cold", "mdl_cold"), TARGETS["mdl"], "mdl", "{:.3f}")
    for k, name in (("help", "`authorkit --help`"), ("version", "`authorkit --version`"), ("hook", "hook call, one file, warm")):
        tk = f"{k}_s"
        row(name, f"{med(rounds, k, 'wall'):.3f} s wall ({med(rounds, k):.3f} s CPU)", "", med(rounds, k, "wall"), TARGETS[tk], tk, "{:.3f} s")
    mem = max(r["ak_cold"]["rss_mb"] for r in rounds) / max(r["rumdl_cold"]["rss_mb"] for r in rounds)
    row("peak memory, largest process (cold)", f"{max(r['ak_cold']['rss_mb'] for r in rounds):.0f} MB",
        f"{max(r['rumdl_cold']['rss_mb'] for r in rounds):.0f} MB", mem, TARGETS["memory"], "memory")
    left = sum(r[k]["left"] for r in rounds for k in r if k.startswith("ak_") or k in ("hook", "help", "version"))
    verdicts["left_behind"] = left == 0 if reaper else True

    head = ("measure", "authorkit", "rumdl", "ratio", "target")
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(5)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(v.ljust(w) for v, w in zip(x, widths)) + " |" for x in rows]
    print()
    print("\n".join(lines))
    print(f"\ncorpus: {m['docs']} documents, {m['bytes'] / 1e6:.1f} MB, {m['lines']:,} lines (generator v{m['generator_version']}, seed {m['seed']}); "
          f"{args.rounds} rounds; processes left behind by authorkit runs: "
          f"{left if reaper else 'not measured (no subreaper)'}; load average: {bench_check.load_avg()}")
    res = {"corpus": {k: m[k] for k in ("docs", "bytes", "lines", "seed", "generator_version")},
           "rounds": [{k: {f: round(v, 4) for f, v in x.items() if f != "stdout"} for k, x in r.items()} for r in rounds],
           "targets": TARGETS, "verdicts": verdicts, "left_behind": left, "table": lines,
           "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"results: {args.out}")
    return 1 if args.strict and not all(verdicts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
