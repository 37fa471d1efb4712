"""Safe mechanical fixes: mojibake, trailing whitespace, line endings, a missing final newline.

Mojibake is repaired with ftfy. Some sequences cannot be recovered by any decoder because a
byte was dropped on the way (cp1252 has no character for 0x8F or 0x9D, so `⏳` arrives as
`â³`); those are restored from a short table of the status emoji this field uses.
Correct text is never changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from authorkit.textio import atomic_write_text, read_document

# Sequences whose middle byte was lost (cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined).
LOSSY = {
    "âŒ": "❌",  # E2 9D 8C
    "â³": "⏳",  # E2 8F B3
    "â°": "⏰",  # E2 8F B0
    "â±": "⏱",  # E2 8F B1
    "â­": "⏭",  # E2 8F AD
    "â“": "❓",  # E2 9D 93
    "â—": "❗",  # E2 9D 97
    "â¤": "❤",  # E2 9D A4
}
_LOSSY_RX = re.compile("|".join(re.escape(k) for k in sorted(LOSSY, key=len, reverse=True)))

# Tell-tale pairs: a UTF-8 lead byte read as cp1252 / Mac Roman followed by a continuation.
_SUSPECT = re.compile("[ÂÃâð][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]|‚[≠Ä-ü]|[üÙ][Ä-ü][Ä-ü]")


_LEADS = "ÂÃâð‚üÙ"


def suspect_positions(text: str) -> list[int]:
    """Offsets where mojibake may start (cheap pre-filter for whole documents)."""
    if text.isascii() or not any(c in text for c in _LEADS):
        return []
    out = [m.start() for m in _SUSPECT.finditer(text)]
    out.extend(m.start() for m in _LOSSY_RX.finditer(text))
    return out


def looks_mojibake(line: str) -> bool:
    if not _SUSPECT.search(line) and not _LOSSY_RX.search(line):
        return False
    return fix_mojibake(line) != line


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")


def _undo_macroman(m: re.Match[str]) -> str:
    run = m.group(0)
    try:
        return run.encode("mac_roman").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run


def fix_mojibake(text: str) -> str:
    # UTF-8 read as Mac Roman (`‚≠ê` for ⭐) is not among ftfy's guesses for short runs; a run
    # that round-trips exactly is unambiguous, and correct text never does (✅ has no Mac
    # Roman encoding, é alone is not valid UTF-8).
    if "‚" in text or "Ä" in text or "Ô" in text:
        text = _NON_ASCII_RUN.sub(_undo_macroman, text)
    import ftfy  # here, not at the top: every check imports this module, few documents need ftfy

    fixed = ftfy.fix_text(
        text,
        unescape_html=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        normalization=None,
        explain=False,
    )
    return _LOSSY_RX.sub(lambda m: LOSSY[m.group(0)], fixed)


def fix_text(text: str) -> tuple[str, list[str]]:
    """Return the fixed text and a list of what changed (empty when nothing did)."""
    changes: list[str] = []
    out = text
    if "\r" in out:
        out = out.replace("\r\n", "\n").replace("\r", "\n")
        changes.append("line endings -> LF")
    lines = out.split("\n")
    moj = 0
    trail = 0
    in_code = False
    new_lines = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            in_code = not in_code
        if _SUSPECT.search(line) or _LOSSY_RX.search(line):
            fixed = fix_mojibake(line)
            if fixed != line:
                moj += 1
                line = fixed
        # Two trailing spaces are a Markdown hard line break in prose; keep exactly those.
        rstripped = line.rstrip(" \t")
        if rstripped != line:
            keep_break = not in_code and line.endswith("  ") and not line.endswith("   ") and rstripped.strip()
            if not keep_break:
                trail += 1
                line = rstripped
        new_lines.append(line)
    out = "\n".join(new_lines)
    if moj:
        changes.append(f"mojibake repaired on {moj} line{'s' * (moj != 1)}")
    if trail:
        changes.append(f"trailing whitespace removed on {trail} line{'s' * (trail != 1)}")
    if out and not out.endswith("\n"):
        out += "\n"
        changes.append("final newline added")
    return out, changes


@dataclass
class FixResult:
    path: Path
    changes: list[str]
    written: bool
    problem: str | None = None
    lines_before: int = 0
    lines_after: int = 0


def fix_file(path: Path, *, dry_run: bool = False) -> FixResult:
    res = read_document(path)
    if res.text is None or res.problem in ("binary", "too-large", "unreadable"):
        return FixResult(path, [], False, res.detail or res.problem)
    text = res.text
    fixed, changes = fix_text(text)
    if res.problem == "encoding":
        changes.insert(0, f"re-encoded from {res.encoding} to UTF-8")
    if not changes:
        return FixResult(path, [], False)
    if not dry_run:
        atomic_write_text(path, fixed)
    return FixResult(path, changes, not dry_run, None, text.count("\n"), fixed.count("\n"))
