#!/usr/bin/env python3
"""Write the generated parts of the docs from the code, so they cannot drift:

- docs/configuration.md: every `authorkit.toml` key with its type, default and meaning;
- docs/checking.md: every rule id `check` can report.

    python docs/gen_reference.py           # rewrite the generated blocks in place
    python docs/gen_reference.py --check   # exit 1 when a page is out of date (the tests run this)
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path

from pydantic import BaseModel

HERE = Path(__file__).resolve().parent

# What each key means. A key of the configuration models missing here fails --check.
MEANING = {
    "default_style": "style for paths no `[styles]` glob matches (`auto` detects it)",
    "sessions_dir": "session records (`*.jsonl`) and summaries",
    "prompts_dir": "your prompt templates; a file here overrides the built-in one of the same name",
    "style_guides_dir": "your style guides; a file here adds a style or overrides a built-in one",
    "styles": "glob → style; gitignore-like globs relative to authorkit.toml; the first match wins",
    "style_overrides": "per style: `lines = { min, target, max }` replacing the guide's document line targets",
    "content.roots": "what `check`, `fix` and `plan` look at when given no paths",
    "content.include": "which files under the roots are documents",
    "content.exclude": "files never checked (index and landing pages that `init` found are added here)",
    "check.fail_on": "lowest severity that makes `check` exit 1: `error`, `warning` or `info`",
    "check.code_checks": "syntax-check code blocks (`--no-code` turns them off for one run)",
    "check.cache": "keep results of unchanged files (`--no-cache` for one run)",
    "check.jobs": "worker processes; 0 chooses from the number of cores and the amount of work",
    "model.name": "the model drafts, conversions and narratives use (`--model` for one run)",
    "model.max_tokens": "output tokens per call before the reply is continued",
    "model.temperature": "sampling temperature, always sent",
    "model.concurrency": "model calls in flight at once (`--concurrency` for one run)",
    "model.repair_rounds": "rounds of repair of the parts that fail `check`",
    "model.max_continuations": "continuations of a reply cut at `max_tokens`",
    "model.max_retries": "retries of a failed call (429, 529, 5xx, a cut stream), with backoff",
    "model.timeout": "seconds until a response starts (a local server processes the whole prompt first)",
    "model.connect_timeout": "seconds to connect",
    "model.idle_timeout": "seconds without data on an open stream before it counts as stalled and is retried",
    "model.call_deadline": "seconds for one call, retries and continuations included (0: none)",
    "model.document_deadline": "seconds for one document (0: none)",
    "model.cache_warming": "`auto`: wait for the first call to fill Anthropic's shared cache, start at once elsewhere; `first` or `none`",
    "model.context_tokens": "the server's context size, when known (llama.cpp's `/props` is asked otherwise)",
    "model.top_p": "nucleus sampling, sent when set",
    "model.top_k": "top-k sampling, sent when set",
    "model.prices.input": "US dollars per million input tokens",
    "model.prices.cache_write": "US dollars per million tokens written to the prompt cache",
    "model.prices.cache_read": "US dollars per million tokens read from the prompt cache",
    "model.prices.output": "US dollars per million output tokens",
    "model.model_prices": "prices of other models you switch to with `--model`, by name",
    "draft.poc_dir": "where `draft poc N` writes",
    "draft.article_dir": "where `draft article …` writes",
    "draft.problem_dir": "where `draft problem …` writes",
    "draft.reference": "an accepted document shown to the model as the house example (`init` sets it)",
    "draft.style": "the style drafts are written in",
    "draft.provider": "`anthropic` or `scaffold`; unset: anthropic when `ANTHROPIC_API_KEY` or `ANTHROPIC_BASE_URL` is set",
    "plans.files": "plans whose items `plan` compares with what exists; later files win on conflicting numbers",
    "navigation.files": "`_meta.js` / `_meta.json` files new pages are inserted into",
    "navigation.update": "insert drafted pages into navigation",
    "commit.co_authors": "`Co-Authored-By:` trailers of commits holding model-written text",
    "commit.trailers": "add the session and model trailers to commit messages",
    "hooks.max_stop_blocks": "times in a row `authorkit hook` refuses a Stop while documents fail, before it lets the session go",
}


def _type_name(tp: object) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + (" (optional)" if type(None) in args else "")
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    return getattr(tp, "__name__", str(tp))


def config_rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        key = prefix + name
        tp = field.annotation
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            rows += config_rows(tp, key + ".")
            continue
        default = field.get_default(call_default_factory=True)
        shown = "—" if default is None else json.dumps(default, ensure_ascii=False) if not isinstance(default, BaseModel) else "—"
        rows.append((key, _type_name(tp), shown))
    return rows


def config_block() -> str:
    from authorkit.config import Config

    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    missing = []
    for key, tp, default in config_rows(Config):
        meaning = MEANING.get(key)
        if meaning is None:
            missing.append(key)
            meaning = "(undocumented)"
        lines.append(f"| `{key}` | {tp} | `{default}` | {meaning} |".replace("`—`", "—"))
    if missing:
        raise SystemExit("undocumented configuration keys: " + ", ".join(missing) + " (add them to MEANING in docs/gen_reference.py)")
    return "\n".join(lines)


def rules_block() -> str:
    from authorkit.rules import RULES

    lines = ["| rule id | meaning |", "|---|---|"]
    lines += [f"| `{rid}` | {text} |" for rid, text in sorted(RULES.items())]
    return "\n".join(lines)


def example(*args: str) -> str:
    """What `authorkit ARGS` prints on this repository's sample site, as a user sees it."""
    import os
    import subprocess
    import tempfile

    import shutil

    # A copy of the sample workspace, so running the examples records nothing in this one.
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(HERE.parent / "content", site / "content")
        shutil.copytree(HERE.parent / "tests" / "fixtures" / "review", site / "tests" / "fixtures" / "review")
        shutil.copy(HERE.parent / "authorkit.toml", site / "authorkit.toml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "FORCE_COLOR"))}
        env.update(NO_COLOR="1", AUTHORKIT_CACHE_DIR=str(Path(tmp) / "cache"), COLUMNS="100")
        r = subprocess.run([sys.executable, "-m", "authorkit", *args], cwd=site, env=env, capture_output=True, text=True, timeout=300)
    return "```\n$ authorkit " + " ".join(args) + "\n" + r.stdout.rstrip("\n") + "\n```"


def example_summary() -> str:
    """The summary of the recorded session in tests/fixtures/sessions, rendered without git."""
    import shutil
    import tempfile

    from authorkit.config import load_workspace
    from authorkit.session import Session
    from authorkit.summary import summarize

    sid = "2026-01-06_140000-5a3c"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "authorkit.toml").write_text("", encoding="utf-8")
        (root / "sessions").mkdir()
        shutil.copy(HERE.parent / "tests" / "fixtures" / "sessions" / f"{sid}.jsonl", root / "sessions")
        ws = load_workspace(root)
        text = summarize(ws, Session.find(ws, sid), use_git=False, write=False, snapshot=False).text
    return "````markdown\n" + text.rstrip("\n") + "\n````"


BLOCKS = {
    HERE / "configuration.md": [("config-keys", config_block)],
    HERE / "reviews-and-summaries.md": [
        ("example-review", lambda: example("review", "tests/fixtures/review/pool.before.md", "tests/fixtures/review/pool.after.md")),
        ("example-summary", example_summary),
    ],
    HERE / "checking.md": [
        ("rule-ids", rules_block),
        ("example-check", lambda: example("check", "--style", "tutorial", "content/practice-pocs/redis-token-bucket-rate-limiter.md")
         + "\n\n" + example("check", "--explain", "content/practice-pocs/redis-token-bucket-rate-limiter.md")),
    ],
}


def render_text(page: Path, text: str, name: str, block: str) -> str:
    start, end = f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"
    if start not in text or end not in text:
        raise SystemExit(f"{page}: the markers {start} … {end} are missing")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block}\n{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a page is out of date; write nothing")
    args = ap.parse_args(argv)
    stale = []
    for page, blocks in BLOCKS.items():
        new = page.read_text(encoding="utf-8")
        for name, make in blocks:
            new = render_text(page, new, name, make())
        if new != page.read_text(encoding="utf-8"):
            stale.append(page.name)
            if not args.check:
                page.write_text(new, encoding="utf-8")
    if stale and args.check:
        print("out of date: " + ", ".join(stale) + " (run python docs/gen_reference.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
