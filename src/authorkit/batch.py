"""Conversions through the Message Batches API: half price, asynchronous.

`submit` sends one whole-document request per file and stores the batch id, with each file's
path and hash, in the session record. `status` reports progress; `collect` validates each
result like an interactive conversion (check against the target style, every code block
kept) and writes the ones that pass atomically. Errored or expired requests are reported, and
resubmitted as a new batch with `retry`. A file changed since submission is never overwritten.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authorkit import prompts
from authorkit.errors import UsageError

if TYPE_CHECKING:
    from authorkit.config import Workspace
    from authorkit.providers.base import Provider
    from authorkit.styleguide import StyleGuide


def _batching(provider: "Provider") -> Any:
    if not getattr(provider, "supports_batch", False):
        raise UsageError(f"the {provider.name} provider has no batch API", hint="use --provider anthropic for --batch")
    return provider


def _sha(text: str) -> str:
    from authorkit.textio import sha256_text  # the one hash of every record

    return sha256_text(text)


def _unchanged(text: str, digest: str) -> bool:
    # Batches submitted by earlier versions stored SHA-1 (40 hex digits).
    if len(digest) == 40:
        return hashlib.sha1(text.encode("utf-8")).hexdigest() == digest
    return _sha(text) == digest


def whole_request(ws: "Workspace", guide: "StyleGuide", source: str, document: str, reference: str | None) -> Any:
    from authorkit.convert import split_source
    from authorkit.generate import Generator, Job

    gen = Generator(ws, None, guide, reference=reference, record=False)  # renders the prompt only
    task = prompts.render(ws, "convert.j2", whole=True, source_sections=[s.label for s in split_source(source)], guide=guide, rules=guide.section_rules, source_style=None)
    job = Job(document, guide, "convert", f"<source_document path=\"{document}\">\n{source.rstrip()}\n</source_document>", task)
    return gen.request(job, task, "document")


def submit(ws: "Workspace", provider: "Provider", guide: "StyleGuide", sources: list[tuple[Path, str]], *, reference: str | None = None) -> dict[str, Any]:
    from authorkit.session import record

    if reference is None and ws.config.draft.reference:
        from authorkit.textio import read_document

        reference = read_document(ws.path(ws.config.draft.reference)).text
    backend = _batching(provider)
    requests, docs = [], []
    for i, (path, text) in enumerate(sources):
        rel = ws.rel(path)
        cid = f"doc{i}-" + re.sub(r"[^A-Za-z0-9_-]", "-", Path(rel).stem)[:40]
        req = whole_request(ws, guide, text, rel, reference)
        requests.append((cid, req))
        docs.append({"custom_id": cid, "path": rel, "sha_before": _sha(text)})
    info = {"batch_id": backend.batch_submit(requests), "style": guide.name, "model": provider.model, "documents": docs}
    record(ws, "batch_submit", **info)
    return info


def _events(ws: "Workspace") -> list[dict[str, Any]]:
    from authorkit.session import read_events

    out: list[dict[str, Any]] = []
    if ws.sessions_dir.is_dir():
        for p in sorted(ws.sessions_dir.glob("*.jsonl")):
            out += list(read_events(p))
    return out


def find_batch(ws: "Workspace", batch_id: str | None) -> dict[str, Any]:
    events = _events(ws)
    subs = [e for e in events if e.get("event") == "batch_submit"]
    if batch_id:
        subs = [e for e in subs if e.get("batch_id") == batch_id]
    if not subs:
        raise UsageError(
            f"no batch {batch_id} in the session records" if batch_id else "no batch has been submitted in this workspace",
            hint="submit one with `authorkit convert FILES --to STYLE --batch`",
        )
    info = dict(subs[-1])
    info["collected"] = {e["custom_id"] for e in events if e.get("event") == "batch_result" and e.get("batch_id") == info["batch_id"] and e.get("written")}
    return info


def status(provider: "Provider", batch_id: str) -> dict[str, Any]:
    return _batching(provider).batch_status(batch_id)


@dataclass
class CollectReport:
    lines: list[str] = field(default_factory=list)
    exit_code: int = 0
    retry_batch: str | None = None


def collect(ws: "Workspace", provider: "Provider", info: dict[str, Any], *, keep_failed: bool = False, retry: bool = False,
            dry_run: bool = False) -> CollectReport:
    """Validate a finished batch's results and write those that pass. With `dry_run`, report
    what would be written and record, write and resubmit nothing."""
    from authorkit.check import check_text
    from authorkit.styleguide import workspace_guide as guide_for
    from authorkit.convert import failed_path, lost_facts, extract_facts, missing_code, split_source
    from authorkit.costs import CallRecorder, format_usd
    from authorkit.findings import Severity
    from authorkit.providers.base import Attempt
    from authorkit.session import record as record_event
    from authorkit.textio import atomic_write_text, line_count, read_document

    def record(*args: Any, **kwargs: Any) -> None:
        if not dry_run:
            record_event(*args, **kwargs)

    rep = CollectReport()
    backend = _batching(provider)
    st = status(provider, info["batch_id"])
    if st["processing_status"] != "ended":
        rep.lines.append(f"batch {info['batch_id']} is still {st['processing_status']}; collect again later")
        rep.exit_code = 1
        return rep
    guide = guide_for(ws, info["style"])
    recorder = CallRecorder(ws, provider, batch=True, record=not dry_run)  # batch prices: half of each token class
    docs = {d["custom_id"]: d for d in info["documents"]}
    to_retry: list[dict[str, Any]] = []
    for custom_id, kind, reply, usage, served in backend.batch_results(info["batch_id"]):
        d = docs.get(custom_id)
        if d is None:
            continue
        rel = d["path"]
        if custom_id in info.get("collected", set()):
            rep.lines.append(f"= {rel}: already written by an earlier collect")
            continue
        if kind != "succeeded":
            rep.lines.append(f"✗ {rel}: request {kind}" + ("" if retry else " (rerun with --retry to resubmit)"))
            record(ws, "batch_result", batch_id=info["batch_id"], custom_id=custom_id, path=rel, result=kind, written=False)
            to_retry.append(d)
            rep.exit_code = max(rep.exit_code, 1)
            continue
        text = reply.strip() + "\n"
        recorder.on_attempt(Attempt("batch", rel, served, usage, "ok"))
        usd = recorder.totals(rel)[1]
        path = ws.path(rel)
        current = read_document(path).text or ""
        if not _unchanged(current, d["sha_before"]):
            rep.lines.append(f"✗ {rel}: changed since the batch was submitted; not overwritten")
            rep.exit_code = max(rep.exit_code, 1)
            continue
        findings = [f for f in check_text(text, guide, rel) if f.severity >= Severity.ERROR]
        blocks = [b for s in split_source(current) for b in s.code_blocks]
        dropped = missing_code(blocks, text)
        if findings:
            rep.exit_code = max(rep.exit_code, 1)
            where = ""
            if keep_failed and not dry_run:
                atomic_write_text(failed_path(path), text, root=ws.root)
                where = f"; kept as {ws.rel(failed_path(path))}"
            rep.lines.append(f"✗ {rel}: {len(findings)} error(s) in the result; not written{where}")
            rep.lines += [f"  {f.path}:{f.line}: {f.rule}: {f.message}" for f in findings[:10]]
            record(ws, "batch_result", batch_id=info["batch_id"], custom_id=custom_id, path=rel, result="invalid", written=False)
            continue
        if dry_run:
            rep.lines.append(f"✓ {rel}: passes; would write {line_count(current)} → {line_count(text)} lines, {format_usd(usd)} (batch price)")
            continue
        atomic_write_text(path, text, root=ws.root)
        record(ws, "write", path=rel, action="converted", title=None, lines_before=line_count(current), lines_after=line_count(text),
               sha_before=d["sha_before"] if len(d["sha_before"]) != 40 else _sha(current), sha_after=_sha(text), style=guide.name, errors=0, batch=info["batch_id"])
        record(ws, "batch_result", batch_id=info["batch_id"], custom_id=custom_id, path=rel, result="succeeded", written=True)
        note = f", {len(dropped)} code block(s) dropped" if dropped else ""
        lost = lost_facts(extract_facts(current), text)
        note += f", not carried over: {', '.join(lost[:10])}" if lost else ""
        rep.lines.append(f"✓ {rel}: converted, {line_count(current)} → {line_count(text)} lines, {format_usd(usd)} (batch price){note}")
    if retry and to_retry and dry_run:
        rep.lines.append(f"would resubmit {len(to_retry)} request(s)")
    elif retry and to_retry:
        sources = [(ws.path(d["path"]), read_document(ws.path(d["path"])).text or "") for d in to_retry]
        new = submit(ws, provider, guide, sources)
        rep.retry_batch = new["batch_id"]
        rep.lines.append(f"resubmitted {len(sources)} request(s) as batch {new['batch_id']}")
    return rep
