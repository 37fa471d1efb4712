"""Navigation files: parse, insert one entry surgically, refuse what is not safe."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from authorkit.errors import NavigationError
from authorkit.nav import insert_entry, keycap, label_number, parse_nav, plan_insert, read_nav, short_label, slugify, unique_slug


def _changes(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines) between two texts."""
    removed, added = [], []
    for line in difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


# --- the real index from the site -----------------------------------------------------------


@pytest.fixture
def sample_meta(samples: Path) -> str:
    p = samples / "practice-pocs._meta.js"
    if not p.is_file():
        pytest.skip("practice-pocs._meta.js not in ../shared/samples")
    return p.read_bytes().decode("utf-8")


def test_sample_meta_parses_with_keycap_numbers(sample_meta: str):
    nav = parse_nav(sample_meta, "practice-pocs/_meta.js")
    assert nav.label_style == "keycap"
    numbers = [e.number for e in nav.entries if e.number is not None]
    assert numbers == list(range(1, 61))
    assert nav.find_number(10).key == "redis-hyperloglog"  # 🔟
    assert nav.find_number(54).key == "postgresql-partitioning-strategies"


def test_sample_meta_insert_61_changes_only_the_new_lines(sample_meta: str):
    nav = parse_nav(sample_meta, "practice-pocs/_meta.js")
    ins = plan_insert(nav, "cache-aside-pattern", "Cache-aside pattern (read-through)", 61, ("Caching", 61, 65))
    assert ins.changed
    assert ins.entry == '"cache-aside-pattern": "6️⃣1️⃣ Cache-Aside Pattern"'
    removed, added = _changes(sample_meta, ins.text)
    last = '  "api-gateway-rate-limiting": "6️⃣0️⃣ API Gateway & Rate Limiting"\n'
    # the previous last entry gains the comma an object needs; nothing else is touched
    assert removed == [last]
    assert added == [last.rstrip("\n") + ",\n", "\n", "  // Caching (POCs #61-65)\n", '  "cache-aside-pattern": "6️⃣1️⃣ Cache-Aside Pattern"\n']
    assert ins.text.replace(",\n\n  // Caching (POCs #61-65)\n  \"cache-aside-pattern\": \"6️⃣1️⃣ Cache-Aside Pattern\"", "") == sample_meta
    # and the result is itself a file authorkit can read
    again = parse_nav(ins.text, "practice-pocs/_meta.js")
    assert again.find_number(61).key == "cache-aside-pattern"


def test_sample_meta_gap_is_filled_in_its_group(sample_meta: str):
    without = "".join(ln for ln in sample_meta.splitlines(keepends=True) if "redis-atomic-inventory" not in ln)
    nav = parse_nav(without, "practice-pocs/_meta.js")
    ins = plan_insert(nav, "atomic-inventory", "Atomic inventory", 33)
    removed, added = _changes(without, ins.text)
    assert removed == []
    assert added == ['  "atomic-inventory": "3️⃣3️⃣ Atomic Inventory",\n']
    lines = ins.text.splitlines()
    i = lines.index('  "atomic-inventory": "3️⃣3️⃣ Atomic Inventory",')
    assert "3️⃣2️⃣" in lines[i - 1] and "3️⃣4️⃣" in lines[i + 1]
    assert ins.group == "Redis Transactions (POCs #31-35)"


# --- the team's fixtures ---------------------------------------------------------------------


def test_insert_in_number_order_within_comment_group(fixtures: Path):
    text = (fixtures / "nav" / "grouped._meta.js").read_text(encoding="utf-8")
    nav = parse_nav(text, "grouped._meta.js")
    ins = plan_insert(nav, "queue-priority", "Priority queues", 11)
    removed, added = _changes(text, ins.text)
    assert removed == [] and added == ['  "queue-priority": "1️⃣1️⃣ Priority Queues",\n']
    assert ins.group == "Queue Patterns (POCs #10-14)"
    lines = ins.text.splitlines()
    assert lines.index('  "queue-priority": "1️⃣1️⃣ Priority Queues",') == lines.index('  "queue-retry": "1️⃣2️⃣ Retry Queues",') - 1


def test_number_below_group_range_goes_into_the_lower_group(fixtures: Path):
    text = (fixtures / "nav" / "grouped._meta.js").read_text(encoding="utf-8")
    ins = plan_insert(parse_nav(text, "g._meta.js"), "kv-store-batch", "Batch writes", 4)
    # 4 is in no group's range: it follows #3, at the end of that group, before the blank line
    assert ins.group == "Storage Basics (POCs #1-3)"
    assert '"kv-store-scan": "3️⃣ Scanning Keys",\n  "kv-store-batch": "4️⃣ Batch Writes",\n\n  // Queue' in ins.text


def test_new_group_comment_in_the_files_style(fixtures: Path):
    text = (fixtures / "nav" / "grouped._meta.js").read_text(encoding="utf-8")
    ins = plan_insert(parse_nav(text, "g._meta.js"), "stream-replay", "Replaying streams", 20, ("Streams", 20, 24))
    assert ins.new_group and ins.group == "Streams (POCs #20-24)"
    assert ins.text.endswith('"queue-dlq": "1️⃣4️⃣ Dead Letters",\n\n  // Streams (POCs #20-24)\n  "stream-replay": "2️⃣0️⃣ Replaying Streams"\n}\n')


def test_json_meta_dotted_labels_and_valid_json(fixtures: Path):
    text = (fixtures / "nav" / "plain._meta.json").read_text(encoding="utf-8")
    nav = parse_nav(text, "plain._meta.json")
    assert nav.label_style == "dotted"
    ins = plan_insert(nav, "second-steps", "second steps", 2)
    assert json.loads(ins.text) == {"intro": "Introduction", "first-steps": "1. First Steps", "second-steps": "2. Second Steps", "third-steps": "3. Third Steps"}
    removed, added = _changes(text, ins.text)
    assert removed == [] and added == ['  "second-steps": "2. Second Steps",\n']
    last = plan_insert(nav, "fourth-steps", "fourth steps", 4)
    assert json.loads(last.text)["fourth-steps"] == "4. Fourth Steps"


def test_single_quotes_crlf_object_values_and_no_final_newline(fixtures: Path):
    raw = (fixtures / "nav" / "single_quotes_crlf._meta.js").read_bytes().decode("utf-8")
    nav = parse_nav(raw, "s._meta.js")
    assert [e.key for e in nav.entries] == ["intro", "one-thing", "two-thing"]
    assert nav.find_number(2).label == "2. Two Thing"
    ins = plan_insert(nav, "three-thing", "three thing", 3)
    assert ins.text == raw.replace("type: 'page' },\r\n}", "type: 'page' },\r\n  'three-thing': '3. Three Thing',\r\n}")
    assert not ins.text.endswith("\n")


def test_multiline_object_entries(fixtures: Path):
    text = (fixtures / "nav" / "objects._meta.js").read_text(encoding="utf-8")
    nav = parse_nav(text, "o._meta.js")
    assert nav.find_key("guide").label == "📘 Guide" and nav.find_key("guide").end_line == 5
    ins = plan_insert(nav, "tut-two", "Tutorial two", 2)
    removed, added = _changes(text, ins.text)
    assert removed == [] and added == ['  "tut-two": "2️⃣ Tutorial Two",\n']


@pytest.mark.parametrize("name,line", [("spread._meta.js", 1), ("computed._meta.js", 3)])
def test_unsafe_files_are_refused_with_a_line(fixtures: Path, name: str, line: int):
    with pytest.raises(NavigationError) as e:
        read_nav(fixtures / "nav" / name, name)
    assert e.value.line == line
    assert "safely" in str(e.value) and e.value.hint


def test_broken_json_is_refused(tmp_path: Path):
    p = tmp_path / "_meta.json"
    p.write_text('{\n  "a": "A",\n  "b": \n}\n', encoding="utf-8")
    with pytest.raises(NavigationError) as e:
        read_nav(p)
    assert e.value.line == 4


def test_duplicate_key_is_a_no_op_and_taken_number_refused(fixtures: Path):
    nav = read_nav(fixtures / "nav" / "grouped._meta.js")
    same = plan_insert(nav, "queue-retry", "Retry queues", 12)
    assert not same.changed and same.text == nav.text
    with pytest.raises(NavigationError, match="already used by 'queue-dlq'"):
        plan_insert(nav, "queue-other", "Other", 14)


def test_insert_entry_writes_atomically_and_dry_run_does_not(tmp_path: Path, fixtures: Path):
    p = tmp_path / "_meta.js"
    original = (fixtures / "nav" / "grouped._meta.js").read_bytes()
    p.write_bytes(original)
    insert_entry(p, "queue-priority", "Priority queues", 11, dry_run=True)
    assert p.read_bytes() == original
    ins = insert_entry(p, "queue-priority", "Priority queues", 11)
    assert p.read_bytes().decode("utf-8") == ins.text
    assert [x.name for x in tmp_path.iterdir()] == ["_meta.js"]  # no temp files left


def test_labels_slugs_and_keycaps():
    assert slugify("Cache-aside pattern (read-through)") == "cache-aside-pattern"
    assert slugify("Composite indexes & covering indexes") == "composite-indexes-covering-indexes"
    assert short_label("Cache-aside pattern (read-through)") == "Cache-Aside Pattern"
    assert short_label("gRPC service with Protocol Buffers") == "gRPC Service with Protocol Buffers"
    assert unique_slug("queue-retry", {"queue-retry", "queue-retry-2"}) == "queue-retry-3"
    assert keycap(61) == "6\ufe0f\u20e31\ufe0f\u20e3"
    assert label_number("6️⃣1️⃣ Cache-Aside Pattern") == 61
    assert label_number("🔟 HyperLogLog") == 10
    assert label_number("12. Twelve") == 12
    assert label_number("Overview") is None
