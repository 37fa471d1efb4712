"""`check` reports as mojibake exactly what `fix` would repair, and what `fix` would leave for a
human as a warning: never a finding that tells the user to run a fix that changes nothing."""

from __future__ import annotations

from authorkit.fix import fix_text, mojibake_lines
from authorkit.rules import check_text

DAMAGED = "✅".encode().decode("cp1252")  # how ✅ reads after a cp1252 round trip


def _mojibake(text: str) -> list[tuple[int, str]]:
    return [(f.line, str(f.severity)) for f in check_text(text, None, "x.md", code_checks=False) if f.rule == "mojibake"]


def test_deliberate_mojibake_in_code_is_not_reported() -> None:
    text = ("# Encodings\n\nA correct ✅ in prose.\n\n```text\n"
            f"what a broken export shows: {DAMAGED}\n```\n")
    assert mojibake_lines(text) == ([], [])
    assert fix_text(text)[0] == text
    assert _mojibake(text) == []


def test_damaged_prose_is_reported_where_fix_repairs_it() -> None:
    text = f"# Status\n\nIntro.\n\n- {DAMAGED} done\n- {DAMAGED} also done\n"
    repaired, human = mojibake_lines(text)
    assert repaired == [5, 6] and human == []
    assert _mojibake(text) == [(5, "error")]  # one finding, on the first line, naming the others
    assert "✅ done" in fix_text(text)[0]
