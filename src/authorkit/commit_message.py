"""What a commit says: each file's change described, the subject, the check line, the
`Co-Authored-By:` trailers, and the message rendered from the `commit_message.j2` template.

Nothing here touches git; gitops.py gathers the changes and makes the commit.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from authorkit.config import Workspace
from authorkit.textio import read_document

SUBJECT_MAX = 71  # "under 72 characters"
COMMIT_TEMPLATE = "commit_message.j2"
_ACTION_VERB = {"drafted": "Draft", "converted": "Convert", "fixed": "Fix", "updated": "Update", "added": "Add"}


def render_template(ws: Workspace, name: str, context: dict[str, Any]) -> str:
    """Render `name` from the workspace's prompts/ (if it has one) or the built-in prompts."""
    from authorkit.prompts import render  # lazy: jinja2 costs ~35 ms (-X importtime); `fix` imports gitops without composing a message

    return render(ws, name, strip=False, **context)


@dataclass
class FileChange:
    path: str  # workspace-relative
    repo_path: str
    title: str
    action: str
    lines_before: int
    lines_after: int
    errors: int | None
    style: str
    added: int = 0
    removed: int = 0
    new: bool = False
    deleted: bool = False

    @property
    def label(self) -> str:
        """`#54: PostgreSQL Partitioning Strategies`, the way the user lists rewrites."""
        if self.action == "navigation":
            added = self.title.removeprefix("navigation: ").strip()
            return f"{Path(self.path).name}: added {added}" if added and added != self.title else Path(self.path).name
        t = self.title.strip() or Path(self.path).name
        m = re.match(r"^[A-Za-z][\w-]*\s+(#\s?\d.*)$", t)
        return m.group(1) if m else t

    @property
    def lines(self) -> str:
        if self.new:
            text = f"new, {self.lines_after} lines"
        elif self.deleted:
            return f"deleted, {self.lines_before} lines"
        else:
            text = f"{self.lines_before}→{self.lines_after} lines"
        if self.errors:
            text += f", {self.errors} check error{'s' if self.errors != 1 else ''}"
        return text


def _split_lines(data: bytes | None) -> list[str]:
    if not data:
        return []
    return data.decode("utf-8", "replace").splitlines()


def _line_stat(old: list[str], new: list[str]) -> tuple[int, int]:
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def pretty_model(model: str) -> str:
    """`claude-sonnet-4-5-20250929` -> `Claude Sonnet 4.5`."""
    parts = [p for p in model.split("-") if p and not re.fullmatch(r"\d{8}|latest", p)]
    words: list[str] = []
    for p in parts:
        if p.isdigit() and words and re.fullmatch(r"\d+(\.\d+)*", words[-1]):
            words[-1] += "." + p
        else:
            words.append(p if p.isdigit() else p[:1].upper() + p[1:])
    return " ".join(words) or model


def models_used(events: Iterable[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for ev in events:
        if ev.get("event") == "model_call":
            m = str(ev.get("model") or "")
            if m and m not in seen:
                seen.append(m)
    return seen


def co_authors(ws: Workspace, models: list[str]) -> list[str]:
    """Trailer values for the models that wrote something; `{model}` expands per model."""
    cfg = ws.config.commit
    if not cfg.trailers or not models:
        return []
    out: list[str] = []
    for entry in cfg.co_authors:
        values = [entry.replace("{model}", pretty_model(m)) for m in models] if "{model}" in entry else [entry]
        out.extend(v for v in values if v not in out)
    return out


def _numbers(titles: list[str]) -> tuple[str, list[int]] | None:
    """("POC", [54, 55, 56]) when every title is `<Kind> #N…` with one kind."""
    kinds, nums = set(), []
    for t in titles:
        m = re.match(r"^\s*([A-Za-z][\w-]*)\s+#\s?(\d+)", t)
        if not m:
            return None
        kinds.add(m.group(1))
        nums.append(int(m.group(2)))
    return (kinds.pop(), sorted(set(nums))) if len(kinds) == 1 else None


def _num_span(nums: list[int]) -> str:
    if len(nums) > 1 and nums == list(range(nums[0], nums[-1] + 1)):
        return f"#{nums[0]}–{nums[-1]}"
    return ", ".join(f"#{n}" for n in nums)


def default_subject(files: list[FileChange]) -> str:
    """`Convert POCs #54–56 to tutorial style`, `Draft POC #61: Cache-Aside Pattern`, …"""
    docs = [f for f in files if f.action != "navigation"]
    if not docs:
        return clamp_subject("Update navigation: " + ", ".join(f.repo_path for f in files))
    files = docs  # navigation updates ride along with the pages they list
    actions = sorted({f.action for f in files})
    n = len(files)
    styles = {f.style for f in files}
    style_tail = f" to {styles.pop()} style" if actions == ["converted"] and len(styles) == 1 and "" not in styles else ""
    if len(actions) == 1 and actions[0] in _ACTION_VERB:
        verb = _ACTION_VERB[actions[0]]
        candidates = []
        if n == 1:
            candidates.append(f"{verb} {files[0].title.strip() or files[0].repo_path}{style_tail}")
        nums = _numbers([f.title for f in files])
        if nums:
            kind, ns = nums
            candidates.append(f"{verb} {kind}{'s' if len(ns) > 1 else ''} {_num_span(ns)}{style_tail}")
        candidates.append(f"{verb} {n} document{'s' if n != 1 else ''}{style_tail}")
        candidates.append(f"{verb} {n} document{'s' if n != 1 else ''}")
    else:
        counts = ", ".join(f"{sum(1 for f in files if f.action == a)} {a}" for a in actions)
        candidates = [f"Update {n} document{'s' if n != 1 else ''} ({counts})", f"Update {n} documents"]
    for c in candidates:
        if len(c) <= SUBJECT_MAX:
            return c
    return clamp_subject(candidates[-1])


def clamp_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if len(subject) <= SUBJECT_MAX:
        return subject
    cut = subject[: SUBJECT_MAX - 1].rsplit(" ", 1)[0]
    return cut + "…"


def check_line(files: list[FileChange]) -> str:
    files = [f for f in files if f.action != "navigation"]
    checked = [f for f in files if f.errors is not None and not f.deleted]
    failing = [f for f in checked if (f.errors or 0) > 0]
    unchecked = [f for f in files if f.errors is None and not f.deleted]
    parts: list[str] = []
    if checked:
        if not failing:
            parts.append("the file passes (0 errors)" if len(checked) == 1 else f"all {len(checked)} files pass (0 errors)")
        else:
            errs = sum(f.errors or 0 for f in failing)
            parts.append(f"{len(checked) - len(failing)} of {len(checked)} files pass ({errs} error{'s' if errs != 1 else ''})")
    if unchecked:
        parts.append(f"{len(unchecked)} file{'s' if len(unchecked) != 1 else ''} not checked")
    return "; ".join(parts) or "nothing to check"


def _check_errors(ws: Workspace, abs_path: Path) -> tuple[int | None, str]:
    """Check errors of a file authorkit did not write (given explicitly), when possible: the
    same guide, overrides and code-check setting as `authorkit check`."""
    try:
        # lazy: the checker (rules, matching, mistune) costs ~250 ms to import (-X importtime) and only a
        # file authorkit did not write needs it; `fix` imports gitops for its uncommitted-file check
        from authorkit.check import guide_for  # noqa: PLC0415
        from authorkit.document import parse  # noqa: PLC0415
        from authorkit.rules import check_text  # noqa: PLC0415

        if abs_path.suffix.lower() not in (".md", ".mdx") or ws.is_excluded(abs_path):
            return None, ""
        rr = read_document(abs_path)
        if rr.text is None:
            return None, ""
        guide, _ = guide_for(ws, abs_path, parse(rr.text))
        if guide is None:
            return None, ""  # not recognisably any style: notes, READMEs, …
        findings = check_text(rr.text, guide, str(abs_path), code_checks=ws.config.check.code_checks)
        return sum(1 for f in findings if str(f.severity).lower() == "error"), guide.name
    except Exception:  # noqa: BLE001 - a missing or failing checker only means "not checked"
        return None, ""


def _title_of(abs_path: Path) -> str:
    try:
        for line in abs_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    except OSError:
        pass
    return ""


def _group(files: list[FileChange]) -> list[dict[str, Any]]:
    order: list[str] = []
    for f in files:
        if f.action not in order:
            order.append(f.action)
    out = []
    for a in order:
        members = [f for f in files if f.action == a]
        styles = {f.style for f in members}
        heading = a.capitalize()
        if a == "converted" and len(styles) == 1 and "" not in styles:
            heading += f" to {next(iter(styles))}"
        out.append({"action": a, "heading": heading, "files": members})
    return out


def _tidy_message(message: str) -> str:
    lines = [ln.rstrip() for ln in message.strip("\n").split("\n")]
    lines[0] = clamp_subject(lines[0])
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text + "\n"


def compose_message(ws: Workspace, files: list[FileChange], *, session_id: str, objective: str | None,
                    subject: str | None, check: bool, models: list[str]) -> str:
    """The commit message for `files`: `subject` (clamped) or the default one, the files grouped
    by action, the check line unless `check` is off, and the models' trailers."""
    ctx = {
        "subject": clamp_subject(subject) if subject else default_subject(files),
        "files": files,
        "groups": _group(files),
        "check": check_line(files) if check else "",
        "co_authors": co_authors(ws, models),
        "trailers": ws.config.commit.trailers,
        "session_id": session_id,
        "objective": objective,
        "models": [pretty_model(m) for m in models],
    }
    return _tidy_message(render_template(ws, COMMIT_TEMPLATE, ctx))
