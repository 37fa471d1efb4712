"""`authorkit style learn`: a style guide written from documents the author already accepts."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from authorkit.cli import app
from authorkit.cli.common import ConfigOption, workspace

style_app = typer.Typer(help="Work with style guides: learn one from exemplar documents.", no_args_is_help=True)
app.add_typer(style_app, name="style")


@style_app.command("learn")
def learn(
    files: List[str] = typer.Argument(..., help="Exemplar documents, or folders of them (index and landing pages in folders are skipped)."),
    name: str = typer.Option(..., "--name", help="Name of the style; written to style_guides/NAME.yaml."),
    explain: bool = typer.Option(False, "--explain", help="Print the evidence: how many exemplars had each section and element."),
    force: bool = typer.Option(False, "--force", help="Replace an existing style_guides/NAME.yaml."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the guide instead of writing it."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Learn a style guide from exemplar documents: sections in their usual order, which are
    required, line ranges, shared elements and the title pattern, commented with the evidence."""
    from authorkit.errors import WriteRefused
    from authorkit.learn import collect, guide_path, learn as learn_guide, write_guide

    ws = workspace(config)
    exemplars, skipped = collect(files, ws.root)
    if not exemplars:
        from authorkit.errors import InputError

        raise InputError("no exemplar documents here" + (f" ({len(skipped)} landing page(s) skipped)" if skipped else ""),
                         path=", ".join(files), hint="give the documents (or folders of them) whose shape the style should describe")
    path = guide_path(ws, name)
    if path.exists() and not force and not dry_run:
        # Refused before the work, so a long learn run never ends in a refusal.
        raise WriteRefused("a style guide of this name already exists", path=ws.rel(path),
                           hint="choose another --name, or add --force to replace it (your edits to it would be lost)")
    res = learn_guide(exemplars, name)
    res.skipped = skipped
    for s in skipped:
        print(f"skipped {s}")
    if explain:
        print(f"evidence from {len(exemplars)} exemplars:")
        for line in res.evidence:
            print(line)
    if dry_run:
        print(res.text, end="")
    else:
        written = write_guide(ws, res, force=force)
        print(f"wrote {ws.shown(written)}: {res.sections} sections ({res.required} required) from {len(exemplars)} exemplars")
    print(f"the {name} style passes {len(res.passes)}/{len(exemplars)} of its exemplars (structure, no code checks)")
    for ex, errs in sorted(res.failures.items()):
        print(f"  {ex}: {len(errs)} error(s), e.g. {errs[0]}")
    if not dry_run:
        print(f"use it: `authorkit check --style {name} FILES`, or map a folder to it in authorkit.toml [styles]")
