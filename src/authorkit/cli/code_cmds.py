"""`authorkit extract FILE DIR`: write the files a POC builds, and say what is missing."""

from __future__ import annotations

import json
import tempfile
from enum import Enum
from pathlib import Path

import typer

from authorkit.cli import app


class Format(str, Enum):
    text = "text"
    json = "json"


@app.command()
def extract(
    file: Path = typer.Argument(..., help="The Markdown document (a POC) to extract."),
    dest: Path = typer.Argument(..., help="Folder to write the files into (created when missing)."),
    check: bool = typer.Option(False, "--check", help="Syntax-check the extracted files and cross-check them (mounts, requires, ports)."),
    force: bool = typer.Option(False, "--force", help="Overwrite files in DIR that have other content."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="List (and with --check, check) the files; write nothing into DIR."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
) -> None:
    """Write the files a POC builds into DIR; report missing, conflicting and unnamed files.

    Exit 0 when the folder is complete, 1 when problems are reported, 2 on bad input.
    """
    from authorkit.document import parse
    from authorkit.errors import ExitCode, InputError
    from authorkit.extract import check_tree, plan_extract, write_tree
    from authorkit.textio import read_document

    if not file.is_file():
        raise InputError("no such file", path=file, hint="give the path of a Markdown document")
    read = read_document(file)
    if read.text is None or read.problem in ("binary", "too-large", "empty"):
        raise InputError(f"cannot extract: {read.detail or read.problem}", path=file)
    doc = parse(read.text)
    res = plan_extract(doc)
    issues = list(res.issues)
    if dry_run:
        written: list[Path] = []
        if check:
            # Checked in a scratch folder that is removed afterwards: DIR is never touched.
            with tempfile.TemporaryDirectory(prefix="authorkit-extract-") as scratch:
                write_tree(res, Path(scratch), force=True)
                issues.extend(check_tree(res, Path(scratch)))
    else:
        written = write_tree(res, dest, force=force)
        if check:
            issues.extend(check_tree(res, dest))
        _record(file, dest, written, issues)

    issues.sort(key=lambda i: (i.line, i.file, i.file_line))
    if fmt is Format.json:
        print(json.dumps({
            "source": str(file), "dest": str(dest), "dry_run": dry_run,
            "files": [{"name": name, "lines": len(f.text.splitlines()), "from_lines": list(f.lines)} for name, f in sorted(res.files.items())],
            "written": [str(p) for p in written],
            "problems": [{"line": i.line, "kind": i.kind, "file": i.file or None, "file_line": i.file_line or None, "message": i.message} for i in issues],
        }, ensure_ascii=False, indent=2))
    else:
        verb = "would write" if dry_run else "wrote"
        for name, f in sorted(res.files.items()):
            src = ", ".join(str(n) for n in f.lines)
            typer.echo(f"  {verb} {dest / name}  ({len(f.text.splitlines())} lines, from line{'s' if len(f.lines) > 1 else ''} {src})")
        for issue in issues:
            where = f"{file}:{issue.line}" if issue.line else str(file)
            inner = f" [{issue.file}{':' + str(issue.file_line) if issue.file_line else ''}]" if issue.file else ""
            typer.echo(f"{where}: {issue.kind}{inner}: {issue.message}")
        if dry_run:
            typer.echo(f"{len(res.files)} file(s) would be written to {dest}; {len(issues)} problem(s); nothing written")
        else:
            typer.echo(f"{len(written)} file(s) written to {dest}; {len(issues)} problem(s)")
    if issues:
        raise typer.Exit(ExitCode.FINDINGS)


def _record(file: Path, dest: Path, written: list[Path], issues: list) -> None:
    """Add the run to the session record when it wrote into the workspace (a scratch folder
    elsewhere is not part of the site and stays out of the session summary)."""
    try:
        from authorkit.config import load_workspace
        from authorkit.session import record

        ws = load_workspace()
        root = Path(ws.root).resolve()
        target = dest.resolve()
        if target != root and root not in target.parents:
            return
        record(ws, "extract", source=ws.rel(file.resolve()), dest=ws.rel(target),
               files=[ws.rel(p) for p in written], problems=len(issues))
    except Exception:  # no authorkit.toml, or an unwritable session: extraction still succeeded
        return
