"""Code that runs: syntax-check fenced code blocks and find placeholders inside code.

Each block is checked by a real parser for its language (Python's own parser and symbol table,
json, PyYAML, tomllib, configparser, graphql-core, pglast (PostgreSQL) and sqlglot (other SQL
dialects); `bash -n`; Node's compiler through `js_check.js`). External checkers are batched:
one `bash` process per call and one long-lived `node` process per Python process, whatever the
number of blocks. Nothing in a block is ever executed.

Findings: `code-syntax` and `code-placeholder`, at the document line of the problem, at most
one syntax finding per block. How severe they are depends on where the block sits: in a section
the style guide marks as runnable (`code: strict`) a syntax error or an elision is an error; in
an illustrative section (`code: illustrative`) a block that does not parse is info. In every
section, code shown for illustration is recognised before anything is reported: a JSON value or
object literal shown as data, pseudo-HTTP, tool output (EXPLAIN plans, psql tables, prompts),
SQL templates and cheat sheets of fragments, function-body excerpts, and SQL of any dialect the
parsers know. Credential placeholders (`YOUR_API_KEY`) are warnings that name the placeholder.
Blocks that are not checked (unknown language, output, no Node) are counted in `CodeStats`.
"""

from __future__ import annotations

import atexit
import configparser
import difflib
import json
import logging
import os
import re
import shutil
import subprocess
import symtable
import tempfile
import textwrap
import threading
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import yaml

from authorkit.document import CodeBlock, Document
from authorkit.findings import Finding, Severity

if TYPE_CHECKING:
    from authorkit.styleguide import StyleGuide

# --- languages -------------------------------------------------------------------------

LANG_ALIASES: dict[str, str] = {
    "python": "python", "py": "python", "python3": "python",
    "javascript": "js", "js": "js", "node": "js", "nodejs": "js", "mjs": "js", "cjs": "js",
    "typescript": "ts", "ts": "ts",
    "json": "json",
    "yaml": "yaml", "yml": "yaml",
    "sql": "sql", "postgresql": "sql", "postgres": "sql", "psql": "sql", "pgsql": "sql",
    "mysql": "sql-mysql", "sqlite": "sql-sqlite",
    "bash": "shell", "sh": "shell", "shell": "shell",
    "dockerfile": "dockerfile", "docker": "dockerfile", "containerfile": "dockerfile",
    "toml": "toml",
    "ini": "ini", "cfg": "ini", "dosini": "ini",
    "graphql": "graphql", "gql": "graphql",
    "docker-compose": "compose", "compose": "compose",
}

# Output, diagrams and prose: never parsed, not counted as skipped code.
NOT_CODE = frozenset({
    "", "text", "txt", "plaintext", "plain", "output", "console", "shell-session", "terminal",
    "diff", "patch", "log", "logs", "markdown", "md", "mermaid", "ascii", "none", "nohighlight",
    "csv", "tsv", "http", "sample", "result", "results", "stdout", "stderr", "tree",
})

FILE_LANGS: dict[str, str] = {
    ".py": "python", ".js": "js", ".mjs": "js", ".cjs": "js", ".ts": "ts", ".json": "json",
    ".yml": "yaml", ".yaml": "yaml", ".sql": "sql", ".sh": "shell", ".bash": "shell",
    ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".graphql": "graphql", ".gql": "graphql",
}


def lang_for_filename(name: str) -> str | None:
    base = name.rsplit("/", 1)[-1].lower()
    if base in ("dockerfile", "containerfile") or base.startswith("dockerfile."):
        return "dockerfile"
    if re.fullmatch(r"(docker-)?compose(\.[\w-]+)?\.ya?ml", base):
        return "compose"
    return FILE_LANGS.get(os.path.splitext(base)[1])


@dataclass(frozen=True)
class Snippet:
    """One piece of code to check. `first_line` is the document line of code line 1."""

    lang: str  # canonical language (see LANG_ALIASES values)
    code: str
    first_line: int
    check_syntax: bool = True
    check_placeholders: bool = True
    mode: str = "strict"  # "strict": must run; "illustrative": a failure to parse is info
    # Lines of the code that follow a ❌ / "wrong" comment inside the block: a deliberate bad
    # example, not the author's mistake.
    bad_lines: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Problem:
    rule: str  # code-syntax | code-placeholder
    line: int  # document line
    message: str
    hint: str | None = None
    column: int = 1
    severity: str = "error"


@dataclass(frozen=True)
class SkippedBlock:
    doc: int  # index of the document in the call
    line: int
    lang: str
    reason: str


@dataclass
class CodeStats:
    checked: Counter = field(default_factory=Counter)  # language -> blocks parsed
    lenient: int = 0  # bad examples / sketches that were allowed to fail
    skipped: list[SkippedBlock] = field(default_factory=list)
    # The same per document of the call (index -> counts), so results can carry their own.
    doc_checked: dict[int, Counter] = field(default_factory=dict)
    doc_lenient: Counter = field(default_factory=Counter)

    def for_document(self, d: int) -> dict:
        """JSON-ready counts for document `d` of the call (kept with its cached result)."""
        return {
            "checked": dict(self.doc_checked.get(d, {})),
            "lenient": self.doc_lenient.get(d, 0),
            "skipped": [[s.line, s.lang, s.reason] for s in self.skipped if s.doc == d],
        }

    @classmethod
    def merge(cls, per_file: list[dict]) -> "CodeStats":
        """Add up `for_document` counts of many files (for `check --verbose`)."""
        st = cls()
        for i, c in enumerate(per_file):
            st.checked.update(c.get("checked", {}))
            st.lenient += c.get("lenient", 0)
            st.skipped.extend(SkippedBlock(i, line, lang, reason) for line, lang, reason in c.get("skipped", []))
        return st

    def skipped_by_lang(self) -> Counter:
        return Counter(s.lang for s in self.skipped)

    def __bool__(self) -> bool:
        return bool(self.checked or self.skipped or self.lenient)

    def __str__(self) -> str:
        """One line for `check --verbose`: what was parsed, allowed to fail, and skipped."""
        def counts(c: Counter) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

        text = f"{sum(self.checked.values())} checked ({counts(self.checked)})" if self.checked else "0 checked"
        if self.lenient:
            text += f"; {self.lenient} bad examples or sketches not required to parse"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped ({counts(self.skipped_by_lang())})"
        return text

    def skipped_lines(self, paths: list[str] | None = None) -> list[str]:
        """`path:line: lang: reason` for each skipped block (`paths` indexes the call's documents)."""
        out = []
        for s in self.skipped:
            where = paths[s.doc] if paths and s.doc < len(paths) else f"document {s.doc + 1}"
            out.append(f"{where}:{s.line}: {s.lang or 'no language'}: skipped, {s.reason}")
        return out


_LAST_STATS = CodeStats()


def last_stats() -> CodeStats:
    """Counts from the most recent `check_documents` call in this process."""
    return _LAST_STATS


# --- block classification --------------------------------------------------------------

TITLE_RE = re.compile(r"""\b(?:title|filename|file|name)\s*=\s*["']?([^"'\s]+)""", re.I)
BAD_MARK_RE = re.compile(r"❌|\bwrong\b|\bbad\b|anti-?pattern|\bdon'?t\b|\bavoid\b|\bincorrect\b|\bbroken\b|🚫", re.I)
GOOD_MARK_RE = re.compile(r"✅|\bgood\b|\bbetter\b|\bcorrect\b|\bright way\b|\bfixed\b", re.I)
FENCE_RE = re.compile(r"^\s*(```|~~~)")
# Substrings one of which every match of the patterns above contains (lower-cased): a plain
# substring test rules out almost every line before the case-insensitive regex runs.
_BAD_KEYS = ("❌", "🚫", "wrong", "bad", "anti", "don", "avoid", "incorrect", "broken")
_GOOD_KEYS = ("✅", "good", "better", "correct", "right way", "fixed")


def _marked(rx: re.Pattern[str], keys: tuple[str, ...], text: str) -> bool:
    low = text.lower()
    return any(k in low for k in keys) and rx.search(text) is not None


def block_language(block: CodeBlock, doc: Document | None = None) -> str:
    """Canonical language of a block ('' for output/no language; the raw word when unknown)."""
    lang = block.lang.strip().lower()
    m = TITLE_RE.search(block.info)
    if m:
        by_name = lang_for_filename(m.group(1))
        if by_name:
            return by_name
    canon = LANG_ALIASES.get(lang)
    if canon is None:
        return "" if lang in NOT_CODE else lang
    if canon == "yaml":
        if doc is not None and _named_compose(block, doc):
            return "compose"
        if looks_compose(block.code):
            return "compose"
    return canon


_COMPOSE_SERVICE_KEY = re.compile(
    r"^[ \t]+(?:image|build|ports|depends_on|environment|volumes|command|container_name|healthcheck|restart|networks|extends|<<)[ \t]*:", re.M
)


def looks_compose(code: str) -> bool:
    """A top-level `services:` mapping whose entries look like containers (image, build,
    ports…). Other formats have a `services:` key too (Kong's declarative config lists them)."""
    if "services:" not in code:
        return False
    m = re.search(r"^services:[ \t]*$", code, re.M)
    if m is None:
        return False
    for line in code[m.end():].split("\n")[1:]:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("- ") or s == "-" or line[:1] not in (" ", "\t"):
            return False  # a list of services, or nothing under the key
        break
    return _COMPOSE_SERVICE_KEY.search(code, m.end()) is not None


# Pseudo-HTTP: a request line (`POST /v1/orders`) or a status line, then headers and a body.
_HTTP_START = re.compile(
    r"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(?:/|https?://|\{\{)\S*(?:\s+HTTP/\d(?:\.\d)?)?\s*$|HTTP/\d(?:\.\d)?\s+\d{3}\b"
)
# Cassandra CQL in an `sql` block: no CQL parser is installed, so it is skipped, not failed.
_CQL = re.compile(r"\bKEYSPACE\b|\bCLUSTERING\s+ORDER\b|\bALLOW\s+FILTERING\b|\bUSING\s+TTL\b|\bWITH\s+replication\s*=", re.I)


# JSX in a `javascript` block (a React component): `return (<div …`, `<App />`.
_JSX = re.compile(r"(?:return|=>|=)\s*\(?\s*<[A-Za-z>]|<[A-Z]\w*(?:\s[^<>]*)?/?>")


def is_pseudo_http(code: str) -> bool:
    for line in code.split("\n", 8)[:8]:
        if not line.strip() or _is_comment(line):
            continue
        return _HTTP_START.match(line.strip()) is not None
    return False


def _named_compose(block: CodeBlock, doc: Document) -> bool:
    text = " ".join(_preceding_lines(doc, block, 2))
    return bool(re.search(r"`(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml`", text))


def _preceding_lines(doc: Document, block: CodeBlock, n: int) -> list[str]:
    """Up to n non-blank lines before the block, stopping at a heading or another fence."""
    out: list[str] = []
    i = block.line - 2
    while i >= 0 and len(out) < n:
        line = doc.lines[i]
        if FENCE_RE.match(line):
            break
        if line.lstrip().startswith("#"):
            break  # headings are judged separately (never the title)
        if line.strip():
            out.append(line)
        i -= 1
    return out



_COMMENT_LEADS = ("//", "#", "--", "/*", "<!--", "*", ";")


def _is_comment(line: str) -> bool:
    s = line.strip()
    return s.startswith(_COMMENT_LEADS) and not s.startswith("#!")


def _first_comment(code: str) -> str:
    """The block's leading comments (every comment line before the first line of code)."""
    out = []
    for line in code.split("\n", 12)[:12]:
        if not line.strip():
            continue
        if not _is_comment(line):
            break
        out.append(line.strip())
    return " ".join(out)


def bad_segments(code: str) -> frozenset[int]:
    """Code lines (1-based) that follow a ❌ / "wrong" comment inside a block, up to the next
    comment that is not one (a block that contrasts `-- ❌ …` and `-- ✅ …` in turn)."""
    low = code.lower()
    if not any(k in low for k in _BAD_KEYS):
        return frozenset()
    out: set[int] = set()
    bad = False
    lines = code.split("\n")
    for n, line in enumerate(lines, 1):
        if _is_comment(line):
            if _marked(BAD_MARK_RE, _BAD_KEYS, line):
                bad = True
            elif bad and (_marked(GOOD_MARK_RE, _GOOD_KEYS, line) or not lines[n - 2].strip()):
                bad = False
        if bad:
            out.add(n)
    return frozenset(out)


def is_bad_example(doc: Document, block: CodeBlock) -> bool:
    """Under a ❌ / Wrong / Bad / Anti-pattern marker (in the line or heading just before the
    block, or anywhere in its leading comments): may fail to parse and may elide."""
    marks = _preceding_lines(doc, block, 3) + [_first_comment(block.code)]
    # The nearest heading and its parent (an "Anti-patterns" section), never the title.
    chain = [h.text for h in doc.enclosing_headings(block.line) if h.level > 1][:2]
    # One substring pass over everything that could carry a marker settles almost every block.
    low = "\n".join(marks + chain).lower()
    if not any(k in low for k in _BAD_KEYS):
        return False
    return any(_marked(BAD_MARK_RE, _BAD_KEYS, m) for m in marks + chain if m)


def _is_good_half_of_pair(doc: Document, block: CodeBlock, bad: set[int]) -> bool:
    """The ✅ block right after a ❌ block illustrates the contrast; it may elide config."""
    if not bad:
        return False  # there is no ❌ block for this one to be the other half of
    marks = _preceding_lines(doc, block, 3) + [_first_comment(block.code)]
    if not any(_marked(GOOD_MARK_RE, _GOOD_KEYS, m) for m in marks if m):
        return False
    prev = [b for b in doc.code_blocks if b.line < block.line]
    if not prev or prev[-1].line not in bad:
        return False
    between = [h for h in doc.headings if prev[-1].line < h.line < block.line]
    return not between


# --- placeholders ----------------------------------------------------------------------

_ELLIPSIS = r"(?:\.\.\.+|…)"
_COMMENT_BODY = re.compile(
    rf"^(?:{_ELLIPSIS}|{_ELLIPSIS}\s*\(?\s*(?:rest|more|remaining|other|etc|same|existing|your|the rest|omitted|code|implementation|and so on)\b.*"
    r"|(?:the\s+)?rest of (?:the\s+)?(?:code|file|implementation|config|configuration|methods?|class|function)\b.*"
    r"|(?:add\s+)?your (?:code|logic|implementation|config(?:uration)?|settings|handlers?) here\b.*"
    r"|(?:implementation|code|logic|details) (?:here|omitted|goes here)\b.*"
    r"|todo:?\s*implement\b.*|implement (?:this|me|here)\b.*|same as (?:above|before)\b.*|etc\.?)$",
    re.I,
)
_COMMENT_STYLES: dict[str, tuple[str, ...]] = {
    "python": ("#",), "shell": ("#",), "yaml": ("#",), "compose": ("#",), "toml": ("#",),
    "ini": ("#", ";"), "dockerfile": ("#",), "graphql": ("#",),
    "js": ("//",), "ts": ("//",), "json": ("//",),
    "sql": ("--",), "sql-mysql": ("--", "#"), "sql-sqlite": ("--",),
}
_BLOCK_COMMENT_LANGS = {"js", "ts", "json", "sql", "sql-mysql", "sql-sqlite"}
_STAND_IN = re.compile(r"[{(\[]\s*/\*\s*([^*]{1,40}?)\s*\*/\s*[})\]]")
_BRACKET_ELLIPSIS = re.compile(rf"([{{(\[])\s*{_ELLIPSIS}\s*([}})\]])")
_YOUR_TOKEN = re.compile(
    r"<your[-_ ][^>\n]{1,40}>"
    r"|\byour[-_](?:[a-z0-9]+[-_])*(?:api[-_]?key|key|token|secret|password|passwd|pass|id|name|domain|host|url|email|bucket|project|account|region|username|user|here)\b"
    r"|\bYOUR_[A-Z0-9_]+\b|\bREPLACE[-_]?ME\b|\bINSERT[-_]YOUR[-_]\w+",
    re.I,
)


# Every placeholder pattern below contains one of these (lower-cased); most code has none,
# and substring tests are far cheaper than running the patterns on every line.
_PLACEHOLDER_KEYS = ("...", "…", "*/", "your", "replace_me", "replace-me", "replaceme", "rest of",
                     " here", "todo", "implement", "same as", " etc", "omitted", "remaining")


# A comment that elides settings, not code: the file still works without them
# (`# ... other config ...`, `// ... more fields`).
_OPTIONAL_ELISION = re.compile(
    r"\b(?:other|more|additional|remaining|existing|optional|rest of (?:the\s+)?)\s*(?:\w+\s+)?"
    r"(?:config(?:uration)?s?|settings?|options?|fields?|services?|propert(?:y|ies)|keys?|env(?:ironment)?|variables?|"
    r"headers?|columns?|rules?|routes?|plugins?|params?|parameters?|entries|values?|items?|rows?|"
    r"data|records?|examples?|inserts?|samples?)\b",
    re.I,
)
# Config formats run with settings left out: an elision comment there is not an error.
_CONFIG_LANGS = frozenset({"yaml", "compose", "toml", "ini", "dockerfile"})
_FILENAME_AFTER = re.compile(r"\.[A-Za-z]{1,5}\b")


def find_placeholders(lang: str, code: str) -> list[tuple[int, str, str]]:
    """(line within code, what, kind) for each stand-in that keeps code from running as
    written; kind is "elision" (code left out) or "credential" (a value the reader supplies)."""
    out: list[tuple[int, str, str]] = []
    low = code.lower()
    keys = [k for k in _PLACEHOLDER_KEYS if k in low]
    if not keys:
        return out
    styles = _COMMENT_STYLES.get(lang, ("#", "//"))
    block_comments = lang in _BLOCK_COMMENT_LANGS
    low_lines = low.split("\n")  # lower() never adds or removes a newline
    for n, line in enumerate(code.split("\n"), 1):
        line_low = low_lines[n - 1]
        if not any(k in line_low for k in keys):
            continue
        found = None
        kind = "elision"
        code_part = line
        for mark in styles:
            idx = _comment_start(line, mark)
            if idx >= 0:
                code_part = line[:idx]
                body = line[idx + len(mark):].strip().rstrip("*/").strip()
                if _COMMENT_BODY.match(body):
                    if lang in _CONFIG_LANGS or _OPTIONAL_ELISION.search(body):
                        found = ""  # settings left out: the code still runs
                    else:
                        found = f"elided code `{line.strip()[:60]}`"
                    break
        if found == "":
            continue
        if not found and block_comments:
            m = re.search(r"/\*\s*(.*?)\s*\*/", line)
            if m and _COMMENT_BODY.match(m.group(1)):
                found = f"elided code `{m.group(0)[:60]}`"
            else:
                m = _STAND_IN.search(line)
                if m:
                    found = f"stand-in `{m.group(0)}` instead of real values"
        if not found and lang not in ("yaml", "compose") and not lang.startswith("sql"):
            # SQL documentation writes `(...)` for "any arguments": template notation, not elision.
            # Only in the code part: `{ ... }` inside a comment describes, it does not elide.
            m = _BRACKET_ELLIPSIS.search(code_part)
            if m and not (lang == "python" and m.group(1) == "[" and "," in line[m.end():m.end() + 2]):
                found = f"elided code `{m.group(0)}`"
        if not found:
            for m in _YOUR_TOKEN.finditer(line):
                if _FILENAME_AFTER.match(line, m.end()):
                    continue  # `python your_crew.py`: a file the reader names, not a value
                found, kind = f"placeholder value `{m.group(0)}`", "credential"
                break
        if found:
            out.append((n, found, kind))
    return out


def _comment_start(line: str, mark: str) -> int:
    """Index of a comment marker that is at line start or after whitespace (not in a URL)."""
    start = 0
    while True:
        idx = line.find(mark, start)
        if idx < 0:
            return -1
        if idx == 0 or line[idx - 1] in " \t;,({[":
            if mark == "#" and idx + 1 < len(line) and line[idx + 1] == "!":
                return -1
            return idx
        start = idx + 1


# --- in-process validators -------------------------------------------------------------

def _check_python(code: str) -> list[tuple[int, int, str]]:
    code = _strip_repl(code)
    errs = _python_errors(code)
    if errs and _python_excerpt_ok(code, errs[0][2]):
        return []
    return errs


def _python_errors(code: str) -> list[tuple[int, int, str]]:
    try:
        # Python's own parser, without building AST objects (about 40% cheaper than ast.parse);
        # the symbol table also catches what the interpreter rejects before running anything
        # (a duplicate parameter, `global` after assignment).
        symtable.symtable(code, "<block>", "exec")
    except SyntaxError as exc:
        return [(exc.lineno or 1, exc.offset or 1, exc.msg)]
    except ValueError as exc:  # null bytes
        return [(1, 1, str(exc))]
    return []


_EXCERPT_ERRORS = re.compile(r"outside (?:async )?function|outside loop|unexpected indent|not properly in loop|asynchronous comprehension outside")


def _python_excerpt_ok(code: str, msg: str) -> bool:
    """A function-body or method excerpt (a top-level `return`, an indented `def`): valid when
    read as the body of a function, which is what the reader is shown."""
    if not _EXCERPT_ERRORS.search(msg):
        return False
    body = textwrap.dedent(code)
    if not _python_errors(body):
        return True
    wrapped = "async def _excerpt():\n" + textwrap.indent(body, "    ", lambda l: True) + "\n    pass\n"
    wrapped = "for _ in ():\n" + textwrap.indent(wrapped, "    ", lambda l: True)
    return not _python_errors(wrapped)


def _strip_repl(code: str) -> str:
    """A `>>>` session: keep the statements, blank out the echoed output (lines are kept)."""
    if ">>>" not in code:
        return code
    lines = code.split("\n")
    if not any(l.startswith(">>> ") or l == ">>>" for l in lines):
        return code
    out = []
    for l in lines:
        if l.startswith((">>> ", "... ")):
            out.append(l[4:])
        elif l in (">>>", "..."):
            out.append("")
        else:
            out.append("")
    return "\n".join(out)


def _check_json(code: str) -> list[tuple[int, int, str]]:
    if not code.strip():
        return []
    try:
        json.loads(code)
    except json.JSONDecodeError as exc:
        if _json_shown_as_data(code):
            return []
        return [(exc.lineno, exc.colno, exc.msg)]
    return []


# `...` / `…` standing for "more of the same" where a value or member would be: at the start
# of a line or after `[`, `{`, `,` or `:`, and before `,`, a closing bracket or the line's end.
# Spread (`...items`) is followed by a name and never matches.
_DATA_ELISION = re.compile(r"(?:(?<=[\[{,:(])|(?<=^)|(?<=\s))(?:\.\.\.|…)(?=\s*(?:[,\]})]|$|//|#))", re.M)
_JSON_LINE_COMMENT = re.compile(r"^\s*(?://|#).*$|\s+//[^\"\n]*$", re.M)
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")


def strip_data_elisions(code: str) -> str:
    """The block with `...` elisions and comments removed and trailing commas dropped."""
    text = _DATA_ELISION.sub("", code)
    text = _JSON_LINE_COMMENT.sub("", text)
    text = re.sub(r",(\s*,)+", ",", text)
    return _TRAILING_COMMA.sub(r"\1", text)


def _json_shown_as_data(code: str) -> bool:
    """JSON with `...` for "more of the same", comments, or one value per line (JSON Lines):
    a value shown to the reader, complete where it matters."""
    if "..." in code or "…" in code or "//" in code or "#" in code:
        try:
            json.loads(strip_data_elisions(code))
            return True
        except (json.JSONDecodeError, RecursionError):
            pass
    lines = [l for l in code.split("\n") if l.strip()]
    if len(lines) > 1:
        try:
            for l in lines:
                json.loads(l)
            return True
        except (json.JSONDecodeError, RecursionError):
            pass
    return False


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_error(exc: yaml.YAMLError) -> tuple[int, int, str]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    ctx = getattr(exc, "context", None)
    msg = f"{ctx}: {problem}" if ctx else str(problem)
    if mark is None:
        return (1, 1, msg)
    return (mark.line + 1, mark.column + 1, msg)


def _compose_all(code: str) -> tuple[list[yaml.Node], list[tuple[int, int, str]]]:
    # Composing (nodes, no Python objects) finds every syntax error and is what the compose
    # shape check needs, at about half the cost of loading.
    try:
        return list(yaml.compose_all(code, Loader=_YAML_LOADER)), []
    except yaml.YAMLError as exc:
        return [], [_yaml_error(exc)]


def _check_yaml(code: str) -> list[tuple[int, int, str]]:
    # Parser events are enough to find every syntax error, and cheaper than building nodes.
    try:
        for _ in yaml.parse(code, Loader=_YAML_LOADER):
            pass
    except yaml.YAMLError as exc:
        return [_yaml_error(exc)]
    return []


def _check_compose(code: str) -> list[tuple[int, int, str]]:
    nodes, errs = _compose_all(code)
    if errs:
        return errs
    if len(nodes) != 1:  # several documents (or none): the syntax check was enough
        return []
    node = nodes[0]
    if not isinstance(node, yaml.MappingNode):
        return [(node.start_mark.line + 1, 1, "a compose file is a mapping with a `services:` key")]
    top = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    if "services" not in top:
        return [(1, 1, "compose file has no `services:` mapping")]
    key, services = top["services"]
    if not isinstance(services, yaml.MappingNode):
        return [(key.start_mark.line + 1, 1, "`services:` must be a mapping of service names to settings")]
    out = []
    for sk, sv in services.value:
        name = getattr(sk, "value", "?")
        if not isinstance(sv, yaml.MappingNode):
            out.append((sk.start_mark.line + 1, sk.start_mark.column + 1, f"service `{name}` must be a mapping"))
            continue
        if not _mapping_keys(sv) & {"image", "build", "extends"}:
            out.append((sk.start_mark.line + 1, sk.start_mark.column + 1, f"service `{name}` has neither `image:` nor `build:`"))
    return out


def _mapping_keys(node: yaml.MappingNode, depth: int = 0) -> set[str]:
    """A mapping's keys, with those a `<<: *anchor` merge brings in (Compose files share
    settings that way, e.g. an `x-app` block holding the image)."""
    keys: set[str] = set()
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            continue
        if k.value == "<<" and depth < 10:
            for m in v.value if isinstance(v, yaml.SequenceNode) else [v]:
                if isinstance(m, yaml.MappingNode):
                    keys |= _mapping_keys(m, depth + 1)
        else:
            keys.add(k.value)
    return keys


def _check_toml(code: str) -> list[tuple[int, int, str]]:
    try:
        tomllib.loads(code)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            return [(int(m.group(1)), int(m.group(2)), msg[: m.start()].strip())]
        return [(1, 1, msg)]
    return []


def _check_ini(code: str) -> list[tuple[int, int, str]]:
    cp = configparser.ConfigParser(interpolation=None, strict=False, allow_no_value=True, comment_prefixes=("#", ";"))
    try:
        cp.read_string(code)
    except configparser.MissingSectionHeaderError as exc:
        return [(exc.lineno, 1, "settings before the first [section] header")]
    except configparser.ParsingError as exc:
        return [(ln, 1, f"cannot parse line {text!r}") for ln, text in exc.errors[:3]]
    except configparser.Error as exc:
        return [(getattr(exc, "lineno", 1) or 1, 1, exc.message if hasattr(exc, "message") else str(exc))]
    return []


def _check_graphql(code: str) -> list[tuple[int, int, str]]:
    from graphql import GraphQLSyntaxError, parse

    try:
        parse(code)
    except GraphQLSyntaxError as exc:
        loc = exc.locations[0] if exc.locations else None
        return [(loc.line if loc else 1, loc.column if loc else 1, exc.message)]
    return []


DOCKERFILE_INSTRUCTIONS = frozenset(
    "FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG "
    "ONBUILD STOPSIGNAL HEALTHCHECK SHELL".split()
)


def _check_dockerfile(code: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    lines = code.split("\n")
    escape = "\\"
    for ln in lines[:5]:
        m = re.match(r"#\s*escape\s*=\s*(\S)", ln)
        if m:
            escape = m.group(1)
    seen_from = False
    i = 0
    heredoc_end: str | None = None
    continued = False
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        i += 1
        if heredoc_end is not None:
            if s == heredoc_end:
                heredoc_end = None
            continue
        if continued:
            continued = s.endswith(escape)
            if not s.startswith("#"):
                m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", s)
                if m:
                    heredoc_end = m.group(1)
            continue
        if not s or s.startswith("#"):
            continue
        word = s.split(None, 1)[0]
        if word.upper() not in DOCKERFILE_INSTRUCTIONS:
            out.append((i, 1, f"unknown Dockerfile instruction `{word}`"))
            continue
        if word.upper() == "FROM":
            seen_from = True
        elif word.upper() != "ARG" and not seen_from:
            out.append((i, 1, f"`{word.upper()}` before the first FROM"))
            seen_from = True  # report once
        continued = s.endswith(escape)
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", s)
        if m and word.upper() in ("RUN", "COPY", "ADD"):
            heredoc_end = m.group(1)
    return out


# --- SQL -------------------------------------------------------------------------------

# Statement keywords PostgreSQL, MySQL and SQLite accept; an unknown first word is a typo.
SQL_STATEMENT_WORDS = frozenset(
    "ABORT ALTER ANALYZE ANALYSE BEGIN CALL CHECKPOINT CLOSE CLUSTER COMMENT COMMIT COPY CREATE "
    "DEALLOCATE DECLARE DELETE DISCARD DO DROP END EXECUTE EXPLAIN FETCH GRANT IMPORT INSERT "
    "LISTEN LOAD LOCK MERGE MOVE NOTIFY PREPARE REASSIGN REFRESH REINDEX RELEASE RESET REVOKE "
    "ROLLBACK SAVEPOINT SECURITY SELECT SET SHOW START TABLE TRUNCATE UNLISTEN UPDATE VACUUM "
    "VALUES WITH USE REPLACE PRAGMA ATTACH DETACH DESCRIBE DESC RENAME OPTIMIZE HANDLER SOURCE "
    "DELIMITER FLUSH KILL PURGE REPAIR CHECKSUM HELP INSTALL UNINSTALL XA GET SIGNAL RESIGNAL "
    "IF WHILE LOOP REPEAT RETURN UPSERT".split()
)
# Outside PostgreSQL only these statements are judged by sqlglot; it is reliable on them. Everything else
# (functions, DO blocks, policies, psql scripts) gets the lexical check alone, because a
# false alarm on valid PostgreSQL costs the author more than a missed typo there.
_SQL_TRUSTED = re.compile(
    r"^(?:SELECT|WITH|INSERT|UPDATE|DELETE|TRUNCATE|"
    r"CREATE\s+(?:UNIQUE\s+)?INDEX|CREATE\s+(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE|"
    r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW|DROP\s+(?:TABLE|INDEX|VIEW))\b",
    re.I,
)
_SQL_UNTRUSTED_BITS = re.compile(r"(?<!:):['\"]?[A-Za-z_]|\$\w*\$|\bEXCLUDE\b|\bWINDOW\b|\bLATERAL\b|\bCOLLATE\b", re.I)


@dataclass
class _Stmt:
    text: str
    start_line: int  # 1-based line in code where the statement begins
    text_line: int = 1  # line where `text` (comments included) begins
    balance_error: tuple[int, int, str] | None = None


_SQL_TOKEN = re.compile(
    r"--[^\n]*"  # line comment
    r"|/\*"  # block comment (nesting handled below)
    r"|[eE]'(?:[^'\\]|\\.|'')*(?:'|\Z)"  # E'...' string with backslash escapes
    r"|'(?:[^']|'')*(?:'|\Z)"  # string
    r'|"(?:[^"]|"")*(?:"|\Z)'  # quoted name
    r"|`[^`]*(?:`|\Z)"  # MySQL quoted name
    r"|(?<![\w$])\$(?:[A-Za-z_]\w*)?\$"  # dollar quote
    r"|[();]"
)


def _split_sql(code: str) -> tuple[list[_Stmt], list[tuple[int, int, str]]]:
    """Split on `;` outside strings, quoted names, dollar-quoted bodies and comments.

    psql meta-commands (`\\c db`) are blanked; unterminated literals and unbalanced
    parentheses are reported here, because they are certain whatever the dialect.
    """
    errors: list[tuple[int, int, str]] = []
    if "\\" in code:
        code = "\n".join("" if l.lstrip().startswith("\\") else l for l in code.split("\n"))
    src = code
    n = len(src)
    stmts: list[_Stmt] = []
    parens: list[int] = []  # offsets of open parentheses
    stmt_start: int | None = None  # offset of the first significant character
    buf_start = 0

    def line_at(off: int) -> int:
        return src.count("\n", 0, off) + 1

    def done() -> tuple[list[_Stmt], list[tuple[int, int, str]]]:
        found = errors + [st.balance_error for st in stmts if st.balance_error]
        return stmts, sorted(set(found))

    def flush(end: int) -> None:
        nonlocal buf_start, stmt_start, parens
        if stmt_start is not None:
            st = _Stmt(src[buf_start:end], line_at(stmt_start), line_at(buf_start))
            if parens:
                st.balance_error = (line_at(parens[0]), 1, "unclosed `(`")
            stmts.append(st)
        buf_start, stmt_start, parens = end + 1, None, []

    pos = 0
    while True:
        m = _SQL_TOKEN.search(src, pos)
        if m is None:
            if stmt_start is None and src[pos:].strip():
                stmt_start = pos + (len(src[pos:]) - len(src[pos:].lstrip()))
            break
        if stmt_start is None and src[pos:m.start()].strip():
            stmt_start = pos + (len(src[pos:m.start()]) - len(src[pos:m.start()].lstrip()))
        tok = m.group(0)
        pos = m.end()
        if tok.startswith("--"):
            continue
        if tok == "/*":
            level, j = 1, pos
            while level:
                a, b = src.find("/*", j), src.find("*/", j)
                if b < 0:
                    errors.append((line_at(m.start()), 1, "unterminated /* comment"))
                    flush(n)
                    return done()
                if 0 <= a < b:
                    level, j = level + 1, a + 2
                else:
                    level, j = level - 1, b + 2
            pos = j
            continue
        if stmt_start is None:
            stmt_start = m.start()
        if tok[0] in "'\"`eE":
            quote = tok[-1] if tok[0] not in "eE" else "'"
            if len(tok) < 2 or not tok.endswith(quote) or m.end() == n and _unterminated(tok):
                kind = "quoted name" if tok[0] in '"`' else "string"
                errors.append((line_at(m.start()), 1, f"unterminated {kind} (opened with {tok[0] if tok[0] not in 'eE' else tok[1]})"))
                flush(n)
                return done()
            continue
        if tok.startswith("$"):
            j = src.find(tok, pos)
            if j < 0:
                errors.append((line_at(m.start()), 1, f"unterminated {tok} body"))
                flush(n)
                return done()
            pos = j + len(tok)
            continue
        if tok == "(":
            parens.append(m.start())
        elif tok == ")":
            if parens:
                parens.pop()
            else:
                errors.append((line_at(m.start()), 1, "`)` without a matching `(`"))
        else:  # ;
            flush(m.start())
    flush(n)
    return done()


def _unterminated(tok: str) -> bool:
    """A quoted token that ran to the end of the text: closed only if its quotes pair up."""
    body = tok[2:] if tok[0] in "eE" else tok[1:]
    q = tok[1] if tok[0] in "eE" else tok[0]
    if not body.endswith(q):
        return True
    inner = body[:-1]
    if tok[0] in "eE":
        inner = re.sub(r"\\\\.", "", inner)
    return inner.replace(q + q, "").count(q) != 0


def _first_word(text: str) -> str:
    t = re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.S).lstrip(" \t\n(")
    m = re.match(r"[A-Za-z_]+", t)
    return m.group(0) if m else ""


# Dialects a plain `sql` block is tried in before a statement is called wrong: PostgreSQL by
# its own grammar (pglast), the rest by sqlglot.
SQL_DIALECTS = ("postgres", "mysql", "sqlite", "clickhouse", "duckdb", "tsql", "oracle", "snowflake", "bigquery")
_DIALECT_NAMES = {
    "postgres": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite", "clickhouse": "ClickHouse", "duckdb": "DuckDB",
    "tsql": "T-SQL", "oracle": "Oracle", "snowflake": "Snowflake", "bigquery": "BigQuery",
}
# Syntax templates and fragments: optional parts in brackets (`[PARTITION BY …]`), choices
# (`ASC | DESC`, `{ A | B }`), `<name>` slots, `...` for "more of the same".
_SQL_TEMPLATE = re.compile(
    r"\[\s*(?:[A-Z_]{2,}|,)|\{\s*\w+\s*\||\b[A-Z]{2,}\s*\|\s*[A-Z]{2,}\b|<[a-z][a-z_ ]*[a-z]>|\.\.\.|…"
)


def _check_sql(code: str, dialect: str = "postgres") -> list[tuple[int, int, str]]:
    code = strip_sql_output(code)
    if dialect == "postgres" and "\\" not in code and not _psql_only(code) and _pg_verdict(code) is None:
        return []  # the whole block is valid PostgreSQL: nothing to split and locate
    stmts, errors = _split_sql(code)
    if errors:
        return errors[:1]  # lexical errors are certain; parsing on would only add noise
    order = (dialect,) + tuple(d for d in SQL_DIALECTS if d != dialect)
    for st in stmts:
        word = _first_word(st.text)
        if not word:
            continue  # a fragment (`|| ' '`, `* FROM t`) shown on its own
        if word.upper() not in SQL_STATEMENT_WORDS:
            close = difflib.get_close_matches(word.upper(), SQL_STATEMENT_WORDS, 1, 0.8)
            if close:
                errors.append((st.start_line, 1, f"unknown SQL statement `{word}` (did you mean {close[0]}?)"))
            # Otherwise a clause or expression shown on its own line (`SUM(x) OVER (...)`):
            # a cheat sheet of fragments, not a statement that fails.
            continue
        if _psql_only(st.text):
            continue  # psql's own syntax: not SQL
        text = st.text.strip("\n")
        if dialect != "postgres":
            body = re.sub(r"--[^\n]*|/\*.*?\*/", lambda m: " " * len(m.group(0)) if "\n" not in m.group(0) else "\n" * m.group(0).count("\n"), st.text, flags=re.S)
            if not _SQL_TRUSTED.match(body.strip()) or _SQL_UNTRUSTED_BITS.search(body):
                continue  # sqlglot is judged only where it is reliable
        first = None
        for d in order:
            verdict = _pg_verdict(text) if d == "postgres" else _sqlglot_verdict(text, d)
            if verdict is None:
                break
            first = first or verdict
        else:
            if first is None or _SQL_TEMPLATE.search(re.sub(r"'(?:[^']|'')*'", "''", text)):
                continue  # a syntax template, not a statement
            rel, col, desc = first
            lead_nl = len(st.text) - len(st.text.lstrip("\n"))
            tried = ", ".join(_DIALECT_NAMES[d] for d in order)
            errors.append((st.text_line + lead_nl + rel - 1, col, f"{desc} (tried {tried})"))
    return errors


# Tool output pasted into an SQL block: EXPLAIN plans, psql and MySQL result tables, command
# tags and messages. Such lines are blanked (lines keep their numbers) before parsing.
_SQL_OUTPUT_LINE = re.compile(
    r"^\s*(?:QUERY PLAN\s*$|-{3,}[-+]*\s*$|\+-[-+]+\+?\s*$|\(\d+ rows?\)\s*$|\|.*\|\s*$"
    r"|(?:->\s+)?(?:Seq Scan|Parallel Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan|Bitmap Index Scan|Hash Join|"
    r"Hash Right Join|Hash Left Join|Hash|Nested Loop|Merge Join|Sort|Aggregate|HashAggregate|GroupAggregate|Limit|"
    r"Append|Merge Append|Gather(?: Merge)?|Materialize|Subquery Scan|CTE Scan|Result|Unique|WindowAgg|"
    r"Partial \w+|Finalize \w+|Memoize|Incremental Sort|Function Scan|Values Scan|BitmapOr|BitmapAnd|LockRows|"
    r"ModifyTable|Insert on|Update on|Delete on)\b(?:.*\(cost=|.*\(actual|\s+(?:on|using)\s+\w.*|\s*$)"
    r"|->\s+\w.*"
    r"|(?:Planning|Execution) Time:.*|(?:Planning|Execution):\s*$"
    r"|(?:Sort Key|Sort Method|Filter|Index Cond|Recheck Cond|Hash Cond|Merge Cond|Join Filter|Rows Removed by \w+|"
    r"Buffers|Heap Blocks|Output|Workers Planned|Workers Launched|Group Key|Subplans Removed|Worker \d+|Batches|"
    r"Memory Usage|Heap Fetches|JIT|Presorted Key|Cache Key|Cache Mode|Hits|Planned Partitions|Partitions|"
    r"Time|Timing|NOTICE|ERROR|DETAIL|HINT|WARNING|LINE \d+|Query OK|Records|Rows matched):.*"
    r"|.*\(cost=\d.*|.*\(actual (?:time|rows)=.*"
    r"|(?:INSERT \d+ \d+|UPDATE \d+|DELETE \d+|SELECT \d+|COPY \d+|Empty set.*|\d+ rows? in set.*|Query OK.*)\s*$"
    r"|(?:[^|;'\n]*\s\|\s)+[^|;'\n]*$)"
)
# Prompts of interactive SQL shells: `db=# `, `db=> `, `db-# `, `mysql> `, `sqlite> `.
_SQL_PROMPT = re.compile(r"^\s*(?:[\w-]+[=\-(][#>]|mysql>|sqlite>|MariaDB \[[^\]]*\]>|->)\s?")


def strip_sql_output(code: str) -> str:
    """An SQL block as the statements it holds: output lines blanked; in a prompt session
    only the prompt lines (and their continuations) are kept, without the prompt."""
    lines = code.split("\n")
    if any(re.match(r"^\s*(?:[\w-]+=[#>]|mysql>|sqlite>)\s", l) for l in lines):
        out = []
        for l in lines:
            m = _SQL_PROMPT.match(l)
            out.append(l[m.end():] if m else "")
        return "\n".join(out)
    if not any(_SQL_OUTPUT_LINE.match(l) for l in lines if l.strip()):
        return code
    return "\n".join("" if l.strip() and not l.lstrip().startswith("--") and _SQL_OUTPUT_LINE.match(l) and not _SQL_STATEMENT_START.match(l) else l for l in lines)


_SQL_STATEMENT_START = re.compile(r"^\s*(?:SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|EXPLAIN)\s", re.I)


# psql variables (:name, :'name') and COPY … FROM STDIN data are psql's, not SQL's.
_PSQL_ONLY = re.compile(r"(?<![:\w]):['\"]?[A-Za-z_]|\bFROM\s+STDIN\b", re.I)


def _psql_only(text: str) -> bool:
    # Substring tests first: the pattern's look-behind makes it slow to scan with.
    return (":" in text or "stdin" in text.lower()) and _PSQL_ONLY.search(text) is not None


@lru_cache(maxsize=4096)
def _pg_verdict(text: str) -> tuple[int, int, str] | None:
    """(line in text, column, message) of PostgreSQL's parse error, None when it parses."""
    from pglast import parser

    try:
        # Splitting with the parser parses every statement (same errors, same positions) without
        # serialising the parse tree: about half the cost of parse_sql_json.
        parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError as exc:
        msg = str(exc.args[0]) if exc.args else "syntax error"
        # The location is a byte offset into the UTF-8 text.
        loc = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        before = text.encode("utf-8")[:loc].decode("utf-8", "ignore")
        return (before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1, msg)
    return None


@lru_cache(maxsize=8)
def _sql_dialect(name: str):  # noqa: ANN202 - sqlglot's Dialect, imported lazily
    # Resolving the dialect by name on every statement costs as much as tokenising it.
    from sqlglot.dialects.dialect import Dialect

    logging.getLogger("sqlglot").setLevel(logging.CRITICAL)  # its warnings are not the author's errors

    return Dialect.get_or_raise(name)


@lru_cache(maxsize=4096)
def _sqlglot_verdict(text: str, dialect: str) -> tuple[int, int, str] | None:
    """(line in text, column, message) of sqlglot's first error, None when it parses.

    Memoised: the same statements recur across a site's documents (schemas, seed data).
    """
    from sqlglot.errors import ParseError, TokenError

    try:
        _sql_dialect(dialect).parse(text)
    except (ParseError, TokenError) as exc:
        info = (getattr(exc, "errors", None) or [{}])[0]
        return (int(info.get("line") or 1), int(info.get("col") or 1), str(info.get("description") or str(exc).splitlines()[0]))
    except Exception:  # a crash inside the parser is not the author's error
        return None
    return None


# --- shell -----------------------------------------------------------------------------

def shell_commands(code: str) -> str:
    """A shell block as a script: prompt sessions (`$ `, `user@host:~$ `, `❯ `) keep only
    commands (output lines blanked)."""
    if "$ " not in code and "❯ " not in code and "➜ " not in code:
        return code
    lines = code.split("\n")
    prompts = [l for l in lines if _SHELL_PROMPT.match(l)]
    if not prompts:
        return code
    out: list[str] = []
    cont = False
    for l in lines:
        m = _SHELL_PROMPT.match(l)
        if m:
            out.append(m.group(1))
            cont = m.group(1).rstrip().endswith("\\")
        elif cont:
            out.append(l)
            cont = l.rstrip().endswith("\\")
        else:
            out.append("")
    return "\n".join(out)


_SHELL_PROMPT = re.compile(r"^\s*(?:\$|[\w.-]+@[\w.-]+(?::[^\s$#]*)?\$|❯|➜(?:\s+\S+)?)\s(.*)$")
# Output pasted after a command, without a prompt: test-runner summaries (`Tests: 5 passed
# (5 total)`), timings, check marks and box drawing. A shell error on such a line is not the
# author's mistake.
_SHELL_OUTPUT_LINE = re.compile(
    r"^\s*(?:[A-Z][A-Za-z ]{1,30}:\s|\d+(?:\.\d+)?\s*(?:ms|s|%|rows?|requests?|ops)\b|[✓✔✗✘×→•│┌└├─═║╔╚⠋]|"
    r"\(\d+ rows?\)|[=-]{3,}\s*$|\{\s*\"|\[\s*\{)"
)
_SIMPLE_SHELL_LINE = re.compile(r"^[\w\s./:=,@%+~*#-]*\\?$")
_SHELL_RESERVED = frozenset("if then else elif fi case esac for select while until do done function time in { } [[ ]] !".split())


def _trivially_valid_shell(code: str) -> bool:
    """Plain commands (no quotes, substitutions, operators or keywords) cannot fail `bash -n`;
    most tutorial shell blocks are like that, and skipping them saves a process start each."""
    for line in code.split("\n"):
        body = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        if not _SIMPLE_SHELL_LINE.match(body):
            return False
        words = body.split()
        if words and words[0] in _SHELL_RESERVED:
            return False
    return True


def _run_bash(codes: list[str]) -> list[list[tuple[int, int, str]]]:
    """`bash -n` every script, in one bash process that loops over the temp files."""
    bash = shutil.which("bash")
    todo = [i for i, c in enumerate(codes) if not _trivially_valid_shell(c)]
    if bash is None or not todo:
        return [[] for _ in codes]
    if len(todo) < len(codes):
        sub = _run_bash_all(bash, [codes[i] for i in todo])
        out: list[list[tuple[int, int, str]]] = [[] for _ in codes]
        for i, errs in zip(todo, sub):
            out[i] = errs
        return out
    return _run_bash_all(bash, codes)


def _run_bash_all(bash: str, codes: list[str]) -> list[list[tuple[int, int, str]]]:
    """`bash -n` many scripts with as few processes as possible.

    The scripts are parsed together, each wrapped in a subshell `( … )` so an unclosed `if`,
    `do` or brace cannot run into the next one; a script whose quotes or here-documents could
    (an odd number of quote characters, `<<`) is parsed on its own. When a combined parse
    fails, the group is halved until each failing script is parsed alone, exactly as
    `bash -n` sees it. All valid: one process for the whole batch.
    """
    results: list[list[tuple[int, int, str]]] = [[] for _ in codes]
    with tempfile.TemporaryDirectory(prefix="authorkit-sh-") as tmp:
        counter = [0]

        def bash_n(text: str) -> str | None:
            counter[0] += 1
            path = Path(tmp) / f"b{counter[0]}.sh"
            path.write_text(text, encoding="utf-8")
            try:
                proc = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, timeout=120, env={**os.environ, "LC_ALL": "C"})
            except (OSError, subprocess.TimeoutExpired):
                return None
            return proc.stderr if proc.returncode else ""

        def alone(i: int) -> None:
            out = bash_n(codes[i])
            if out:
                m = re.search(r"^.*?: line (\d+): (.*)$", out, re.M)
                # bash reports "unexpected end of file" after the real complaint; keep the first.
                results[i] = [(int(m.group(1)), 1, m.group(2).strip())] if m else [(1, 1, out.strip().splitlines()[0])]

        def together(idxs: list[int]) -> None:
            if len(idxs) == 1:
                alone(idxs[0])
                return
            out = bash_n("".join(f"(\n{codes[i]}\n)\n" for i in idxs))
            if out == "" or out is None:
                return
            half = len(idxs) // 2
            together(idxs[:half])
            together(idxs[half:])

        groupable = [i for i, c in enumerate(codes) if _isolated_shell(c)]
        grouped = set(groupable)
        for i in range(len(codes)):
            if i not in grouped:
                alone(i)
        if groupable:
            together(groupable)
    return results


_SHELL_ESCAPE = re.compile(r"\\.", re.S)
_SHELL_COMMENT = re.compile(r"(?:^|(?<=\s))#[^\n]*")


def _isolated_shell(code: str) -> bool:
    """Whether a script's quoting closes within it, so it can be parsed next to others."""
    if "<<" in code or "`" in code:
        return False
    text = _SHELL_ESCAPE.sub("", code) if "\\" in code else code
    if "#" in text:  # the comment pattern looks behind at every position: only when needed
        text = _SHELL_COMMENT.sub("", text)
    return text.count("'") % 2 == 0 and text.count('"') % 2 == 0


# --- JavaScript / TypeScript -----------------------------------------------------------

JS_CHECKER = Path(__file__).with_name("js_check.js")


class _NodeChecker:
    """One long-lived Node process per Python process, fed a batch per line.

    A check run sends a batch per group of documents; starting Node for each cost more than
    compiling the blocks. The process belongs to the Python process that started it (a forked
    worker starts its own) and exits when its stdin closes.
    """

    TIMEOUT_S = 120  # one batch; a hung compile must not hang the whole check

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._owner = 0
        self._lock = threading.Lock()
        self._at_exit = False
        # A forked child starts with no Node process of its own and a lock nobody holds.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._proc, self._owner, self._lock = None, 0, threading.Lock()

    def _start(self, node: str) -> subprocess.Popen[str]:
        if self._proc is None or self._owner != os.getpid() or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [node, "--experimental-vm-modules", "--no-warnings", str(JS_CHECKER)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
            )
            self._owner = os.getpid()
            if not self._at_exit:
                atexit.register(self.close)
                self._at_exit = True
        return self._proc

    def request(self, node: str, payload: str) -> str | None:
        with self._lock:
            for _ in range(2):  # a process that died is started again once
                try:
                    proc = self._start(node)
                    assert proc.stdin is not None and proc.stdout is not None
                    watchdog = threading.Timer(self.TIMEOUT_S, proc.kill)
                    # A daemon: a Ctrl-C landing before the timer is cancelled must not keep the
                    # process alive at exit, waiting out the timeout.
                    watchdog.daemon = True
                    watchdog.start()
                    try:
                        proc.stdin.write(payload + "\n")
                        proc.stdin.flush()
                        line = proc.stdout.readline()
                    finally:
                        watchdog.cancel()
                except OSError:
                    line = ""
                if line:
                    return line
                self._proc = None
            return None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or self._owner != os.getpid():
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()


_NODES = [_NodeChecker()]


def close_node() -> None:
    """End this process's Node checker, if it started one. A pool worker calls it as it exits:
    workers leave through os._exit, which skips atexit, and Node would outlive the run."""
    _NODES[0].close()


def _run_node(blocks: list[tuple[str, str]]) -> list[tuple[list[tuple[int, int, str]], str | None, bool]] | None:
    """Compile every (lang, code) in Node. None when Node is not installed; a block Node could
    not answer for is skipped with the reason."""
    node = shutil.which("node")
    if node is None:
        return None
    if not blocks:
        return []
    payload = json.dumps([{"id": i, "lang": lang, "code": code} for i, (lang, code) in enumerate(blocks)])
    line = _NODES[0].request(node, payload)
    try:
        results = json.loads(line) if line else None
    except json.JSONDecodeError:
        results = None
    if results is None:
        return [([], "the Node checker did not answer (it crashed or timed out)", False) for _ in blocks]
    out: list[tuple[list[tuple[int, int, str]], str | None, bool]] = [([], None, False) for _ in blocks]
    for r in results:
        i = r["id"]
        if "skipped" in r:
            out[i] = ([], r["skipped"], False)
        elif not r.get("ok"):
            out[i] = ([(max(int(r.get("line") or 1), 1), int(r.get("col") or 1), r.get("message", "syntax error"))], None, False)
        else:
            out[i] = ([], None, bool(r.get("data")))
    return out


# --- the batch -------------------------------------------------------------------------

_IN_PROCESS = {
    "python": _check_python,
    "json": _check_json,
    "yaml": _check_yaml,
    "compose": _check_compose,
    "toml": _check_toml,
    "ini": _check_ini,
    "graphql": _check_graphql,
    "dockerfile": _check_dockerfile,
    "sql": _check_sql,
    "sql-mysql": lambda c: _check_sql(c, "mysql"),
    "sql-sqlite": lambda c: _check_sql(c, "sqlite"),
}
SUPPORTED = frozenset(_IN_PROCESS) | {"shell", "js", "ts"}
_SKIP_REASONS = {"proto": "no protobuf parser installed", "protobuf": "no protobuf parser installed"}


_POOL: list[tuple[int, ThreadPoolExecutor]] = []


def _threads() -> ThreadPoolExecutor:
    """Two threads for the external checkers, kept for the life of the process (a check run
    calls in once per group of documents); a forked worker makes its own."""
    if not _POOL or _POOL[0][0] != os.getpid():
        _POOL[:] = [(os.getpid(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="authorkit-check"))]
    return _POOL[0][1]


def _in_process(lang: str, code: str) -> list[tuple[int, int, str]]:
    try:
        return _IN_PROCESS[lang](code)
    except RecursionError:
        # A parser that recurses per bracket (json, tomllib) gives up on deep nesting: a
        # finding for this block, never the end of the whole check.
        return [(1, 1, "nested too deeply to parse (hundreds of open brackets)")]


def check_snippets(snippets: list[Snippet]) -> tuple[list[list[Problem]], list[str | None]]:
    """Problems per snippet, and per snippet the reason it was skipped (None when checked)."""
    problems: list[list[Problem]] = [[] for _ in snippets]
    skipped: list[str | None] = [None] * len(snippets)
    raw: list[list[tuple[int, int, str]]] = [[] for _ in snippets]
    data: set[int] = set()  # blocks that are a value shown as data (JSON, object literal)
    shell_idx, js_idx = [], []
    for i, sn in enumerate(snippets):
        if sn.lang not in SUPPORTED:
            skipped[i] = _SKIP_REASONS.get(sn.lang, "no checker for this language")
            continue
        if not sn.check_syntax:
            continue
        if sn.lang == "shell":
            shell_idx.append(i)
        elif sn.lang in ("js", "ts"):
            js_idx.append(i)
    # The external checkers run in threads (they wait on their process) while the
    # in-process parsers work, so their start-up time is hidden.
    pool = _threads()
    bash_future = pool.submit(_run_bash, [shell_commands(snippets[i].code) for i in shell_idx]) if shell_idx else None
    node_future = pool.submit(_run_node, [(snippets[i].lang, snippets[i].code) for i in js_idx]) if js_idx else None
    for i, sn in enumerate(snippets):
        if sn.check_syntax and sn.lang in _IN_PROCESS and skipped[i] is None:
            raw[i] = _in_process(sn.lang, sn.code)
    bash_results = bash_future.result() if bash_future else []
    node_results = node_future.result() if node_future else None
    for i, errs in zip(shell_idx, bash_results):
        raw[i] = errs
    if js_idx:
        res = node_results
        for k, i in enumerate(js_idx):
            if res is None:
                skipped[i] = "node is not installed"
            else:
                raw[i], skipped[i], is_data = res[k]
                if is_data:
                    data.add(i)
    for i, sn in enumerate(snippets):
        if skipped[i]:
            continue
        strict = sn.mode == "strict"
        placeholder_lines: set[int] = set()
        if sn.check_placeholders:
            for ln, what, kind in find_placeholders(sn.lang, sn.code):
                placeholder_lines.add(ln)
                if not strict or ln in sn.bad_lines:
                    continue  # an illustration or a deliberate bad example may leave things out
                if kind == "elision" and (i in data or sn.lang == "json"):
                    continue  # `[...]` in a value shown as data: "more of the same"
                if kind == "credential":
                    problems[i].append(Problem(
                        "code-placeholder", sn.first_line + ln - 1, f"{what}: the reader must supply this value",
                        "say in the text what to put there, or read it from an environment variable", severity="warning",
                    ))
                    continue
                problems[i].append(Problem(
                    "code-placeholder", sn.first_line + ln - 1, f"placeholder in {sn.lang} code: {what}",
                    "write the complete code: readers copy it and run it as it stands",
                ))
        # One syntax finding per block: after the first error a parser's complaints are echoes.
        last_line = max(sn.code.count("\n") + (0 if sn.code.endswith("\n") else 1), 1)
        for ln, col, msg in raw[i][:1]:
            ln = min(max(ln, 1), last_line)  # "end of input" is reported on the last line, not the fence
            if ln in placeholder_lines or ln in sn.bad_lines:
                continue  # explained by the placeholder, or a deliberate bad example
            if sn.lang == "shell" and _SHELL_OUTPUT_LINE.match(sn.code.split("\n")[ln - 1]):
                continue  # output pasted after a command
            problems[i].append(Problem(
                "code-syntax", sn.first_line + ln - 1, f"{_LANG_NAMES.get(sn.lang, sn.lang)} syntax error: {msg}",
                "fix the code, or mark a deliberate bad example with ❌" if strict
                else "an illustration need not run; if readers should run it, fix it or move it into the build",
                col, severity="error" if strict else "info",
            ))
    return problems, skipped


_LANG_NAMES = {
    "python": "Python", "js": "JavaScript", "ts": "TypeScript", "json": "JSON", "yaml": "YAML",
    "compose": "Docker Compose", "sql": "SQL", "sql-mysql": "MySQL", "sql-sqlite": "SQLite",
    "shell": "shell", "dockerfile": "Dockerfile", "toml": "TOML", "ini": "INI", "graphql": "GraphQL",
}


def document_snippets(doc: Document, modes: dict[int, str]) -> tuple[list[tuple[CodeBlock, Snippet]], list[tuple[CodeBlock, str, str]], int]:
    """Snippets to check for one document, the blocks skipped (block, lang, reason), lenient count."""
    out: list[tuple[CodeBlock, Snippet]] = []
    skipped: list[tuple[CodeBlock, str, str]] = []
    lenient = 0
    bad: set[int] = set()
    for b in doc.code_blocks:
        if not b.fenced or not getattr(b, "closed", True):
            continue  # an unclosed fence is reported as such; its extent is unknown
        mode = modes.get(b.line, "strict")
        if mode == "output":
            continue
        lang = block_language(b, doc)
        if not lang or is_pseudo_http(b.code):
            continue
        if lang.startswith("sql") and _CQL.search(b.code):
            skipped.append((b, "cql", "Cassandra CQL: no CQL parser installed"))
            continue
        if lang == "js" and "<" in b.code and _JSX.search(b.code):  # in TypeScript `<T>` is a generic
            skipped.append((b, "jsx", "JSX: Node's compiler does not parse it"))
            continue
        if lang not in SUPPORTED:
            skipped.append((b, lang, _SKIP_REASONS.get(lang, "no checker for this language")))
            continue
        bad_example = mode == "problem" or is_bad_example(doc, b)
        if bad_example:
            bad.add(b.line)
        relaxed = bad_example or mode == "sketch"
        if relaxed:
            lenient += 1
        illustration = _is_good_half_of_pair(doc, b, bad)
        out.append((b, Snippet(lang, b.code, b.first_code_line, check_syntax=not relaxed,
                               check_placeholders=not relaxed and not illustration,
                               mode="illustrative" if mode == "illustrative" else "strict",
                               bad_lines=bad_segments(b.code))))
    return out, skipped, lenient


def check_documents(
    items: list[tuple[Document, "StyleGuide | None", dict[int, str]]],
    stats: CodeStats | None = None,
) -> list[list[Finding]]:
    """Findings per document, in order. `items` are (document, guide, fence line -> code mode)."""
    global _LAST_STATS
    st = stats if stats is not None else CodeStats()
    flat: list[tuple[int, CodeBlock, Snippet]] = []
    for d, (doc, _guide, modes) in enumerate(items):
        snippets, skipped, lenient = document_snippets(doc, modes or {})
        st.lenient += lenient
        st.doc_lenient[d] += lenient
        for b, lang, reason in skipped:
            st.skipped.append(SkippedBlock(d, b.line, lang, reason))
        flat.extend((d, b, s) for b, s in snippets)
    problems, skipped_reasons = check_snippets([s for _, _, s in flat])
    findings: list[list[Finding]] = [[] for _ in items]
    for (d, b, s), probs, reason in zip(flat, problems, skipped_reasons):
        if reason:
            st.skipped.append(SkippedBlock(d, b.line, s.lang, reason))
            continue
        if s.check_syntax:
            st.checked[s.lang] += 1
            st.doc_checked.setdefault(d, Counter())[s.lang] += 1
        for p in probs:
            findings[d].append(Finding(p.rule, Severity.parse(p.severity), p.line, p.message, p.hint, p.column))
    _LAST_STATS = st
    return findings


def check_files(paths: Iterable[tuple[str, str]]) -> dict[str, list[Problem]]:
    """Check extracted files: (name, text) -> problems with file line numbers."""
    named: list[tuple[str, Snippet]] = []
    for name, text in paths:
        lang = lang_for_filename(name)
        if lang == "yaml" and looks_compose(text):
            lang = "compose"
        if lang:
            named.append((name, Snippet(lang, text, 1)))
    problems, _ = check_snippets([s for _, s in named])
    return {name: probs for (name, _), probs in zip(named, problems)}
