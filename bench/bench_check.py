#!/usr/bin/env python3
"""Benchmark `authorkit check` on a generated ~20 MB corpus, against markdownlint-cli2.

    python bench/bench_check.py                     # everything, 3 runs each, medians
    python bench/bench_check.py --repeat 5 --no-markdownlint
    python bench/bench_check.py --no-code-checks     # main runs with code checks off

What it measures (wall-clock medians, plus the CPU time of the child processes, which is steadier
on a busy machine):
  cold   `authorkit check CORPUS --format json` with the cache directory emptied first
  warm   the same again with nothing changed (results come from the cache)
  help   `authorkit --help` (import cost of the CLI)
  mdl    markdownlint-cli2 with its default rules on the same files
  code   the cold run again with code checks switched the other way, to price them

It writes the table to stdout and the same numbers to bench/results/check.json. The exit code is
0 whatever the numbers (the machine may be noisy); `--strict` makes a missed target exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import machine_speed  # noqa: E402 - sibling script
import make_corpus  # noqa: E402 - sibling script

TARGETS = {"cold_s": 4.0, "warm_s": 0.5, "ratio": 1 / 8, "help_s": 0.3}
MDL_BIN = HERE / "node_modules" / ".bin" / "markdownlint-cli2"
MDL_CONFIG = HERE / ".markdownlint-cli2.jsonc"


class BenchError(Exception):
    pass


# --- measuring -------------------------------------------------------------------------------

def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
          ok_codes: tuple[int, ...] = (0,)) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Run a command to completion: (wall seconds, child CPU seconds, completed process)."""
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    cpu = children_cpu() - cpu0
    if proc.returncode not in ok_codes:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise BenchError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n  " + "\n  ".join(tail))
    return wall, cpu, proc


def summary(walls: list[float], cpus: list[float]) -> dict[str, Any]:
    return {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "max_s": round(max(walls), 3), "runs_s": [round(w, 3) for w in walls],
            "cpu_median_s": round(statistics.median(cpus), 3)}


def load_avg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --- authorkit -------------------------------------------------------------------------------

def authorkit_cmd() -> list[str]:
    exe = shutil.which("authorkit")
    return [exe] if exe else [sys.executable, "-m", "authorkit"]


def check_flags(cmd: list[str], cwd: Path) -> set[str]:
    """Options that `authorkit check --help` offers, so the script adapts to the checker."""
    _, _, proc = timed([*cmd, "check", "--help"], cwd=cwd)
    text = proc.stdout.decode("utf-8", "replace")
    return {w.strip(",") for w in text.split() if w.startswith("--")}


class Checker:
    def __init__(self, corpus: Path, cache_dir: Path, args: argparse.Namespace) -> None:
        self.cmd = authorkit_cmd()
        self.corpus = corpus
        self.cache_dir = cache_dir
        self.env = {**os.environ, "AUTHORKIT_CACHE_DIR": str(cache_dir), "NO_COLOR": "1"}
        self.flags = check_flags(self.cmd, corpus)
        self.base = [*self.cmd, "check", str(corpus), "--format", "json"]
        if args.style:
            self.base += ["--style", args.style]
        if args.jobs is not None:
            self.base += ["--jobs", str(args.jobs)]
        self.code_flag = "--no-code" if "--no-code" in self.flags else None

    def argv(self, code_checks: bool) -> list[str]:
        if code_checks or self.code_flag is None:
            return self.base
        return [*self.base, self.code_flag]

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache_dir, ignore_errors=True)

    def run(self, code_checks: bool) -> tuple[float, float, dict[str, Any]]:
        # Exit 1 means "findings", which this corpus has on purpose.
        wall, cpu, proc = timed(self.argv(code_checks), cwd=self.corpus, env=self.env, ok_codes=(0, 1))
        try:
            report = json.loads(proc.stdout)
        except ValueError as exc:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
            raise BenchError(f"`authorkit check` (exit {proc.returncode}) printed no JSON report ({exc}):\n  "
                             + "\n  ".join(tail)) from None
        return wall, cpu, report

    def cold(self, n: int, code_checks: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        walls, cpus, report = [], [], {}
        for _ in range(n):
            self.clear_cache()
            wall, cpu, report = self.run(code_checks)
            walls.append(wall)
            cpus.append(cpu)
        return summary(walls, cpus), report

    def warm(self, n: int, code_checks: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        self.run(code_checks)  # make sure the cache holds this configuration
        walls, cpus, report = [], [], {}
        for _ in range(n):
            wall, cpu, report = self.run(code_checks)
            walls.append(wall)
            cpus.append(cpu)
        return summary(walls, cpus), report


def findings_count(report: dict[str, Any]) -> dict[str, Any]:
    files = report.get("files", [])
    rules: dict[str, int] = {}
    for f in files:
        for x in f.get("findings", []):
            rules[x["rule"]] = rules.get(x["rule"], 0) + 1
    return {"files": len(files), "findings": sum(rules.values()),
            "by_rule": dict(sorted(rules.items(), key=lambda kv: -kv[1]))}


def strip_volatile(report: dict[str, Any]) -> list[Any]:
    return [{k: v for k, v in f.items() if k not in ("cached", "elapsed")} for f in report.get("files", [])]


# --- markdownlint-cli2 -----------------------------------------------------------------------

def ensure_markdownlint() -> str | None:
    """Install the pinned markdownlint-cli2 into bench/node_modules; None if npm is unavailable."""
    if MDL_BIN.exists():
        return None
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return "node/npm not found"
    print("installing markdownlint-cli2 (npm install in bench/) ...", flush=True)
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=HERE,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0 or not MDL_BIN.exists():
        last = proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1:]
        return "npm install failed" + (f": {last[0]}" if last else "")
    return None


def markdownlint(corpus: Path, n: int) -> dict[str, Any]:
    skipped = ensure_markdownlint()
    if skipped:
        return {"skipped": skipped}
    try:
        rel = corpus.relative_to(HERE).as_posix()
        cwd, glob = HERE, f"{rel}/**/*.md"
    except ValueError:
        cwd, glob = corpus, "**/*.md"
    cmd = [str(MDL_BIN), "--config", str(MDL_CONFIG), glob]
    walls, cpus, problems = [], [], 0
    for _ in range(n):
        # Exit 1 means it found problems, which it does on any real corpus.
        wall, cpu, proc = timed(cmd, cwd=cwd, ok_codes=(0, 1))
        walls.append(wall)
        cpus.append(cpu)
        problems = sum(1 for ln in proc.stderr.decode("utf-8", "replace").splitlines() if " MD0" in ln)
    version = subprocess.run([str(MDL_BIN), "--help"], cwd=cwd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT).stdout.decode().splitlines()[:1]
    return {**summary(walls, cpus), "problems": problems, "version": version[0] if version else "",
            "command": f"markdownlint-cli2 --config {MDL_CONFIG.name} \"{glob}\" (in {cwd.name}/)"}


# --- report ----------------------------------------------------------------------------------

def verdict(value: float | None, limit: float, strict_less: bool = False) -> str:
    if value is None:
        return "n/a"
    ok = value < limit if strict_less else value <= limit
    return "PASS" if ok else "FAIL"


def build_rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    c = res["corpus"]
    rows.append(("corpus", f"{c['docs']} docs, {c['mb']:.1f} MB, {c['lines']:,} lines", "", ""))
    code = "code checks on" if res["code_checks"] else "code checks off"
    cold, warm = res["cold"], res["warm"]
    rows.append((f"cold check ({code})", f"{cold['median_s']:.2f} s (cpu {cold['cpu_median_s']:.1f} s)",
                 f"<= {TARGETS['cold_s']:g} s", res["verdicts"]["cold"]))
    rows.append((f"warm check ({code})", f"{warm['median_s']:.2f} s (cpu {warm['cpu_median_s']:.1f} s)",
                 f"<= {TARGETS['warm_s']:g} s", res["verdicts"]["warm"]))
    mdl = res["markdownlint"]
    if "median_s" in mdl:
        rows.append(("markdownlint-cli2", f"{mdl['median_s']:.2f} s (cpu {mdl['cpu_median_s']:.1f} s)", "", ""))
        rows.append(("ratio cold / markdownlint", f"{res['ratio']:.3f} (1/{1 / res['ratio']:.1f})",
                     "<= 0.125 (1/8)", res["verdicts"]["ratio"]))
    else:
        rows.append(("markdownlint-cli2", f"skipped: {mdl.get('skipped')}", "<= 0.125 (1/8)", "n/a"))
    h = res["help"]
    rows.append(("authorkit --help", f"{h['median_s']:.3f} s", f"< {TARGETS['help_s']:g} s", res["verdicts"]["help"]))
    cmp_ = res.get("code_comparison")
    if cmp_:
        rows.append((f"cold check ({cmp_['other']})", f"{cmp_['cold']['median_s']:.2f} s (cpu {cmp_['cold']['cpu_median_s']:.1f} s)", "", ""))
        rows.append(("code checks slowdown (cold)", f"{cmp_['slowdown']:.2f}x", "", ""))
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    head = ("measure", "median", "target", "result")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |")


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return out.stdout.decode().strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return ""


def ensure_corpus(corpus: Path, docs: int, seed: int) -> dict[str, Any]:
    manifest = corpus / make_corpus.MANIFEST
    try:
        m = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        m = {}
    want = {"generator_version": make_corpus.GENERATOR_VERSION, "seed": seed, "docs": docs}
    if any(m.get(k) != v for k, v in want.items()):
        print(f"building corpus in {corpus} ...", flush=True)
        m = make_corpus.build(corpus, docs, seed)
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=make_corpus.DEFAULT_OUT, help="corpus directory (built if missing)")
    ap.add_argument("--docs", type=int, default=1100, help="documents in the corpus (default: 1100)")
    ap.add_argument("--seed", type=int, default=2, help="corpus seed (default: 2)")
    ap.add_argument("--repeat", "-n", type=int, default=3, help="runs per measurement; the median is reported (default: 3)")
    ap.add_argument("--help-repeat", type=int, default=10, help="runs of `authorkit --help` (default: 10)")
    ap.add_argument("--style", default=None, help="pass --style to the checker (default: the corpus config, auto)")
    ap.add_argument("--jobs", type=int, default=None, help="pass --jobs to the checker (default: its own, one per core)")
    ap.add_argument("--with-code-checks", dest="code_checks", action="store_true", default=True,
                    help="main runs check code blocks (default)")
    ap.add_argument("--no-code-checks", dest="code_checks", action="store_false",
                    help="main runs skip code-block checks")
    ap.add_argument("--no-compare-code-checks", dest="compare_code", action="store_false", default=True,
                    help="skip the extra cold runs that price the code checks")
    ap.add_argument("--no-markdownlint", dest="markdownlint", action="store_false", default=True,
                    help="skip the markdownlint-cli2 reference runs")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "check.json", help="JSON results file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.help_repeat < 1:
        ap.error("--repeat and --help-repeat must be at least 1")

    corpus = args.corpus.resolve()
    load_before = load_avg()
    # The same fixed loop as bench/machine_speed.py, before and after: on a shared machine the
    # figures below mean something only next to how fast the machine was while they were taken.
    speed_before = machine_speed.run_copies(1)
    cache_dir = args.out.resolve().parent / "cache"
    try:
        m = ensure_corpus(corpus, args.docs, args.seed)
        ck = Checker(corpus, cache_dir, args)
        if not args.code_checks and ck.code_flag is None:
            raise BenchError("this checker has no option to switch code checks off (`--no-code`)")
        print(f"cold runs ({args.repeat}) ...", flush=True)
        cold, cold_report = ck.cold(args.repeat, args.code_checks)
        print(f"warm runs ({args.repeat}) ...", flush=True)
        warm, warm_report = ck.warm(args.repeat, args.code_checks)
        comparison = None
        if args.compare_code and ck.code_flag:
            other = not args.code_checks
            print(f"cold runs with code checks {'on' if other else 'off'} ({args.repeat}) ...", flush=True)
            other_cold, _ = ck.cold(args.repeat, other)
            with_s = cold["median_s"] if args.code_checks else other_cold["median_s"]
            without_s = other_cold["median_s"] if args.code_checks else cold["median_s"]
            comparison = {"other": f"code checks {'on' if other else 'off'}", "cold": other_cold,
                          "slowdown": round(with_s / without_s, 3) if without_s else None}
        print(f"authorkit --help ({args.help_repeat}) ...", flush=True)
        hw, hc = [], []
        for _ in range(args.help_repeat):
            w, c, _ = timed([*ck.cmd, "--help"], cwd=corpus)
            hw.append(w)
            hc.append(c)
        help_ = summary(hw, hc)
        mdl: dict[str, Any] = {"skipped": "--no-markdownlint"}
        if args.markdownlint:
            print(f"markdownlint-cli2 runs ({args.repeat}) ...", flush=True)
            mdl = markdownlint(corpus, args.repeat)
    except (BenchError, make_corpus.CorpusError) as exc:
        print(f"bench_check: {exc}", file=sys.stderr)
        return 2

    ratio = round(cold["median_s"] / mdl["median_s"], 4) if "median_s" in mdl else None
    res: dict[str, Any] = {
        "corpus": {"path": str(corpus), "docs": m["docs"], "bytes": m["bytes"], "mb": round(m["bytes"] / 1e6, 2),
                   "lines": m["lines"], "seed": m["seed"], "kinds": m.get("kinds"), "problems": m.get("problems")},
        "command": " ".join(ck.argv(args.code_checks)),
        "code_checks": args.code_checks,
        "repeat": args.repeat,
        "cold": cold,
        "warm": warm,
        "warm_matches_cold": strip_volatile(warm_report) == strip_volatile(cold_report),
        "findings": findings_count(cold_report),
        "help": help_,
        "markdownlint": mdl,
        "ratio": ratio,
        "code_comparison": comparison,
        "targets": TARGETS,
        "verdicts": {
            "cold": verdict(cold["median_s"], TARGETS["cold_s"]),
            "warm": verdict(warm["median_s"], TARGETS["warm_s"]),
            "ratio": verdict(ratio, TARGETS["ratio"]),
            "help": verdict(help_["median_s"], TARGETS["help_s"], strict_less=True),
        },
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "node": tool_version(["node", "--version"]),
                    "authorkit": package_version("authorkit"),
                    "load_avg_before": load_before, "load_avg_after": load_avg(),
                    "fixed_loop_s_before": round(speed_before, 2), "fixed_loop_s_after": round(machine_speed.run_copies(1), 2)},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if res["findings"]["files"] != m["docs"]:
        print(f"warning: the checker reported {res['findings']['files']} files, the corpus has {m['docs']}", file=sys.stderr)
    if not res["warm_matches_cold"]:
        print("warning: the warm run's findings differ from the cold run's", file=sys.stderr)

    print()
    print_table(build_rows(res))
    f = res["findings"]
    print(f"\nchecker: {f['findings']} findings in {f['files']} files; warm == cold: {res['warm_matches_cold']}; "
          f"load average before/after: {load_before} / {res['machine']['load_avg_after']}; "
          f"machine speed (bench/machine_speed.py's fixed loop) before/after: {res['machine']['fixed_loop_s_before']} s / "
          f"{res['machine']['fixed_loop_s_after']} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    # The checker's own report of the last cold run, to see what it found in the corpus.
    report_path = args.out.with_name(args.out.stem + "-report.json")
    report_path.write_text(json.dumps(cold_report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results: {args.out} (checker report: {report_path.name})")
    failed = [k for k, v in res["verdicts"].items() if v == "FAIL"]
    return 1 if (args.strict and failed) else 0


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
