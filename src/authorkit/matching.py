"""Match a document's headings to a style guide's sections.

Real documents name one section many ways (`## 🏆 Key Takeaways`, `## What You've Built`,
`### **5. The Problem:**`). Headings are normalised (see document.normalize_heading) and
compared with each alias exactly, by their main part (before `:`, ` - ` or `(`), and finally
by similarity above the guide's threshold, so small typos still match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from rapidfuzz.fuzz import ratio as _indel_ratio

from authorkit import safe_regex
from authorkit.document import Document, Section, normalize_heading
from authorkit.styleguide import ForbiddenSection, SectionRule, StyleGuide

_SPLIT = re.compile(r"\s*(?::|\s-\s|\(|\s–\s|\s—\s)\s*")


@lru_cache(maxsize=65536)
def _variants(norm: str) -> tuple[str, ...]:
    head = _SPLIT.split(norm, maxsplit=1)[0].strip()
    return (norm, head) if head and head != norm else (norm,)


@lru_cache(maxsize=4096)
def _alias_norm(alias: str) -> str:
    return normalize_heading(alias)


@lru_cache(maxsize=65536)
def _ratio(a: str, b: str, threshold: float = 0.0) -> float:
    # difflib's ratio is 2·M/T with M the characters of its matching blocks, which form a
    # common subsequence, so M ≤ LCS and the ratio is at most rapidfuzz's Indel ratio
    # (2·LCS/T), computed in C in microseconds. Below the threshold by that bound, difflib
    # need not run: most headings are nowhere near any alias. The small margin keeps float
    # rounding from ever rejecting a pair difflib would accept.
    if threshold > 0 and _indel_ratio(a, b, score_cutoff=threshold * 100 - 1e-6) == 0:
        return 0.0
    return SequenceMatcher(None, a, b).ratio()


@lru_cache(maxsize=4096)
def _rx(pattern: str) -> re.Pattern[str]:
    return safe_regex.compile(pattern, re.I)  # a guide's pattern: searched with a time bound


# Headings repeat across a site, so scores are cached per guide. Keyed by the identity of the
# guide's rule lists, which copies made by `with_lines` share with the original; each list is
# kept alive once used as a key, so its id cannot be reused by another guide's list.
_PINNED: dict[int, object] = {}


def _pin(rules: object) -> int:
    _PINNED.setdefault(id(rules), rules)
    return id(rules)


_SCORES: dict[tuple[int, str], tuple[tuple[int, float], ...]] = {}
_FORBIDDEN: dict[tuple[int, str, int], ForbiddenSection | None] = {}


@dataclass(frozen=True)
class _Aliases:
    """A rule's headings prepared for matching: patterns, normalised aliases, and the aliases
    long enough for a similarity ratio to mean anything ("faq" vs "fix" does not)."""

    patterns: tuple[re.Pattern[str], ...]
    exact: frozenset[str]
    fuzzy: tuple[tuple[str, int], ...]
    shortest: int  # of the fuzzy aliases (0 when there are none)
    longest: int


@lru_cache(maxsize=4096)
def _aliases(headings: tuple[str, ...], patterns: tuple[str, ...]) -> _Aliases:
    norms = [a for a in map(_alias_norm, headings) if a]
    fuzzy = tuple((a, len(a)) for a in dict.fromkeys(norms) if len(a) >= 5)
    lens = [n for _, n in fuzzy] or [0]
    return _Aliases(tuple(_rx(p) for p in patterns), frozenset(norms), fuzzy, min(lens), max(lens))


def _score(norm: str, al: _Aliases, threshold: float) -> float:
    for p in al.patterns:
        if safe_regex.search_quietly(p, norm):
            return 1.0
    if norm in al.exact:
        return 1.0
    variants = _variants(norm)
    if len(variants) > 1 and variants[1] in al.exact:
        return 0.95
    best = 0.0
    if not al.fuzzy:
        return best
    for v in variants:
        lv = len(v)
        # The ratio is at most 2·min/(sum of lengths): a heading much longer or shorter than
        # every alias cannot reach the threshold (most "### Step 3: …" headings).
        if lv < 5:
            continue
        if lv > al.longest and 2.0 * al.longest / (lv + al.longest) < threshold:
            continue
        if lv < al.shortest and 2.0 * lv / (lv + al.shortest) < threshold:
            continue
        for a, la in al.fuzzy:
            # Upper bound of the ratio from the lengths alone: skips most comparisons.
            if 2.0 * min(lv, la) / (lv + la) < threshold:
                continue
            r = _ratio(v, a, threshold)
            if r >= threshold:
                best = max(best, r * 0.94)
    return best


def score_heading(norm: str, headings: tuple[str, ...], patterns: tuple[str, ...], threshold: float) -> float:
    """1.0 for an exact or pattern match, 0.95 for a main-part match, the similarity ratio for a
    near miss at or above `threshold`, else 0."""
    return _score(norm, _aliases(tuple(headings), tuple(patterns)), threshold)


_RULE_ALIASES: dict[int, _Aliases] = {}


def rule_score(norm: str, rule: SectionRule | ForbiddenSection, threshold: float) -> float:
    al = _RULE_ALIASES.get(id(rule))
    if al is None:
        al = _RULE_ALIASES[_pin(rule)] = _aliases(tuple(rule.headings), tuple(rule.patterns))
    return _score(norm, al, threshold)


def heading_matches(text: str, rule: SectionRule | ForbiddenSection, threshold: float = 0.86) -> bool:
    return rule_score(normalize_heading(text), rule, threshold) > 0


def heading_scores(guide: StyleGuide, norm: str) -> tuple[tuple[int, float], ...]:
    """(rule index, score) for every section rule this heading matches."""
    key = (id(guide.sections), norm)
    hit = _SCORES.get(key)
    if hit is None:
        _pin(guide.sections)
        hit = _SCORES[key] = tuple(
            (ri, s) for ri, r in enumerate(guide.section_rules) if (s := rule_score(norm, r, guide.fuzzy_threshold)) > 0
        )
    return hit


def forbidden_match(guide: StyleGuide, norm: str, level: int) -> ForbiddenSection | None:
    """The forbidden-section rule a heading at `level` falls under, if any (exact or pattern
    matches only: a near miss is not enough to call a section forbidden)."""
    if not guide.forbidden:
        return None
    key = (id(guide.forbidden), norm, level)
    if key not in _FORBIDDEN:
        hit = None
        if _could_be_forbidden(guide, norm):
            hit = next((f for f in guide.forbidden if f.level in (None, level) and rule_score(norm, f, 1.01) > 0), None)
        _FORBIDDEN[key] = hit
    return _FORBIDDEN[key]


_FORBIDDEN_ANY: dict[int, tuple[re.Pattern[str] | None, frozenset[str]]] = {}


def _could_be_forbidden(guide: StyleGuide, norm: str) -> bool:
    """One pattern search and two set lookups for all the forbidden rules at once: almost every
    heading is cleared here without scoring it against each rule."""
    quick = _FORBIDDEN_ANY.get(id(guide.forbidden))
    if quick is None:
        pats = [f"(?:{p})" for f in guide.forbidden for p in f.patterns]
        names = frozenset(a for f in guide.forbidden for a in map(_alias_norm, f.headings) if a)
        quick = _FORBIDDEN_ANY[_pin(guide.forbidden)] = (safe_regex.compile("|".join(pats), re.I) if pats else None, names)
    rx, names = quick
    return any(v in names for v in _variants(norm)) or (rx is not None and safe_regex.search_quietly(rx, norm) is not None)


_SPECIAL: dict[tuple[int, str], int | None] = {}


def _special_rule(guide: StyleGuide, norm: str) -> int | None:
    """Index of the first rule with a non-strict code mode that a subheading matches. Subheadings
    ("### Step 3: Insert a row") are mostly unique, so only those few rules are scored."""
    key = (id(guide.sections), norm)
    if key not in _SPECIAL:
        _pin(guide.sections)
        _SPECIAL[key] = next(
            (ri for ri, r in enumerate(guide.section_rules) if r.code in _SPECIAL_MODES and rule_score(norm, r, guide.fuzzy_threshold) > 0),
            None,
        )
    return _SPECIAL[key]


@dataclass
class Match:
    section: Section
    rule: SectionRule | None
    score: float

    @property
    def renamed(self) -> bool:
        """Matched by similarity, not by a name the style knows: a rename to report."""
        return self.rule is not None and 0 < self.score < 0.95


_STOPWORDS = frozenset("the a an this it its it's you you'll your we we'll our what why how to of and is are by for in on with".split())
_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=65536)
def _stems(norm: str) -> frozenset[str]:
    return frozenset(w[:5] for w in _WORD.findall(norm) if w not in _STOPWORDS and len(w) > 2)


def _rename_score(norm: str, rule: SectionRule) -> float:
    """How much a heading looks like a renamed `rule`: the best similarity to one of its
    names, or 0.6 when they share a significant word ("Building It" and "Step-by-Step Build")."""
    best = 0.0
    mine = _stems(norm)
    for alias in rule.headings:
        a = _alias_norm(alias)
        for v in _variants(norm):
            best = max(best, _ratio(v, a))
        if mine & _stems(a):
            best = max(best, 0.6)
    return best


def resolve_renames(doc: Document, guide: StyleGuide, matches: list[Match]) -> list[Match]:
    """Required sections no heading names, matched to the unknown heading that stands where
    the section belongs and looks most like it (similarity at least 0.6, or 0.4 for the only
    unknown heading between the two sections around it). Such a section counts as present,
    with a score below 0.95 so that it is reported as renamed."""
    rules = guide.section_rules
    found = {m.rule.id: i for i, m in enumerate(matches) if m.rule is not None}
    missing = [r for r in rules if r.required and r.id not in found]
    if not missing:
        return matches
    out = list(matches)
    for r in missing:
        idx = rules.index(r)
        lo, hi = -1, len(out)
        if r.ordered:
            before = [found[x.id] for x in rules[:idx] if x.id in found and x.ordered]
            after = [found[x.id] for x in rules[idx + 1 :] if x.id in found and x.ordered]
            lo = max(before) if before else -1
            hi = min(after) if after else len(out)
        best, best_i, candidates = 0.0, -1, 0
        for i in range(lo + 1, hi):
            m = out[i]
            if m.rule is not None or forbidden_match(guide, m.section.heading.norm, m.section.heading.level) is not None:
                continue
            candidates += 1
            sc = _rename_score(m.section.heading.norm, r)
            if sc > best:
                best, best_i = sc, i
        # The only unknown heading between the sections before and after it ("The Challenge"
        # where The Problem belongs) needs less likeness than one of several.
        sole = r.ordered and candidates == 1 and lo >= 0 and hi < len(out)
        if best >= (0.4 if sole else 0.6):
            out[best_i] = Match(out[best_i].section, r, min(best, 0.9))
            found[r.id] = best_i
    return out


def match_sections(doc: Document, guide: StyleGuide) -> list[Match]:
    """Each section at the guide's level, with the rule it matches (or None).

    A non-repeating rule is used once: when two sections both look like "The Problem", the
    better match wins and the other counts as unknown.
    """
    sections = doc.sections(guide.section_level)
    rules = guide.section_rules
    cands: list[tuple[float, int, int]] = []  # (-score, section index, rule index): best first when sorted
    for si, sec in enumerate(sections):
        if forbidden_match(guide, sec.heading.norm, sec.heading.level) is not None:
            continue  # a forbidden heading never satisfies a required one
        for ri, s in heading_scores(guide, sec.heading.norm):
            cands.append((-s, si, ri))
    cands.sort()
    assigned: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for neg, si, ri in cands:
        if si in assigned:
            continue
        if ri in used and not rules[ri].repeat:
            continue
        assigned[si] = (ri, -neg)
        used.add(ri)
    out = []
    for si, sec in enumerate(sections):
        if si in assigned:
            ri, s = assigned[si]
            out.append(Match(sec, rules[ri], s))
        else:
            out.append(Match(sec, None, 0.0))
    return out


_SPECIAL_MODES = ("sketch", "problem", "output")


def code_modes(doc: Document, guide: StyleGuide | None, matches: list[Match] | None = None) -> dict[int, str]:
    """Opening-fence line -> the code mode of the section the block sits in: the matched
    rule's `code`, else the guide's `code_default` (blocks left out are strict)."""
    if guide is None:
        return {}
    matches = matches if matches is not None else match_sections(doc, guide)
    default = guide.code_default
    modes: dict[int, str] = {}
    if default != "strict":
        modes = {b.line: default for b in doc.code_blocks}
    for m in matches:
        mode = default if m.rule is None else (m.rule.code or default)
        if mode == default:
            continue
        for b in doc.code_in(m.section.start, m.section.end):
            if mode == "strict":
                modes.pop(b.line, None)
            else:
                modes[b.line] = mode
    # Output, sketches and bad examples often appear one level down ("### Expected Output"
    # under "## Run It"); their mode applies there too.
    if doc.code_blocks and any(r.code in _SPECIAL_MODES for r in guide.section_rules):
        for idx, h in enumerate(doc.headings):
            if h.level <= guide.section_level:
                continue
            hit = _special_rule(guide, h.norm)
            if hit is None:
                continue
            end = doc.heading_ends()[idx]
            for b in doc.code_in(h.line, end):
                if modes.get(b.line, "strict") in ("strict", "illustrative"):
                    modes[b.line] = guide.section_rules[hit].code  # type: ignore[assignment]
    return modes
