"""`fix` never writes a character the author did not have, never reads or writes what it must not,
and never overwrites uncommitted work."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authorkit.fix import COMMON, repair_text
from tests.clihelp import invoke, run

# Every emoji and symbol the seeds and samples use, and the ones the repair must know.
SYMBOLS = (
    "✅ ❌ ⚠️ ⭐ 🔥 ⏳ 🔄 💡 🚀 📝 📊 🔴 🟢 🟡 0️⃣ 1️⃣ 5️⃣ 9️⃣ #️⃣ → ← ↑ ↓ ├ └ │ ─ — – ‘ ’ “ ” • × ≤ ≥ "
    "🤖 🎯 😤 😌 😰 🤔 💥 🔒 💰 📁 📋 📅 📈 🔍 🚫 🏢 🏆 📚 ▼ ┌ ┐ ┘ ┬ ┤ 🔟 ₂ ✨ © ⭐⭐⭐"
).split()
UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}  # no character in cp1252
AFTER = [" ", "\n", ".", ",", ")", ":", "!", "?", ";", '"', "'", "  ", " (", "—"]
BEFORE = ["", "- ", "### ", "word ", "(", '"', "**Status**: "]


def mojibake(text: str, how: str) -> str:
    """`text` as UTF-8 read through a wrong code page. cp1252 readers differ on its five
    undefined bytes: kept as C1 controls, dropped, or shown as a space."""
    out = []
    for b in text.encode("utf-8"):
        if b < 0x80:
            out.append(chr(b))
        elif how == "mac":
            out.append(bytes([b]).decode("mac_roman"))
        elif b in UNDEFINED:
            out.append({"keep": chr(b), "drop": "", "space": " "}[how])
        else:
            out.append(bytes([b]).decode("cp1252"))
    return "".join(out)


def assert_restored_or_reported(original: str, damaged: str) -> None:
    r = repair_text(damaged)
    assert r.text.count("\n") == original.count("\n")
    reported = {n for n, _ in r.needs_human}
    for n, (want, bad, got) in enumerate(zip(original.split("\n"), damaged.split("\n"), r.text.split("\n")), 1):
        if got == want:
            continue
        # Not restored: then untouched, and said so.
        assert got == bad and n in reported, (want, bad, got, r.needs_human)
    # A second run changes nothing.
    assert repair_text(r.text).text == r.text


@settings(max_examples=int(os.environ.get("AUTHORKIT_FUZZ_EXAMPLES", "400")), deadline=None)
@given(
    sym=st.sampled_from(SYMBOLS),
    before=st.sampled_from(BEFORE),
    after=st.sampled_from(AFTER),
    how=st.sampled_from(["keep", "drop", "space", "mac"]),
    tail=st.sampled_from(["tail", "next words", "x"]),
)
def test_every_symbol_is_restored_exactly_or_left_and_reported(sym: str, before: str, after: str, how: str, tail: str) -> None:
    original = f"{before}{sym}{after}{tail}\n"
    assert_restored_or_reported(original, mojibake(original, how))


# Random documents mixing symbols, punctuation and accented letters. Letters that start a UTF-8
# sequence in a code page (â ï ð Â Ã…) are left out: followed by characters such as — or ©,
# correct text and mojibake are the same characters, which no repair can tell apart.
_ALPHABET = list("abc XYZ.,;:!?()'\"-*#|") + SYMBOLS + list("éüñçàß—–…“”’×") + ["\n"]


@settings(max_examples=int(os.environ.get("AUTHORKIT_FUZZ_EXAMPLES", "400")), deadline=None)
@given(parts=st.lists(st.sampled_from(_ALPHABET), min_size=1, max_size=40), how=st.sampled_from(["keep", "drop", "space", "mac"]))
def test_random_documents_are_restored_exactly_or_left_and_reported(parts: list[str], how: str) -> None:
    original = "\n".join(line.rstrip() for line in "".join(parts).split("\n")) + "\n"
    assert_restored_or_reported(original, mojibake(original, how))


@pytest.mark.parametrize("how", ["keep", "drop", "space", "mac"])
@pytest.mark.parametrize("after", AFTER)
def test_every_symbol_in_every_context(how: str, after: str) -> None:
    # The exhaustive form of the property (every symbol, each on its own line of one document).
    original = "".join(f"{b}{s}{after}tail\n" for s in SYMBOLS for b in ("", "- "))
    assert_restored_or_reported(original, mojibake(original, how))


@pytest.mark.parametrize("how", ["keep", "drop", "space", "mac"])
def test_the_common_status_symbols_are_restored_not_just_reported(how: str) -> None:
    original = "### ❌ WRONG Format\n- ✅ Done, ⏳ pending → next\n| 🔥 | 🚀 | 📊 |\n├── a\n└── b\n"
    assert repair_text(mojibake(original, how)).text == original


def test_the_lost_byte_of_x_mark_is_restored_and_the_space_kept() -> None:
    # ❌ is E2 9D 8C; 0x9D has no cp1252 character, so it was dropped: "âŒ ".
    r = repair_text("### âŒ WRONG Format\n### âŒ Avoid (Wrong Format)\n")
    assert r.text == "### ❌ WRONG Format\n### ❌ Avoid (Wrong Format)\n"
    assert "⌠" not in r.text and not r.needs_human


def test_a_trailing_lost_byte_follows_the_documents_own_evidence() -> None:
    # ” loses its last byte (E2 80 9D): "â€ " is ” plus a space, or ” and a stand-in space.
    dropped = mojibake("❌ no\nsay “hi” now\n", "drop")
    assert repair_text(dropped).text == "❌ no\nsay “hi” now\n"
    spaced = mojibake("❌ no\nsay “hi”now\n", "space")
    assert repair_text(spaced).text == "❌ no\nsay “hi”now\n"
    # Without evidence either way, the line is left and reported.
    alone = mojibake("say “hi” now\n", "drop")
    r = repair_text(alone)
    assert r.text == alone and [n for n, _ in r.needs_human] == [1]


def test_look_alike_damage_is_reported_not_guessed() -> None:
    # 📝 (…93 9D) and 📁 (…93 81) both lose their last byte and then look the same.
    for sym in "📝📁":
        damaged = mojibake(f"{sym} notes\n", "drop")
        r = repair_text(damaged)
        assert r.text == damaged and r.needs_human


def test_mixed_mojibake_is_fixed_in_one_run() -> None:
    mixed = "✅ done " + mojibake("✅ ⭐", "mac") + " " + mojibake("❌ →", "drop") + " " + mojibake(mojibake("✅", "keep"), "keep") + "\n"
    r = repair_text(mixed)
    assert r.text == "✅ done ✅ ⭐ ❌ → ✅\n"
    assert repair_text(r.text).text == r.text


def test_correct_text_is_never_changed() -> None:
    text = "# Café\n\nStraße— naïve “quoted” ‘single’ — – … ✅ ⭐ → ≤ ≥ × © Ôde à √2 ≈ 3 ¬a\n"
    assert repair_text(text).text == text
    assert not repair_text(text).needs_human


def test_deliberate_mojibake_in_code_is_left_alone() -> None:
    text = (
        "# Mojibake\n\nA ✅ read as cp1252 shows as `âœ…`; a lost byte turns ❌ into `âŒ`.\n\n"
        "```text\nâœ… Done\nâŒ Failed\n```\n"
    )
    r = repair_text(text)
    assert r.text == text and not r.changes


def test_a_wholly_misread_file_is_repaired_in_its_code_blocks_too() -> None:
    original = "# Plan\n\n✅ done\n\n```markdown\n- ✅ **Pooling**\n- ❌ Avoid\n```\n"
    assert repair_text(mojibake(original, "drop")).text == original


def test_the_one_table_entry_that_used_to_be_wrong() -> None:
    # ⭐ (E2 AD 90) and ⏭ (E2 8F AD) look the same after a lost byte; the old table wrote ⏭.
    assert repair_text("**Difficulty**: â\xad Beginner\n- âŒ no\n").text == "**Difficulty**: ⭐ Beginner\n- ❌ no\n"


def test_common_symbols_that_look_alike_after_damage_are_known() -> None:
    # Documents the pairs that are always reported rather than guessed.
    lost = [0x81, 0x8D, 0x8F, 0x90, 0x9D]
    clashes = set()
    for c in COMMON:
        b = c.encode()
        for j in range(1, len(b)):
            if b[j] in lost:
                rest = b[:j] + b[j + 1 :]
                cands = set()
                for k in range(1, len(rest) + 1):
                    for x in lost:
                        try:
                            d = (rest[:k] + bytes([x]) + rest[k:]).decode()
                        except UnicodeDecodeError:
                            continue
                        if d in COMMON:
                            cands.add(d)
                if len(cands) > 1:
                    clashes.add(frozenset(cands))
    assert clashes == {frozenset("📁📝"), frozenset("═╝"), frozenset("❗●")}


# --- the seeds ---------------------------------------------------------------------------------


def test_fix_on_copies_of_the_seeds_restores_every_check_and_cross(seeds: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    for p in sorted(seeds.glob("*.txt")):
        shutil.copy(p, ws / (p.stem + ".md"))
    r = run(["fix"], ws)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr
    first = {p.name: p.read_bytes() for p in ws.glob("*.md")}
    texts = {name: data.decode("utf-8") for name, data in first.items()}
    seed0 = next(t for n, t in texts.items() if n.startswith("000_"))
    assert "### ❌ WRONG Format (What I Was Using)" in seed0
    assert "### ❌ Avoid (Wrong Format)" in seed0
    for name, text in texts.items():
        assert "⌠" not in text, name
        for bad in ("âœ…", "âŒ", "‚úÖ", "‚ùå"):
            assert bad not in text, (name, bad)
        original = (seeds / (name[:-3] + ".txt")).read_text(encoding="utf-8")
        # As many ✅ and ❌ as the damaged copy had in either form.
        assert text.count("✅") == original.count("âœ…") + original.count("‚úÖ") + original.count("✅"), name
        assert text.count("❌") == original.count("âŒ") + original.count("‚ùå") + original.count("❌"), name
    again = run(["fix"], ws)
    assert {p.name: p.read_bytes() for p in ws.glob("*.md")} == first
    assert "0 changed" in again.stdout


# --- the command ---------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "T")
    (tmp_path / "authorkit.toml").write_text('[content]\nroots = ["pages"]\n')
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.md").write_text("# A\n\n- âœ… done\n", encoding="utf-8")
    (tmp_path / "pages" / "b.md").write_text("# B\n\n- âœ… done\n", encoding="utf-8")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "init")
    return tmp_path


def test_uncommitted_edits_are_refused_unless_allow_dirty(repo: Path) -> None:
    b = repo / "pages" / "b.md"
    b.write_text("# B\n\n- âœ… done\n\nmy unsaved thought\n", encoding="utf-8")
    r = run(["fix"], repo)
    assert r.returncode == 1
    assert "pages/b.md: refused: it has uncommitted edits" in r.stdout and "--allow-dirty" in r.stdout
    assert (repo / "pages" / "a.md").read_text(encoding="utf-8") == "# A\n\n- ✅ done\n"
    assert "âœ…" in b.read_text(encoding="utf-8")
    r = run(["fix", "--force"], repo)
    assert r.returncode == 2  # --force does not mean "overwrite my edits"
    r = run(["fix", "--allow-dirty"], repo)
    assert r.returncode == 0, r.stdout + r.stderr
    assert b.read_text(encoding="utf-8") == "# B\n\n- ✅ done\n\nmy unsaved thought\n"


def test_untracked_files_are_refused_too(repo: Path) -> None:
    new = repo / "pages" / "new.md"
    new.write_text("- âœ… x\n", encoding="utf-8")
    r = run(["fix", "pages/new.md"], repo)
    assert r.returncode == 1 and "not committed to git" in r.stdout
    assert new.read_text(encoding="utf-8") == "- âœ… x\n"


def test_dry_run_writes_nothing_and_says_what_would_change(repo: Path) -> None:
    before = {p: p.read_bytes() for p in (repo / "pages").iterdir()}
    r = run(["fix", "--dry-run"], repo)
    assert r.returncode == 0
    assert "pages/a.md: would fix: mojibake repaired on 1 line" in r.stdout
    assert {p: p.read_bytes() for p in (repo / "pages").iterdir()} == before


def test_not_utf8_is_refused_with_file_line_and_byte(tmp_path: Path) -> None:
    p = tmp_path / "doc.md"
    raw = "# Title\n\n⏳ ❌ 📝 fine\nbad \xff here\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    p.write_bytes(raw)
    r = run(["fix", "doc.md"], tmp_path)
    assert r.returncode == 2
    assert "doc.md:4: not valid UTF-8: byte 0xFF at byte offset" in r.stderr and "line 4, column 5" in r.stderr
    assert "Traceback" not in r.stderr
    assert p.read_bytes() == raw


def test_shift_jis_is_read_only_when_named(tmp_path: Path) -> None:
    p = tmp_path / "jp.md"
    p.write_bytes("# 日本語\n\nテスト\n".encode("shift_jis"))
    assert run(["fix", "jp.md"], tmp_path).returncode == 2
    r = run(["fix", "jp.md", "--encoding", "shift_jis"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert p.read_text(encoding="utf-8") == "# 日本語\n\nテスト\n"
    r = run(["fix", "jp.md", "--encoding", "nonsense-9"], tmp_path)
    assert r.returncode == 2 and "unknown encoding" in r.stderr


def test_symlink_inside_the_workspace_is_written_through_not_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("- âœ… x\n", encoding="utf-8")
    link = tmp_path / "link.md"
    link.symlink_to("real.md")
    r = run(["fix", "link.md"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert link.is_symlink() and os.readlink(link) == "real.md"
    assert real.read_text(encoding="utf-8") == "- ✅ x\n"


def test_symlink_out_of_the_workspace_is_neither_read_nor_written(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "creds.md"
    secret.write_text("token = âœ… \n", encoding="utf-8")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "authorkit.toml").write_text('[content]\nroots = ["."]\n')
    (ws / "doc.md").symlink_to(secret)
    r = run(["fix"], ws)
    assert r.returncode == 1
    assert "doc.md: skipped:" in r.stdout and "outside the workspace" in r.stdout
    assert (ws / "doc.md").is_symlink()
    assert secret.read_text(encoding="utf-8") == "token = âœ… \n"
    assert "token" not in r.stdout + r.stderr


def test_devices_and_fifos_are_never_read(tmp_path: Path) -> None:
    (tmp_path / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.md")
    r = run(["fix", "zero.md", "pipe.md"], tmp_path, timeout=30)
    assert r.returncode == 1
    assert "zero.md: skipped: is a symlink to /dev/zero, outside the workspace" in r.stdout
    assert "pipe.md: skipped: is a FIFO" in r.stdout


def test_oversize_files_are_skipped(tmp_path: Path) -> None:
    from authorkit.textio import MAX_DOCUMENT_BYTES

    big = tmp_path / "big.md"
    big.write_bytes(b"# big\n" + b"x" * MAX_DOCUMENT_BYTES)
    r = run(["fix", "big.md"], tmp_path)
    assert r.returncode == 1 and "big.md: skipped: over the" in r.stdout


def test_fixed_file_keeps_its_mode_and_new_files_follow_the_umask(tmp_path: Path, capsys) -> None:
    p = tmp_path / "doc.md"
    p.write_text("- âœ… x\n", encoding="utf-8")
    os.chmod(p, 0o640)
    code, out, _ = invoke(["fix", str(p)], capsys, cwd=tmp_path)
    assert code == 0, out
    assert (p.stat().st_mode & 0o777) == 0o640
    assert p.read_text(encoding="utf-8") == "- ✅ x\n"


def test_needs_a_human_exits_1_and_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "doc.md"
    p.write_text("# T\n\n" + mojibake("say “hi” now\n", "drop"), encoding="utf-8")
    before = p.read_bytes()
    r = run(["fix", "doc.md"], tmp_path)
    assert r.returncode == 1
    assert "doc.md:3: needs a human" in r.stdout
    assert p.read_bytes() == before


def test_stale_temporary_files_are_cleaned_and_never_documents(tmp_path: Path) -> None:
    p = tmp_path / "doc.md"
    p.write_text("- âœ… x\n", encoding="utf-8")
    # What a write killed by SIGKILL leaves: the pid in the name is no longer running.
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".doc.md.ak{dead.pid}-0123abcd.tmp"
    stale.write_text("half", encoding="utf-8")
    r = run(["check", ".", "--style", "article", "--format", "json"], tmp_path)
    assert ".tmp" not in r.stdout
    r = run(["fix", "doc.md"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not stale.exists()
    assert sorted(x.name for x in tmp_path.iterdir() if not x.name.startswith(".cache")) == ["doc.md"]


@pytest.mark.parametrize("how", ["keep", "drop", "mac"])
def test_joined_emoji_keep_their_joiner(how: str) -> None:
    # The zero-width joiner (E2 80 8D) loses its last byte like ” (E2 80 9D) does: between two
    # emoji either could have been there, so that line is reported; elsewhere ” is restored.
    original = "👨‍💻 dev\nand “quoted”.\n"
    damaged = mojibake(original, how)
    r = repair_text(damaged)
    assert_restored_or_reported(original, damaged)
    assert r.text.split("\n")[1] == "and “quoted”."
    if how != "drop":
        assert r.text == original
    # 🏳 (…8F B3) loses a byte and then reads like 🐳 or 🍳: reported, not guessed.
    flag = "🏳️‍🌈 flag\n"
    assert_restored_or_reported(flag, mojibake(flag, how))


def test_ctrl_c_says_what_was_fixed_and_leaves_no_temporary(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import authorkit.fix_files as fixmod

    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text("- âœ… x\n", encoding="utf-8")
    real = fixmod.write_fix
    calls = []

    def write_then_interrupt(res, *, root):  # type: ignore[no-untyped-def]
        calls.append(res.path.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(res, root=root)

    monkeypatch.setattr(fixmod, "write_fix", write_then_interrupt)
    code, out, err = invoke(["fix", "."], capsys, cwd=tmp_path)
    assert code == 130
    assert "interrupted: 1 file fixed before Ctrl-C" in err
    texts = sorted((tmp_path / n).read_text(encoding="utf-8") for n in ("a.md", "b.md", "c.md"))
    assert texts == ["- âœ… x\n", "- âœ… x\n", "- ✅ x\n"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_mojibake_lines_agrees_with_what_fix_does() -> None:
    from authorkit.fix import mojibake_lines

    text = "# T ✅\n\n- âœ… done\n" + mojibake("say “hi” now\n", "drop") + "```\nâœ… quoted\n```\n"
    assert mojibake_lines(text) == ([3], [4])
