"""Structural diff of a rewrite, for reviewers: `authorkit review`.

A line diff of a 600 → 985 line rewrite is unreadable. This compares what a reviewer asks
about: which sections survived (also when renamed, through the style guides' aliases), which
were removed, added or moved; how long each is now; where every code block of the old version
went; which numbers and company names were lost or added; and how both versions check against
their styles.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from authorkit.check import check_text, detect_style
from authorkit.document import CodeBlock, Document, Section, normalize_heading, parse
from authorkit.matching import match_sections, rule_score
from authorkit.styleguide import StyleGuide

# --- sections --------------------------------------------------------------------------


@dataclass
class SectionInfo:
    index: int
    heading: str
    norm: str
    start: int
    end: int
    rule_old: str | None = None  # rule id under the old version's guide
    rule_new: str | None = None  # rule id under the new version's guide
    forbidden_in_new: str | None = None  # id of the new guide's forbidden rule it matches

    @property
    def lines(self) -> int:
        return self.end - self.start + 1


@dataclass
class SectionChange:
    kind: str  # "matched", "removed", "added"
    old: SectionInfo | None
    new: SectionInfo | None
    how: str = ""  # for matched: "same heading", "alias: <rule>", "similar heading"
    moved: bool = False

    @property
    def renamed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.norm != self.new.norm


def _sections(doc: Document) -> list[Section]:
    levels = sorted({h.level for h in doc.headings if h.level > 1})
    return doc.sections(levels[0]) if levels else []


def _infos(doc: Document, old_guide: StyleGuide | None, new_guide: StyleGuide | None) -> list[SectionInfo]:
    secs = _sections(doc)
    infos = [SectionInfo(i, s.heading.text, s.heading.norm, s.start, s.end) for i, s in enumerate(secs)]
    by_line = {s.start: s for s in infos}
    for guide, attr in ((old_guide, "rule_old"), (new_guide, "rule_new")):
        if guide is None:
            continue
        for sec, rule in _match(doc, guide):
            if rule is not None and sec.start in by_line:
                setattr(by_line[sec.start], attr, rule.id)
    if new_guide is not None:
        for info in infos:
            for f in new_guide.forbidden:
                if rule_score(info.norm, f, 1.01) > 0:
                    info.forbidden_in_new = f.id
                    break
    return infos


def _match(doc: Document, guide: StyleGuide) -> list[tuple[Section, Any]]:
    out = []
    for m in match_sections(doc, guide):
        if isinstance(m, tuple):
            out.append((m[0], m[1]))
        else:
            out.append((m.section, m.rule))
    return out


def pair_sections(old: list[SectionInfo], new: list[SectionInfo]) -> list[SectionChange]:
    """Pair old and new sections: same heading first, then the same rule of the new style's
    guide, then of the old style's guide, then similar headings. Unpaired ones were removed
    or added; paired ones out of their old relative order were moved."""
    pairs: dict[int, tuple[int, str]] = {}
    used_new: set[int] = set()

    def take(key_old, key_new, how) -> None:
        for o in old:
            if o.index in pairs:
                continue
            ko = key_old(o)
            if ko is None:
                continue
            for n in new:
                if n.index not in used_new and key_new(n) == ko:
                    pairs[o.index] = (n.index, how(o, n))
                    used_new.add(n.index)
                    break

    take(lambda s: s.norm or None, lambda s: s.norm or None, lambda o, n: "same heading")
    # A section the new style forbids (the "$2.3M Problem" hook) was removed, not renamed,
    # even when the old style's guide files it under the same rule as a new section.
    allowed = [o for o in old if not o.forbidden_in_new]
    old_all, old = old, allowed
    take(lambda s: s.rule_new, lambda s: s.rule_new, lambda o, n: f"alias ({o.rule_new})")
    take(lambda s: s.rule_old, lambda s: s.rule_old, lambda o, n: f"alias ({o.rule_old})")
    # Similar headings, best pairs first.
    cands = []
    for o in old:
        if o.index in pairs:
            continue
        for n in new:
            if n.index in used_new:
                continue
            r = difflib.SequenceMatcher(None, o.norm, n.norm).ratio()
            if r >= 0.8:
                cands.append((r, o.index, n.index))
    for r, oi, ni in sorted(cands, key=lambda c: (-c[0], c[1], c[2])):
        if oi not in pairs and ni not in used_new:
            pairs[oi] = (ni, "similar heading")
            used_new.add(ni)
    old = old_all

    # Moved: paired sections outside the longest run that keeps its relative order.
    ordered = sorted(pairs.items())
    keep = _lis([ni for _, (ni, _) in ordered])
    stayed = {ordered[i][0] for i in keep}

    changes: list[SectionChange] = []
    old_by = {o.index: o for o in old}
    # Walk the new document's order, slotting removed sections after their old predecessor.
    paired_new = {ni: oi for oi, (ni, _) in pairs.items()}
    for n in new:
        if n.index in paired_new:
            oi = paired_new[n.index]
            changes.append(SectionChange("matched", old_by[oi], n, pairs[oi][1], moved=oi not in stayed))
        else:
            changes.append(SectionChange("added", None, n))
    removed = [SectionChange("removed", o, None) for o in old if o.index not in pairs]
    return removed + changes


def _lis(seq: list[int]) -> list[int]:
    """Indices of one longest strictly increasing subsequence."""
    tails: list[int] = []
    tails_idx: list[int] = []
    prev = [-1] * len(seq)
    for i, v in enumerate(seq):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tails_idx.append(i)
        else:
            tails[k] = v
            tails_idx[k] = i
        prev[i] = tails_idx[k - 1] if k > 0 else -1
    out = []
    i = tails_idx[-1] if tails_idx else -1
    while i >= 0:
        out.append(i)
        i = prev[i]
    return out[::-1]


# --- code blocks -----------------------------------------------------------------------


def _norm_code(code: str) -> str:
    return "\n".join(" ".join(ln.split()) for ln in code.splitlines() if ln.strip())


def _code_lines(code: str) -> list[str]:
    return [" ".join(ln.split()) for ln in code.splitlines() if ln.strip()]


@dataclass
class CodeChange:
    kind: str  # "kept", "moved", "merged", "rewritten", "dropped", "added"
    old: CodeBlock | None
    new: CodeBlock | None
    old_where: str = ""
    new_where: str = ""
    coverage: float = 0.0  # share of the old block's lines found in the new block


def _where(doc: Document, line: int) -> str:
    """`Section › Subsection` holding a line."""
    top = sub = None
    for h in doc.headings:
        if h.line > line:
            break
        if h.level == 1:
            continue
        if top is None or h.level <= top.level:
            top, sub = h, None
        else:
            sub = h  # the nearest subsection heading above the line
    if top is None:
        return "(before the first section)"
    name = _plain(top.text)
    return f"{name} › {_plain(sub.text)}" if sub is not None else name


def _plain(heading: str) -> str:
    s = re.sub(r"(\*\*|__|`)", "", heading)
    s = "".join(ch for ch in s if ch.isprintable() and not _is_emoji(ch)).strip()
    s = re.sub(r"\s+", " ", s)
    return s or normalize_heading(heading)


def _is_emoji(ch: str) -> bool:
    return ord(ch) > 0x2000 and unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf", "Me") and ch not in "→–—›"


def compare_code(old: Document, new: Document) -> list[CodeChange]:
    """Where each old block went: kept as is (same place or moved), merged into a larger block
    (≥ 80% of its lines inside it), rewritten (at least REWRITTEN_MIN of its lines carried into
    one new block, or the same file name, or similar text), or dropped. New blocks no old block
    went into are added. Whitespace does not count."""
    new_norm = [_norm_code(b.code) for b in new.code_blocks]
    new_sets = [set(_code_lines(b.code)) for b in new.code_blocks]
    old_secs = [_where(old, b.line) for b in old.code_blocks]
    new_secs = [_where(new, b.line) for b in new.code_blocks]
    used: set[int] = set()
    out: list[CodeChange] = []
    for oi, ob in enumerate(old.code_blocks):
        on = _norm_code(ob.code)
        olines = _code_lines(ob.code)
        exact = [j for j, nn in enumerate(new_norm) if nn == on and on]
        if exact:
            j = next((j for j in exact if j not in used), exact[0])
            used.add(j)
            kind = "kept" if _top(old_secs[oi]) == _top(new_secs[j]) else "moved"
            out.append(CodeChange(kind, ob, new.code_blocks[j], old_secs[oi], new_secs[j], 1.0))
            continue
        best_j, best_cov, best_ratio = -1, 0.0, 0.0
        for j, nb in enumerate(new.code_blocks):
            if not olines:
                break
            cov = sum(1 for ln in olines if ln in new_sets[j]) / len(olines)
            if cov > best_cov or (cov == best_cov and best_j >= 0 and len(new_norm[j]) < len(new_norm[best_j])):
                best_j, best_cov = j, cov
        if best_j >= 0 and best_cov < 0.4:
            # Small edits on every line defeat line coverage; fall back to similarity.
            for j, nn in enumerate(new_norm):
                if new.code_blocks[j].lang and ob.lang and new.code_blocks[j].lang != ob.lang:
                    continue
                sm = difflib.SequenceMatcher(None, on, nn)
                # Cheap upper bounds first: the full ratio is quadratic on long blocks.
                if sm.real_quick_ratio() < 0.6 or sm.quick_ratio() < 0.6:
                    continue
                r = sm.ratio()
                if r > best_ratio:
                    best_ratio, best_j_sim = r, j
            if best_ratio >= 0.6:
                best_j, best_cov = best_j_sim, max(best_cov, best_ratio)
        name = _file_name(ob)
        if (best_j < 0 or best_cov < REWRITTEN_MIN) and name:
            # The same file, rewritten: `server.js` before and after is one file's history.
            same = [j for j, nb in enumerate(new.code_blocks) if j not in used and _file_name(nb) == name]
            if same:
                best_j = same[0]
                nl = set(_code_lines(new.code_blocks[best_j].code))
                best_cov = sum(1 for ln in olines if ln in nl) / len(olines) if olines else 0.0
                best_cov = max(best_cov, 0.01)
        if best_j >= 0 and (best_cov >= REWRITTEN_MIN or (name and _file_name(new.code_blocks[best_j]) == name)):
            used.add(best_j)
            nb = new.code_blocks[best_j]
            bigger = len(_code_lines(nb.code)) > len(olines) * 1.5
            kind = "merged" if best_cov >= 0.8 and bigger else "rewritten"
            out.append(CodeChange(kind, ob, nb, old_secs[oi], new_secs[best_j], round(best_cov, 2)))
        else:
            out.append(CodeChange("dropped", ob, None, old_secs[oi], "", round(best_cov, 2)))
    old_all = {ln for b in old.code_blocks for ln in _code_lines(b.code)}
    for j, nb in enumerate(new.code_blocks):
        if j in used:
            continue
        nl = _code_lines(nb.code)
        share = sum(1 for ln in nl if ln in old_all) / len(nl) if nl else 0.0
        out.append(CodeChange("added", None, nb, "", new_secs[j], round(share, 2)))
    return out


# A block is "rewritten" rather than "dropped" when at least this share of its lines is in one
# new block: a 200-line server rewritten around 40% of its old lines was not dropped.
REWRITTEN_MIN = 0.2

_FILE_COMMENT = re.compile(r"^\s*(?://|#|--|/\*|<!--)\s*([\w./-]+\.[A-Za-z0-9]{1,8})\b")
_INFO_NAME = re.compile(r"(?:title|file(?:name)?)\s*=\s*[\"']?([^\"'\s]+)")


def _file_name(b: CodeBlock) -> str | None:
    """The file a block names: `title="app.js"` in its info string, or a first-line comment."""
    m = _INFO_NAME.search(b.info or "")
    if m:
        return m.group(1).rsplit("/", 1)[-1]
    first = b.code.split("\n", 1)[0]
    m = _FILE_COMMENT.match(first)
    return m.group(1).rsplit("/", 1)[-1] if m else None


def _top(where: str) -> str:
    return where.split(" › ", 1)[0]


# --- facts: numbers and companies ------------------------------------------------------

_UNITS = (
    r"%|x\b|×|ms\b|µs\b|us\b|ns\b|sec(?:onds?|s)?\b|s\b|min(?:utes?|s)?\b|hours?\b|hrs?\b|h\b|days?\b|"
    r"weeks?\b|months?\b|years?\b|[kmgtp]i?b(?:/s)?\b|[kmgtp]bps\b|"
    r"(?:queries|requests|req|ops|writes|reads|messages|events|transactions|tx)\s*/\s*(?:sec|s|second|min|minute|hour|hr|day)\b|"
    r"qps\b|rps\b|tps\b|rows\b|partitions\b|connections\b|users\b|servers\b|nodes\b|requests\b|queries\b|"
    r"messages\b|records\b|events\b|tables\b|"
    r"(?:thousand|million|billion|trillion)\b|[kmbt]\b\+?"
)
NUMBER_RX = re.compile(
    r"(?<![\w.$])(?:\$\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:[kmbt]\b|thousand|million|billion|trillion))?"
    r"|\d[\d,]*(?:\.\d+)?\+?\s?(?:" + _UNITS + r"))",
    re.I,
)
# A number followed by a bare multiplier word like "M rows" keeps just the multiplier.

KNOWN_COMPANIES = (
    "Airbnb", "Alibaba", "Amazon", "AWS", "Apple", "Atlassian", "Auth0", "Baidu", "BookMyShow", "ByteDance",
    "Cloudflare", "Coinbase", "Confluent", "Databricks", "Datadog", "DigitalOcean", "Discord", "DoorDash",
    "Dropbox", "eBay", "Elastic", "Etsy", "Expedia", "Facebook", "Figma", "Flipkart", "GitHub", "GitLab",
    "Google", "Grab", "Heroku", "HubSpot", "IBM", "Instacart", "Instagram", "Intel", "LinkedIn", "Lyft",
    "Mailchimp", "Meta", "Microsoft", "MongoDB", "Netflix", "Notion", "Nvidia", "Okta", "Oracle",
    "PagerDuty", "Palantir", "PayPal", "Paytm", "Pinterest", "Razorpay", "Reddit", "Robinhood", "Roblox",
    "Salesforce", "Segment", "Sentry", "Shopify", "Slack", "Snapchat", "Snowflake", "SoundCloud", "Spotify",
    "Square", "Stripe", "Swiggy", "Target", "Tesla", "Ticketmaster", "TikTok", "Twilio", "Twitch", "Twitter",
    "Uber", "Vercel", "Walmart", "WhatsApp", "Yelp", "YouTube", "Zalando", "Zendesk", "Zomato", "Zoom",
)
_COMPANY_RX = re.compile(r"\b(" + "|".join(re.escape(c) for c in sorted(KNOWN_COMPANIES, key=len, reverse=True)) + r")\b")


# Plan labels and dates are not measurements: "Week 2 Day 5" holds no "2 Day".
_LABELS = re.compile(r"\b(?:week|day|phase|step|part|sprint|tier|level|chapter|lesson|module|stage|round|test|poc|section|q[1-4])\s*#?\d+\b", re.I)


def _number_key(raw: str) -> str:
    key = re.sub(r"[\s,]", "", raw).lower()
    key = re.sub(r"(seconds?|secs?)$", "s", key)
    for word, k in (("thousand", "k"), ("million", "m"), ("billion", "b"), ("trillion", "t")):
        key = key.replace(word, k)
    return key


def numbers(doc: Document) -> dict[str, str]:
    """Numbers with units anywhere in the document, prose, code and output blocks alike:
    normalised key -> first spelling. Plan labels and dates are left out."""
    out: dict[str, str] = {}
    for m in NUMBER_RX.finditer(_LABELS.sub(" ", doc.text)):
        raw = m.group(0).strip()
        out.setdefault(_number_key(raw), raw)
    return out


def _number_lines(doc: Document) -> dict[str, list[int]]:
    """Normalised number -> the lines it stands on."""
    out: dict[str, list[int]] = {}
    for i, line in enumerate(doc.lines, 1):
        for m in NUMBER_RX.finditer(_LABELS.sub(" ", line)):
            out.setdefault(_number_key(m.group(0).strip()), []).append(i)
    return out


# Company names that are also ordinary words: counted only where they cannot be the word
# (not at the start of a sentence, a list item or a table cell: "Target 100-200:1 ratio").
AMBIGUOUS_COMPANIES = frozenset({"Target", "Square", "Segment", "Elastic", "Grab", "Notion", "Slack", "Zoom", "Meta",
                                 "Apple", "Sentry", "Snowflake", "Oracle", "Discord", "Confluent"})
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|^\s*(?:[-*+>|]|\d+[.)])\s*|\|\s*|\*\*)$")


def companies(doc: Document) -> dict[str, str]:
    """Known company names anywhere in the document, plus the "Company" column of tables."""
    out: dict[str, str] = {}
    for line in doc.lines:
        for m in _COMPANY_RX.finditer(line):
            name = m.group(1)
            if name in AMBIGUOUS_COMPANIES and _SENTENCE_START.search(line[: m.start()]):
                continue
            out.setdefault(name.lower(), name)
    for t in doc.tables:
        cols = [i for i, h in enumerate(t.header) if re.search(r"compan", h, re.I)]
        for row in t.rows:
            for i in cols:
                if i < len(row):
                    name = re.sub(r"[*_`\[\]]|\(.*?\)", "", row[i]).strip()
                    if name and len(name) < 40:
                        out.setdefault(name.lower(), name)
    return out


def _moved_numbers(old_doc: Document, new_doc: Document, sections: list[SectionChange], carried: list[str]) -> list[str]:
    """Numbers kept somewhere in the new version but not in the section that took over the
    one they stood in: moved, not lost."""
    old_at, new_at = _number_lines(old_doc), _number_lines(new_doc)
    pairs = [(ch.old, ch.new) for ch in sections if ch.kind == "matched" and ch.old and ch.new]
    moved = []
    for key in carried:
        ok = False
        for ln in old_at.get(key, []):
            for o, n in pairs:
                if o.start <= ln <= o.end and any(n.start <= nl <= n.end for nl in new_at.get(key, [])):
                    ok = True
        if not ok and old_at.get(key):
            moved.append(key)
    return moved


# --- checks ----------------------------------------------------------------------------


@dataclass
class CheckSummary:
    style: str
    detected: bool
    errors: int
    warnings: int
    rules: list[str] = field(default_factory=list)  # rule ids of errors, most frequent first
    available: bool = True
    code_checks: bool = True


def _check(text: str, doc: Document, guide: StyleGuide | None, label: str, detected: bool, code_checks: bool = True) -> CheckSummary:
    if guide is None:
        return CheckSummary("", detected, 0, 0, available=False, code_checks=code_checks)
    try:
        findings = check_text(text, guide, label, code_checks=code_checks)
    except Exception:  # noqa: BLE001 - the review still stands without check results
        return CheckSummary(guide.name, detected, 0, 0, available=False)

    def sev(f) -> str:
        return str(f.severity).lower()

    errs = [f for f in findings if sev(f) == "error"]
    warns = [f for f in findings if sev(f) == "warning"]
    counts: dict[str, int] = {}
    for f in errs:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    rules = [r for r, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return CheckSummary(guide.name, detected, len(errs), len(warns), rules, code_checks=code_checks)


# --- the review ------------------------------------------------------------------------


@dataclass
class Review:
    old_label: str
    new_label: str
    old_lines: int
    new_lines: int
    old_style: str
    new_style: str
    sections: list[SectionChange]
    code: list[CodeChange]
    numbers_lost: list[str]
    numbers_added: list[str]
    numbers_moved: list[str]
    companies_lost: list[str]
    companies_added: list[str]
    check_old: CheckSummary | None
    check_new: CheckSummary | None
    old_text: str = ""
    new_text: str = ""
    old_blocks: int = 0
    new_blocks: int = 0
    check_old_as_new: CheckSummary | None = None  # the old version against the new style

    def counts(self) -> dict[str, int]:
        c: dict[str, int] = {}
        for ch in self.code:
            c[ch.kind] = c.get(ch.kind, 0) + 1
        return c


def _resolve_style(doc: Document, style: str | None, guides: dict[str, StyleGuide]) -> tuple[StyleGuide | None, bool]:
    if style and style != "auto" and style in guides:
        return guides[style], False
    if not guides:
        return None, False
    try:
        res = detect_style(doc, guides)
        name = res[0]
    except Exception:  # noqa: BLE001
        return None, False
    return guides.get(name), True


def review_texts(
    old_text: str,
    new_text: str,
    *,
    old_label: str = "old",
    new_label: str = "new",
    guides: dict[str, StyleGuide] | None = None,
    old_style: str | None = None,
    new_style: str | None = None,
    code_checks: bool = True,
) -> Review:
    """`guides` should come from `styleguide.workspace_guides` and `code_checks` from the
    workspace's [check] settings, so the verdicts here are the ones `check` gives."""
    guides = guides or {}
    old_doc, new_doc = parse(old_text), parse(new_text)
    og, od = _resolve_style(old_doc, old_style, guides)
    ng, nd = _resolve_style(new_doc, new_style, guides)
    old_infos = _infos(old_doc, og, ng)
    new_infos = _infos(new_doc, og, ng)
    sections = pair_sections(old_infos, new_infos)
    code = compare_code(old_doc, new_doc)
    on, nn = numbers(old_doc), numbers(new_doc)
    oc, nc = companies(old_doc), companies(new_doc)
    moved = _moved_numbers(old_doc, new_doc, sections, [k for k in on if k in nn])
    return Review(
        old_label, new_label, old_doc.line_count, new_doc.line_count,
        og.name if og else "", ng.name if ng else "",
        sections, code,
        [on[k] for k in on if k not in nn], [nn[k] for k in nn if k not in on], [on[k] for k in moved],
        [oc[k] for k in oc if k not in nc], [nc[k] for k in nc if k not in oc],
        _check(old_text, old_doc, og, old_label, od, code_checks) if og else None,
        _check(new_text, new_doc, ng, new_label, nd, code_checks) if ng else None,
        old_text, new_text, len(old_doc.code_blocks), len(new_doc.code_blocks),
        _check(old_text, old_doc, ng, old_label, nd, code_checks) if ng and og and ng.name != og.name else None,
    )


# --- rendering -------------------------------------------------------------------------


def _sec_line(ch: SectionChange, new_style: str) -> tuple[str, str, str]:
    """(status, heading text, detail)"""
    if ch.kind == "removed":
        o = ch.old
        assert o is not None
        note = f"; forbidden in {new_style}" if o.forbidden_in_new and new_style else ""
        return "removed", _plain(o.heading), f"{o.lines} lines{note}"
    if ch.kind == "added":
        n = ch.new
        assert n is not None
        return "added", _plain(n.heading), f"{n.lines} lines"
    o, n = ch.old, ch.new
    assert o is not None and n is not None
    status = "moved" if ch.moved else ("renamed" if ch.renamed else "kept")
    name = f"{_plain(o.heading)} → {_plain(n.heading)}" if ch.renamed else _plain(n.heading)
    how = f"; {ch.how}" if ch.renamed else ""
    return status, name, f"{o.lines} → {n.lines} lines{how}"


def _code_desc(b: CodeBlock | None) -> str:
    if b is None:
        return ""
    n = len(b.code.splitlines())
    return f"L{b.line} {b.lang or 'text'} ({n} line{'s' if n != 1 else ''})"


def _code_line(ch: CodeChange) -> str:
    if ch.kind == "added":
        extra = f", {int(ch.coverage * 100)}% of its lines from the old version" if ch.coverage >= 0.2 else ""
        return f"added    {_code_desc(ch.new)} in {ch.new_where}{extra}"
    src = f"{_code_desc(ch.old)} in {ch.old_where}"
    if ch.kind == "dropped":
        return f"dropped  {src}"
    tail = {
        "kept": "kept in place",
        "moved": "moved to",
        "merged": f"merged ({int(ch.coverage * 100)}% of its lines) into",
        "rewritten": f"rewritten ({int(ch.coverage * 100)}% kept) →",
    }[ch.kind]
    if ch.kind == "kept":
        return f"kept     {src} → {_code_desc(ch.new)}"
    if ch.kind == "rewritten":
        return f"rewritten {src} ({int(ch.coverage * 100)}% kept) → {_code_desc(ch.new)} in {ch.new_where}"
    return f"{ch.kind:<8} {src} → {tail} {_code_desc(ch.new)} in {ch.new_where}"


def _check_text(c: CheckSummary | None) -> str:
    if c is None or not c.available:
        return "not checked (no style guide)"
    how = ("detected" if c.detected else "configured") + (", code checks on" if c.code_checks else ", code checks off as configured")
    res = "passes" if c.errors == 0 else f"{c.errors} error{'s' if c.errors != 1 else ''} ({', '.join(c.rules[:4])})"
    w = f", {c.warnings} warning{'s' if c.warnings != 1 else ''}" if c.warnings else ""
    return f"{c.style} ({how}): {res}{w}"


def render_text(r: Review, unified: bool = False) -> str:
    out = [
        f"review: {r.old_label} ({r.old_lines} lines{', ' + r.old_style if r.old_style else ''}) → "
        f"{r.new_label} ({r.new_lines} lines{', ' + r.new_style if r.new_style else ''})",
        "",
        "sections:",
    ]
    rows = [_sec_line(ch, r.new_style) for ch in r.sections]
    w = max((len(name) for _, name, _ in rows), default=0)
    w = min(w, 60)
    for status, name, detail in rows:
        out.append(f"  {status:<8} {name.ljust(w)}  {detail}")
    c = r.counts()
    out += ["", f"code blocks: {r.old_blocks} before, {r.new_blocks} after — " + _counts_phrase(c)]
    for ch in r.code:
        out.append("  " + _code_line(ch))
    out += ["", "facts:"]
    out.append("  numbers lost:    " + (", ".join(r.numbers_lost) or "none"))
    out.append("  numbers added:   " + (", ".join(r.numbers_added) or "none"))
    if r.numbers_moved:
        out.append("  numbers moved:   " + ", ".join(r.numbers_moved) + " (in the new version, another section)")
    out.append("  companies lost:  " + (", ".join(r.companies_lost) or "none"))
    out.append("  companies added: " + (", ".join(r.companies_added) or "none"))
    out += ["", "check:", f"  before: {_check_text(r.check_old)}", f"  after:  {_check_text(r.check_new)}"]
    if r.check_old_as_new is not None:
        out.append(f"  before, against {r.new_style}: {_check_text(r.check_old_as_new).split(': ', 1)[1]}")
    text = "\n".join(out) + "\n"
    if unified:
        text += "\n" + unified_diff(r)
    return text


def _counts_phrase(c: dict[str, int]) -> str:
    order = ["kept", "moved", "merged", "rewritten", "dropped", "added"]
    return ", ".join(f"{c[k]} {k}" for k in order if c.get(k)) or "none"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def render_markdown(r: Review, unified: bool = False) -> str:
    out = [
        f"### Review: `{r.old_label}` → `{r.new_label}`",
        "",
        f"**Lines**: {r.old_lines} → {r.new_lines} · **Style**: {r.old_style or '?'} → {r.new_style or '?'}",
        "",
        "#### Sections",
        "",
        "| Change | Section | Lines |",
        "|--------|---------|-------|",
    ]
    icon = {"removed": "➖ removed", "added": "➕ added", "kept": "kept", "renamed": "✏️ renamed", "moved": "↕️ moved"}
    for status, name, detail in (_sec_line(ch, r.new_style) for ch in r.sections):
        out.append(f"| {icon.get(status, status)} | {_md_escape(name)} | {_md_escape(detail)} |")
    c = r.counts()
    out += ["", "#### Code blocks", "", f"{r.old_blocks} before, {r.new_blocks} after: {_counts_phrase(c)}.", "",
            "| Before | Went to |", "|--------|---------|"]
    for ch in r.code:
        if ch.kind == "added":
            continue
        src = f"{_code_desc(ch.old)} — {ch.old_where}"
        if ch.kind == "dropped":
            dest = "**dropped**"
        else:
            pct = f" ({int(ch.coverage * 100)}%)" if ch.kind in ("merged", "rewritten") else ""
            dest = f"{ch.kind}{pct}: {_code_desc(ch.new)} — {ch.new_where}"
        out.append(f"| {_md_escape(src)} | {_md_escape(dest)} |")
    added = [ch for ch in r.code if ch.kind == "added"]
    if added:
        out += ["", "Added: " + "; ".join(f"{_code_desc(ch.new)} — {ch.new_where}" for ch in added)]
    out += ["", "#### Facts", "",
            f"- **Numbers lost**: {', '.join(r.numbers_lost) or 'none'}",
            f"- **Numbers added**: {', '.join(r.numbers_added) or 'none'}",
            f"- **Numbers moved**: {', '.join(r.numbers_moved) or 'none'}",
            f"- **Companies lost**: {', '.join(r.companies_lost) or 'none'}",
            f"- **Companies added**: {', '.join(r.companies_added) or 'none'}",
            "", "#### Check", "",
            f"- **Before**: {_check_text(r.check_old)}",
            f"- **After**: {_check_text(r.check_new)}"]
    if r.check_old_as_new is not None:
        out.append(f"- **Before, against {r.new_style}**: {_check_text(r.check_old_as_new).split(': ', 1)[1]}")
    text = "\n".join(out) + "\n"
    if unified:
        text += "\n<details><summary>Unified diff</summary>\n\n```diff\n" + unified_diff(r) + "```\n\n</details>\n"
    return text


def unified_diff(r: Review) -> str:
    lines = difflib.unified_diff(
        r.old_text.splitlines(keepends=True), r.new_text.splitlines(keepends=True), fromfile=r.old_label, tofile=r.new_label
    )
    text = "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)
    return text


def as_json(r: Review, unified: bool = False) -> dict[str, Any]:
    def sec(s: SectionInfo | None) -> dict[str, Any] | None:
        return None if s is None else {"heading": s.heading, "start": s.start, "end": s.end, "lines": s.lines,
                                       "rule_old": s.rule_old, "rule_new": s.rule_new, "forbidden_in_new": s.forbidden_in_new}

    def blk(b: CodeBlock | None) -> dict[str, Any] | None:
        return None if b is None else {"line": b.line, "lang": b.lang, "lines": len(b.code.splitlines())}

    def chk(c: CheckSummary | None) -> dict[str, Any] | None:
        return None if c is None else {"style": c.style, "detected": c.detected, "errors": c.errors, "warnings": c.warnings,
                                       "rules": c.rules, "available": c.available, "code_checks": c.code_checks}

    out: dict[str, Any] = {
        "old": {"label": r.old_label, "lines": r.old_lines, "style": r.old_style, "code_blocks": r.old_blocks, "check": chk(r.check_old)},
        "new": {"label": r.new_label, "lines": r.new_lines, "style": r.new_style, "code_blocks": r.new_blocks, "check": chk(r.check_new)},
        "sections": [
            {"change": _sec_line(ch, r.new_style)[0], "old": sec(ch.old), "new": sec(ch.new), "how": ch.how} for ch in r.sections
        ],
        "code": [
            {"change": ch.kind, "old": blk(ch.old), "new": blk(ch.new), "old_where": ch.old_where, "new_where": ch.new_where,
             "coverage": ch.coverage} for ch in r.code
        ],
        "old_against_new_style": chk(r.check_old_as_new),
        "numbers": {"lost": r.numbers_lost, "added": r.numbers_added, "moved": r.numbers_moved},
        "companies": {"lost": r.companies_lost, "added": r.companies_added},
    }
    if unified:
        out["unified_diff"] = unified_diff(r)
    return out
