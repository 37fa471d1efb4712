"""`authorkit fix` on files: read each one safely, repair it in memory with `fix.repair_text`,
refuse what git could not give back, write atomically and record what was written. Kept apart
from `fix.py`, whose text repair lower stages (rules, plan parsing) use without git."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from authorkit.fix import repair_text

@dataclass
class FixResult:
    path: Path
    changes: list[str] = field(default_factory=list)
    written: bool = False
    problem: str | None = None  # why the file was not read or not written (reported, exit 1)
    error: str | None = None  # the file could not be decoded (bad input, exit 2)
    needs_human: list[tuple[int, str]] = field(default_factory=list)
    lines_before: int = 0
    lines_after: int = 0
    new_text: str | None = None
    target: Path | None = None  # the file written: `path`, or a symlink's target in the workspace
    original: bytes | None = None


def prepare_fix(path: Path, *, root: Path | None, encoding: str | None = None, shown: str | None = None) -> FixResult:
    """Read, decode and repair one file in memory; nothing is written."""
    from authorkit.errors import InputError
    from authorkit.textio import ReadRefused, decode_strict, line_count, read_bytes_safe

    res = FixResult(path)
    try:
        data = read_bytes_safe(path, root=root)
    except ReadRefused as exc:
        res.problem = exc.detail
        return res
    try:
        text = decode_strict(data, shown or str(path), encoding)
    except InputError as exc:
        res.error = str(exc)
        return res
    if not text.strip():
        return res
    fixed = repair_text(text)
    res.needs_human = fixed.needs_human
    res.changes = list(fixed.changes)
    new = fixed.text
    if encoding is not None and new.encode("utf-8") != data:
        from codecs import lookup

        name = lookup(encoding).name
        if name not in ("utf-8", "utf_8") and not text.isascii():
            res.changes.insert(0, f"re-encoded from {encoding} to UTF-8")
        elif data.startswith(b"\xef\xbb\xbf") and not res.changes:
            res.changes.append("byte-order mark removed")
    if res.changes:
        res.new_text = new
        res.original = data
        res.lines_before = line_count(text)
        res.lines_after = line_count(new)
    return res


def uncommitted(paths: list[Path]) -> dict[Path, str]:
    """For each path that git could not give back as it is now, why (see gitops.uncommitted,
    the one implementation every writer uses)."""
    from authorkit.gitops import uncommitted as git_uncommitted

    return git_uncommitted(paths)


def write_fix(res: FixResult, *, root: Path | None) -> None:
    """Write a prepared fix, unless the file changed since it was read (then `problem`)."""
    from authorkit.errors import WriteRefused
    from authorkit.textio import ReadRefused, atomic_write_text, read_bytes_safe

    assert res.new_text is not None
    try:
        now = read_bytes_safe(res.path, root=root)
    except ReadRefused as exc:
        res.problem = exc.detail
        return
    if now != res.original:
        res.problem = "it changed while authorkit was fixing it; not written (run fix again)"
        return
    try:
        res.target = atomic_write_text(res.path, res.new_text, root=root)
    except WriteRefused as exc:
        res.problem = exc.message
        return
    res.written = True


def run_fix(ws, paths: list[str] | None, *, dry_run: bool = False, allow_dirty: bool = False, encoding: str | None = None,
            out=None, err=None) -> int:
    """`authorkit fix`: repair files and say what happened to each. Returns the exit code:
    2 when a file could not be decoded, 1 when a file was refused or skipped or has a line
    that needs a human, 0 otherwise. Files are independent: one refusal never stops the rest,
    and a refused file is never half-written."""
    import sys

    from authorkit.discover import discover
    from authorkit.errors import ExitCode, UsageError
    from authorkit.textio import clean_stale_temp_files

    out = out or sys.stdout
    err = err or sys.stderr
    show = getattr(ws, "shown", ws.rel)
    found = discover(ws, paths)
    if not found.files:
        raise UsageError("nothing to fix: " + (", ".join(found.missing) or "no Markdown files found"), hint="give Markdown files, directories or quoted globs")
    root = ws.root
    results = [prepare_fix(p, root=root, encoding=encoding, shown=show(p)) for p in found.files]
    to_write = [r for r in results if r.new_text is not None and not r.problem and not r.error]
    dirty = {} if allow_dirty else uncommitted([r.path for r in to_write])
    for r in to_write:
        if r.path in dirty:
            r.problem = f"{dirty[r.path]}; not changed (commit or stash first, or pass --allow-dirty)"
    code = ExitCode.OK
    changed = refused = human = 0
    try:
        for r in results:
            name = show(r.path)
            if r.error:
                print(r.error, file=err)
                code = ExitCode.USAGE
                continue
            if r.problem and r.new_text is None:
                print(f"{name}: skipped: {r.problem}", file=out)
                refused += 1
                continue
            if r.new_text is not None:
                if r.problem:
                    verb = "would be refused" if dry_run else "refused"
                    print(f"{name}: {verb}: {r.problem} (would fix: {'; '.join(r.changes)})", file=out)
                    refused += 1
                elif dry_run:
                    print(f"{name}: would fix: {'; '.join(r.changes)}", file=out)
                    changed += 1
                else:
                    write_fix(r, root=root)
                    if r.problem:
                        print(f"{name}: refused: {r.problem}", file=out)
                        refused += 1
                    else:
                        changed += 1
                        print(f"{name}: fixed: {'; '.join(r.changes)}", file=out)
                        _record(ws, r)
            for line, what in r.needs_human:
                human += 1
                print(f"{name}:{line}: needs a human: “{what.strip() or what}” looks like a damaged character that cannot be "
                      "restored for certain; the line was left as it is", file=out)
            if not dry_run:
                for stale in clean_stale_temp_files(r.path.parent, r.path.name):
                    print(f"{show(stale)}: removed (left by an interrupted write)", file=out)
    except KeyboardInterrupt:
        from authorkit.errors import Interrupted

        raise Interrupted(f"interrupted: {changed} file{'s' * (changed != 1)} {'would be ' if dry_run else ''}fixed before Ctrl-C; "
                          "every file is either as it was or fully fixed (run fix again for the rest)") from None
    n = len(found.files)
    summary = f"{n} file{'s' * (n != 1)} examined, {changed} {'would be ' if dry_run else ''}changed"
    if refused:
        summary += f", {refused} refused or skipped"
    if human:
        summary += f", {human} line{'s' * (human != 1)} need{'s' * (human == 1)} a human"
    print(summary, file=out)
    if code == ExitCode.OK and (refused or human):
        code = ExitCode.FINDINGS
    return int(code)


def _record(ws, r: FixResult) -> None:
    if ws.config_path is None or r.new_text is None:
        return
    from authorkit.session import record
    from authorkit.textio import sha256_bytes, sha256_text

    # sha_before lets `commit` see whether the fix started from the committed version.
    record(ws, "write", path=ws.rel(r.target or r.path), action="fixed", title=None, lines_before=r.lines_before,
           lines_after=r.lines_after, sha_before=sha256_bytes(r.original) if r.original is not None else None,
           sha_after=sha256_text(r.new_text), changes=r.changes)
