"""Safe mechanical fixes: mojibake, trailing whitespace, line endings, a missing final newline.

Mojibake is UTF-8 read through the wrong code page: cp1252 (or Latin-1) on Windows, Mac Roman
on a Mac. A run of such characters is mapped back to the bytes it came from and decoded as
UTF-8. The repair only writes what those bytes say:

* When every byte is there, the decoding is exact. It is used when the result is a character
  such text holds (symbols, emoji, punctuation, Latin-1 letters); anything else is left alone.
* cp1252 has no character for 0x81 0x8D 0x8F 0x90 0x9D, so tools drop such a byte or write a
  space in its place (`❌` arrives as `âŒ` or `â Œ`). Every way to put one of those five bytes
  back is tried. The repair is made only when exactly one result is a symbol in COMMON (or,
  when none is, exactly one result is a symbol at all); otherwise the line is left as it is
  and reported as needing a human (`📝` and `📁` lose different bytes and look the same).
* When the lost byte was the last of its character and a space follows, the space may be the
  author's or the stand-in for the byte. The document decides: if its other damaged symbols
  show bytes dropped (or replaced by spaces), that is how this one is read; if it shows
  neither or both, the line is reported, not guessed.

Code spans and fenced code blocks are never changed: documentation about mojibake quotes it on
purpose. Text that is correct is never changed: a character outside the code pages' ranges
never starts a repair, and a repair is only made where the bytes decode.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

# --- code pages -----------------------------------------------------------------------------


def _cp1252_map() -> dict[str, int]:
    m: dict[str, int] = {}
    for b in range(0x80, 0x100):
        try:
            m[bytes([b]).decode("cp1252")] = b
        except UnicodeDecodeError:
            pass
    # Readers that keep undefined bytes (and Latin-1 readers) show 0x80-0x9F as C1 controls.
    for b in range(0x80, 0xA0):
        m.setdefault(chr(b), b)
    return m


_CP = _cp1252_map()
_MAC = {bytes([b]).decode("mac_roman"): b for b in range(0x80, 0x100)}
_CODEPAGES = (("cp1252", _CP), ("mac_roman", _MAC))
_LOST = (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # undefined in cp1252
_PLACEHOLDERS = " \ufffd"  # what a tool may write instead of a byte it cannot show

# Lead bytes whose sequences this repair decodes: Latin-1 letters and symbols (C2 C3), the
# cp1252 letters Œ œ Š š Ÿ Ž ž ƒ ˆ ˜ (C5 C6 CB), punctuation, arrows, box drawing, dingbats
# (E2), the emoji variation selector (EF) and emoji (F0).
_LEADS = frozenset({0xC2, 0xC3, 0xC5, 0xC6, 0xCB, 0xE2, 0xEF, 0xF0})
LEAD_CHARS = frozenset(c for _, m in _CODEPAGES for c, b in m.items() if b in _LEADS)


def _seq_len(b: int) -> int:
    if 0xC2 <= b <= 0xDF:
        return 2
    if 0xE0 <= b <= 0xEF:
        return 3
    if 0xF0 <= b <= 0xF4:
        return 4
    return 0


def _is_cont(b: int | None) -> bool:
    return b is not None and 0x80 <= b <= 0xBF


# --- what a repair may produce ----------------------------------------------------------------

# Symbols authors of these documents use (the seeds and samples, and common status, arrow and
# box-drawing characters). When a lost byte leaves several possible symbols, one of these wins
# over the rest; two of these that look the same after damage are never guessed between.
COMMON = frozenset(
    "✅❌⚠⭐🔥⏳🔄💡🚀📝📊🔴🟢🟡🟠🔵⚪⚫🤖🎯😤😌😰🤔💥🔒🔓💰📁📂📋📅📈📉🔍🚫🏢🏆📚🔟✨✔✓✗✘❓❗❤"
    "⏰⌛⏱⏩⏪⏸▶◀▲▼►◄■□●○◆◇★☆☑☐⚡⚙🛠🧪🧠📌📎📖📘📦🔧🔨🔗🔑🔔🏁🎉👉👈👆👇👍👎👀💬💻🖥📱🌐🐛🐍🐳"
    "⬆⬇⬅➡↔↕⇒⇐⇔→←↑↓↗↘├└│─┌┐┘┬┴┼┤═║╔╗╚╝—–‘’“”•…×÷±°≤≥≠≈∞√₂™©®\ufe0f\u20e3"
)
_ZWJ = "\u200d"


def _pictographic(ch: str) -> bool:
    if len(ch) != 1:
        return False
    o = ord(ch)
    return 0x1F000 <= o <= 0x1FAFF or 0x2600 <= o <= 0x27BF or 0x2300 <= o <= 0x23FF or 0x2B00 <= o <= 0x2BFF or ch in "\ufe0f\u20e3"


_EMOJI_RX = None


def _emoji_presentation(ch: str) -> bool:
    global _EMOJI_RX
    if _EMOJI_RX is None:
        import regex

        _EMOJI_RX = regex.compile(r"\p{Emoji_Presentation}")
    return _EMOJI_RX.match(ch) is not None


def _symbolic(ch: str) -> bool:
    """A character a lost byte may be restored to: punctuation, symbols and emoji (assigned)."""
    o = ord(ch)
    if not (0x2000 <= o <= 0x2BFF or 0x1F000 <= o <= 0x1FAFF or ch == "\ufe0f"):
        return False
    return unicodedata.category(ch) not in ("Cn", "Co", "Cs", "Cc")


def _exact_ok(ch: str, nbytes: int) -> bool:
    """An exact decoding is used only when it gives a character such text holds: never a
    letter of another script (legitimate "ß—" must not become an N'Ko letter)."""
    o = ord(ch)
    if nbytes == 2:
        return 0xA0 <= o <= 0xFF or ch in "ŒœŠšŸŽžƒˆ˜"
    if nbytes == 3:
        return (0x2000 <= o <= 0x2BFF and unicodedata.category(ch) not in ("Cn", "Co")) or ch == "\ufe0f"
    return 0x1F000 <= o <= 0x1FAFF and unicodedata.category(ch) != "Cn"


# --- one position -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cand:
    char: str
    end: int  # index just past what the repair replaces
    kind: str  # "exact", "dropped", "placeholder"
    interior: bool  # the lost byte was not the character's last
    page: str = "cp1252"  # the code page the bytes were read through


def _candidates(s: str, i: int, prev: str) -> list[_Cand]:
    out: list[_Cand] = []
    for name, cmap in _CODEPAGES:
        lead = cmap.get(s[i])
        if lead is None or lead not in _LEADS:
            continue
        n = _seq_len(lead)
        # Exact: every byte present.
        bs = [lead]
        j = i + 1
        while len(bs) < n and j < len(s) and _is_cont(cmap.get(s[j])):
            bs.append(cmap[s[j]])
            j += 1
        if len(bs) == n:
            try:
                ch = bytes(bs).decode("utf-8")
            except UnicodeDecodeError:
                ch = ""
            if len(ch) == 1 and _exact_ok(ch, n):
                out.append(_Cand(ch, j, "exact", False, name))
            continue  # all bytes are there: no byte was lost
        if name != "cp1252":
            continue  # Mac Roman defines every byte: nothing is lost on that path
        for p in range(1, n):  # where the lost byte sat
            for kind in ("dropped", "placeholder"):
                got: list[int | None] = [lead]
                j = i + 1
                ok = True
                for k in range(1, n):
                    if k == p:
                        if kind == "placeholder":
                            if j < len(s) and s[j] in _PLACEHOLDERS:
                                j += 1
                            else:
                                ok = False
                                break
                        got.append(None)
                        continue
                    b = cmap.get(s[j]) if j < len(s) else None
                    if not _is_cont(b):
                        ok = False
                        break
                    got.append(b)
                    j += 1
                if not ok:
                    continue
                for x in _LOST:
                    try:
                        ch = bytes(x if b is None else b for b in got).decode("utf-8")
                    except UnicodeDecodeError:
                        continue
                    if ch == _ZWJ:
                        # Only ever between two emoji (👨‍💻): after one, before another's lead.
                        if _pictographic(prev) and j < len(s) and s[j] in "ð\uf8ff":
                            out.append(_Cand(ch, j, kind, p < n - 1))
                        continue
                    if _symbolic(ch):
                        out.append(_Cand(ch, j, kind, p < n - 1))
    return out


# A damaged symbol that no candidate explains: a lone "â" or "ð" between non-letters (both
# continuation bytes lost), or a symbol's lead with part of its bytes.
_NEAR_MISS = re.compile("â[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]|ðŸ|ï¸|‚[Ä-ü≠∞±≤≥¥µ∂∑∏π∫ªºΩæø†°¢£§•¶ß®©™´¨ÆØ]{2}|\uf8ffü|Ô∏")


def _near_miss(s: str, i: int) -> bool:
    c = s[i]
    if _NEAR_MISS.match(s, i):
        return True
    if c in "âð":
        before = s[i - 1] if i else " "
        after = s[i + 1] if i + 1 < len(s) else " "
        return not before.isalpha() and not after.isalpha()
    return False


@dataclass
class LineRepair:
    text: str
    changed: bool = False
    human: list[str] = field(default_factory=list)  # what could not be repaired, quoted
    evidence: set[str] = field(default_factory=set)  # "dropped" / "placeholder" seen unambiguously
    made: list[str | None] = field(default_factory=list)  # per output character: the code page a repair decoded it from


def _choose(cands: list[_Cand]) -> str | None:
    chars = {c.char for c in cands}
    if _ZWJ in chars:
        return None  # between two emoji: a joiner (👨‍💻) or a closing quote, no way to tell
    common = chars & COMMON
    if len(common) == 1:
        # A common symbol wins over rare ones (❌ over ⌐), never over another emoji that
        # people type (🐳 is common, but 🍳 and 🏳 read the same after damage).
        pick = next(iter(common))
        if not any(_emoji_presentation(c) for c in chars - common):
            return pick
        return None
    if not common and len(chars) == 1:
        return next(iter(chars))
    return None


def repair_segment(s: str, mode: str | None, fresh: list[str | None] | None = None) -> LineRepair:
    """Repair one stretch of prose (no code in it). `mode` is the document's way of losing
    bytes ("dropped", "placeholder" or None when unknown or mixed). On a second pass `fresh`
    marks the characters the first pass produced and through which code page: only those
    may be decoded again, through the same code page (text mis-read twice), never a mix with
    characters that were there before."""
    out: list[str] = []
    made: list[str | None] = []
    res = LineRepair(s)
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c not in LEAD_CHARS or (fresh is not None and not fresh[i]):
            # Copy everything up to the next possible start in one step.
            m = _LEAD_RX.search(s, i + 1)
            j = m.start() if m else n
            out.append(s[i:j])
            made.extend([None] * (j - i))
            i = j
            continue
        cands = _candidates(s, i, out[-1][-1] if out else "")
        if fresh is not None:
            cands = [x for x in cands if all(f == x.page for f in fresh[i : x.end])]
        exact = {x.char: x for x in cands if x.kind == "exact"}
        if len(exact) == 1:
            x = next(iter(exact.values()))
            out.append(x.char)
            made.append(x.page)
            res.changed = True
            i = x.end
            continue
        if len(exact) > 1:  # cp1252 and Mac Roman readings disagree
            res.human.append(s[i : max(x.end for x in exact.values())])
            out.append(c)
            made.append(None)
            i += 1
            continue
        if not cands:
            if _near_miss(s, i):
                res.human.append(s[i : i + 4].split(" ")[0] or c)
            out.append(c)
            made.append(None)
            i += 1
            continue
        ch = _choose(cands)
        if ch is None:
            res.human.append(s[i : max(x.end for x in cands)])
            out.append(c)
            made.append(None)
            i += 1
            continue
        mine = [x for x in cands if x.char == ch]
        ends = {x.end for x in mine}
        kinds = {x.kind for x in mine}
        if len(ends) == 1:
            pick = mine[0]
            if len(kinds) == 1 and (pick.kind == "dropped" or pick.interior):
                res.evidence.add(pick.kind)
        else:
            # The lost byte was the last one and a space follows: the author's, or the stand-in?
            by_kind = [x for x in mine if x.kind == mode] if mode else []
            if len({x.end for x in by_kind}) != 1:
                res.human.append(s[i : max(ends)])
                out.append(c)
                made.append(None)
                i += 1
                continue
            pick = by_kind[0]
        out.append(pick.char)
        made.append(pick.page)
        res.changed = True
        i = pick.end
    res.text = "".join(out)
    res.made = made
    return res


# --- lines, code spans, documents ----------------------------------------------------------------

_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def _prose_and_code(line: str) -> list[tuple[bool, str]]:
    """Split a line into (is_code, text) pieces by its inline code spans."""
    if "`" not in line:
        return [(False, line)]
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in _CODE_SPAN.finditer(line):
        parts.append((False, line[pos : m.start()]))
        parts.append((True, m.group(0)))
        pos = m.end()
    parts.append((False, line[pos:]))
    return parts


_LEAD_RX = re.compile("[" + "".join(sorted(re.escape(c) for c in LEAD_CHARS)) + "]")


def _may_have_mojibake(line: str) -> bool:
    return not line.isascii() and _LEAD_RX.search(line) is not None


_MAX_PASSES = 3  # text mis-decoded twice (`Ã¢Å“â€¦`) needs a pass per round trip


def repair_line(line: str, mode: str | None = None, *, spans: bool = True) -> LineRepair:
    """Repair one line; inline code spans are left alone unless `spans` is False."""
    return _repair_line(line, mode, spans)


@lru_cache(maxsize=8192)
def _repair_line(line: str, mode: str | None, spans: bool) -> LineRepair:
    # Cached: a document's lines are looked at up to three times (evidence, whether the file
    # was mis-read as a whole, the repair), and results are never modified by callers.
    res = LineRepair(line)
    if not _may_have_mojibake(line):
        return res
    pieces = []
    for is_code, piece in (_prose_and_code(line) if spans else [(False, line)]):
        if is_code or not _may_have_mojibake(piece):
            pieces.append(piece)
            continue
        r = repair_segment(piece, mode)
        res.evidence |= r.evidence
        res.human.extend(r.human)
        passes = 1
        while r.changed:
            res.changed = True
            piece = r.text
            if passes == _MAX_PASSES:
                break
            r = repair_segment(piece, mode, r.made)
            passes += 1
        pieces.append(piece)
    res.text = "".join(pieces)
    return res


def document_mode(lines: Iterable[str]) -> str | None:
    """How this document lost its undefined bytes, when its unambiguous repairs agree."""
    seen: set[str] = set()
    for line in lines:
        if _may_have_mojibake(line):
            seen |= repair_line(line, spans=False).evidence
    return next(iter(seen)) if len(seen) == 1 else None


_REPERTOIRE = frozenset(_CP) | frozenset(_MAC) | frozenset("\ufffd")


def whole_file_damaged(text: str, prose_changed: bool) -> bool:
    """True when the whole file went through the wrong code page, code included: its prose
    has mojibake and every non-ASCII character in it is one a code page produces. A file that
    also holds a correct ✅ or “ was not mis-read as a whole, so mojibake in its code is
    quoted on purpose and stays."""
    if not prose_changed:
        return False
    return all(c in _REPERTOIRE for c in set(text) if c >= "\x80")


def fix_mojibake(text: str) -> str:
    """Repair the mojibake in `text` (no code awareness: for titles and plan lines)."""
    if not _may_have_mojibake(text):
        return text
    lines = text.split("\n")
    mode = document_mode(lines)
    return "\n".join(repair_line(ln, mode).text for ln in lines)


def looks_mojibake(line: str) -> bool:
    """True when the line holds mojibake: repairable, or damaged beyond repair."""
    if not _may_have_mojibake(line):
        return False
    r = repair_line(line)
    return r.changed or bool(r.human)


def suspect_positions(text: str) -> list[int]:
    """Offsets where mojibake may start (cheap pre-filter for whole documents)."""
    if text.isascii():
        return []
    return [m.start() for m in _LEAD_RX.finditer(text)]


# --- the whole text -----------------------------------------------------------------------------


@dataclass
class TextFix:
    text: str
    changes: list[str]
    needs_human: list[tuple[int, str]]  # (line, the damaged characters)
    repaired: list[int] = field(default_factory=list)  # lines whose mojibake was repaired


def _code_mask(text: str) -> list[bool]:
    from authorkit.document import parse

    return parse(text).code_line_mask()


def repair_text(text: str) -> TextFix:
    changes: list[str] = []
    out = text
    if "\r" in out:
        out = out.replace("\r\n", "\n").replace("\r", "\n")
        changes.append("line endings -> LF")
    lines = out.split("\n")
    code = _code_mask(out) if any(_may_have_mojibake(ln) or ln.endswith((" ", "\t")) for ln in lines) else []
    in_code = [i < len(code) and code[i] for i in range(len(lines))]
    prose_changed = any(not c and (r := repair_line(ln)).changed for ln, c in zip(lines, in_code) if _may_have_mojibake(ln))
    whole = whole_file_damaged(out, prose_changed)
    mode = document_mode(ln for ln, c in zip(lines, in_code) if whole or not c)
    repaired: list[int] = []
    moj = 0
    trail = 0
    human: list[tuple[int, str]] = []
    new_lines = []
    for n, line in enumerate(lines, 1):
        if in_code[n - 1] and not whole and _may_have_mojibake(line):
            # Quoted on purpose, so never changed; a character damaged beyond repair is still
            # worth a look, as `check` reports it too.
            human.extend((n, h) for h in repair_line(line, mode, spans=False).human)
        elif _may_have_mojibake(line):
            r = repair_line(line, mode, spans=not whole)
            if r.human:
                # Part of the line cannot be restored for certain: the whole line stays as the
                # author has it (a trailing space may be the stand-in for a lost byte).
                human.extend((n, h) for h in r.human)
                new_lines.append(line)
                continue
            if r.changed:
                moj += 1
                repaired.append(n)
                line = r.text
        # Two trailing spaces are a Markdown hard line break in prose; keep exactly those.
        rstripped = line.rstrip(" \t")
        if rstripped != line:
            keep_break = not in_code[n - 1] and line.endswith("  ") and not line.endswith("   ") and rstripped.strip()
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
    return TextFix(out, changes, human, repaired)


def mojibake_lines(text: str) -> tuple[list[int], list[int]]:
    """The lines `fix` would repair and the lines it would report as needing a human, by the
    same rules (code left alone unless the whole file was mis-read): for `check` to agree."""
    r = repair_text(text)
    return r.repaired, sorted({n for n, _ in r.needs_human})


def fix_text(text: str) -> tuple[str, list[str]]:
    """Return the fixed text and a list of what changed (empty when nothing did)."""
    r = repair_text(text)
    return r.text, r.changes
