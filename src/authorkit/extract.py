"""Extract the files a POC builds into a folder, and say what is missing for it to run.

A block becomes a file when its info string (`title="app.js"`), the text just before it
("Create `docker-compose.yml`:") or its heading ("Step 3: Create Schema (`schema.sql`)")
names one. Blocks that say "continued" append to the file. Shell blocks of the setup steps
become `setup.sh`; the expected-output block becomes `EXPECTED_OUTPUT.txt`.

Planning (`plan_extract`) is pure; `write_tree` writes atomically and never outside DIR;
`check_tree` runs the code validators and cross-file checks on the result.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from authorkit.codecheck import (
    NOT_CODE,
    block_language,
    check_files,
    is_bad_example,
    lang_for_filename,
    shell_commands,
)
from authorkit.document import CodeBlock, Document, step_number
from authorkit.errors import InputError, WriteRefused
from authorkit.textio import atomic_write_text

SETUP_SCRIPT = "setup.sh"
EXPECTED_OUTPUT = "EXPECTED_OUTPUT.txt"

_EXTENSIONS = (
    "js mjs cjs ts tsx jsx py sql json yml yaml toml ini cfg conf sh bash env txt md html css go "
    "rs java rb php proto graphql gql xml properties lua c h cpp cs kt swift tf hcl lock csv"
).split()
_BARE_NAMES = {"Dockerfile", "Containerfile", "Makefile", "Procfile", "Gemfile", ".env", ".gitignore", ".dockerignore", ".env.example"}
_FILE_TOKEN = re.compile(r"`([^`\s]+)`|\*\*([^*\s]+)\*\*")
_CONTINUED = re.compile(r"\bcontinued\b|\(cont(?:'d|\.)?\)|\bappend\b|\badd (?:this )?to (?:the end of )?`", re.I)
_NAMING_VERB = re.compile(
    r"^\W*(?:create|add|update|edit|save|write|put|make|open|modify|replace|append|then|now|next|in|file|"
    r"here(?:'s| is)|this is|contents? of|paste|define)\b",
    re.I,
)
_SETUP_HEADING = re.compile(r"\b(?:setup|set up|install|installation|prerequisites?|getting started|project setup|start)\b", re.I)
_NOT_SETUP_HEADING = re.compile(r"\b(?:clean ?up|teardown|tear down|run it|test it|extend it|what's next)\b", re.I)
_EXPECTED_HEADING = re.compile(r"^(?:expected|sample|example) (?:output|results?)\b", re.I)


def looks_like_filename(token: str) -> bool:
    if not token or "://" in token or token.startswith("-") or ":" in token:
        return False
    base = token.rstrip("/").rsplit("/", 1)[-1]
    if base in _BARE_NAMES:
        return True
    if "." not in base or base.startswith(".") and base.count(".") == 1 and base not in _BARE_NAMES:
        return False
    ext = base.rsplit(".", 1)[1]
    return ext.lower() in _EXTENSIONS and not re.fullmatch(r"[\d.]+", base)


def filenames_in(text: str) -> list[str]:
    out = []
    for m in _FILE_TOKEN.finditer(text):
        tok = (m.group(1) or m.group(2) or "").strip()
        if looks_like_filename(tok):
            out.append(tok)
    return out


def unsafe_reason(name: str) -> str | None:
    """Why a block's file name may not be written under DIR (None when it is safe)."""
    if not name or "\x00" in name or any(ord(c) < 32 for c in name):
        return "the name has control characters"
    if name.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:[\\/]", name):
        return "absolute paths are refused"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return "`..` would write outside the target folder"
    if all(p in ("", ".") for p in parts):
        return "`.` is the target folder itself, not a file"
    long = next((p for p in parts if len(p.encode("utf-8")) > 255), None)
    if long is not None:
        return f"a name part of {len(long.encode('utf-8'))} bytes is longer than file systems allow (255)"
    if len(name.encode("utf-8")) > 1024:
        return "the path is longer than 1024 bytes"
    return None


def name_conflicts(names: list[str]) -> list[tuple[str, str]]:
    """(file, path under it) pairs where one block's file is another's folder (`lib`, `lib/a.js`)."""
    have = set(names)
    out = []
    for n in names:
        parts = PurePosixPath(n).parts
        for i in range(1, len(parts)):
            prefix = str(PurePosixPath(*parts[:i]))
            if prefix in have:
                out.append((prefix, n))
    return out


@dataclass
class ExtractedFile:
    name: str
    text: str
    lines: list[int] = field(default_factory=list)  # document lines of the source blocks
    executable: bool = False


@dataclass(frozen=True)
class Issue:
    kind: str  # missing-file | conflict | unnamed | unsafe-path | syntax | placeholder | cross-file
    line: int  # document line (0 when the issue is about the tree as a whole)
    message: str
    file: str = ""  # for --check findings: the extracted file and its own line
    file_line: int = 0


@dataclass
class ExtractResult:
    files: dict[str, ExtractedFile] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    commands: list[tuple[int, str]] = field(default_factory=list)  # (line, shell text) run by the reader
    ignored: list[tuple[int, str]] = field(default_factory=list)  # (line, lang) of illustration blocks
    output_issues: list["Issue"] = field(default_factory=list)  # Expected Output vs the code (--check)



def _preceding_text(doc: Document, block: CodeBlock, n: int = 2) -> list[str]:
    out: list[str] = []
    i = block.line - 2
    while i >= 0 and len(out) < n:
        line = doc.lines[i]
        if re.match(r"^\s*(```|~~~)", line) or line.lstrip().startswith("#"):
            break
        if line.strip():
            out.append(line.strip())
        i -= 1
    return out


def _compatible(name: str, lang: str) -> bool:
    want = lang_for_filename(name)
    if not lang or want is None:
        return True
    if want == lang:
        return True
    return {want, lang} <= {"yaml", "compose"} or {want, lang} <= {"js", "ts"}


def _name_from_info(block: CodeBlock) -> str | None:
    m = re.search(r"""\b(?:title|filename|file|name)\s*=\s*(?:"([^"]+)"|'([^']+)'|(\S+))""", block.info, re.I)
    if m:
        return (m.group(1) or m.group(2) or m.group(3)).strip()
    return None


_COMMENT_NAME = re.compile(
    r"^\s*(?://|#|--|;|/\*|<!--)\s*(?:(?:file(?:name)?|path)\s*:\s*)?`?([\w./-]+)`?\s*(?:\*/|-->)?\s*$", re.I
)


def _name_from_comment(block: CodeBlock, lang: str) -> str | None:
    """A first-line comment that is only a file name: `// cache.js`, `# docker-compose.yml`,
    `-- init.sql` (after a shebang line, the second line)."""
    lines = block.code.split("\n", 2)
    first = lines[0]
    if first.startswith("#!") and len(lines) > 1:
        first = lines[1]
    m = _COMMENT_NAME.match(first)
    if not m:
        return None
    name = m.group(1)
    if not looks_like_filename(name) or not _compatible(name, lang):
        return None
    # `# app.py` in a Python block is a comment; `// x` in YAML is not: the comment must suit the file.
    marker = first.strip()[:2]
    kind = lang_for_filename(name) or lang
    if marker.startswith("#") and kind in ("js", "ts", "sql", "json"):
        return None
    if marker == "//" and kind in ("python", "shell", "yaml", "compose", "sql", "dockerfile"):
        return None
    if marker == "--" and kind not in ("sql", None, ""):
        return None
    return name


def _name_from_text(lines: list[str], lang: str) -> tuple[str | None, bool]:
    for line in lines:
        names = [n for n in filenames_in(line) if _compatible(n, lang)]
        if names and (line.rstrip().endswith(":") or _NAMING_VERB.match(line)):
            return names[0], bool(_CONTINUED.search(line))
    return None, False


def plan_extract(doc: Document) -> ExtractResult:
    res = ExtractResult()
    setup: list[tuple[CodeBlock, str]] = []
    expected: list[tuple[CodeBlock, str]] = []
    heading_used: set[int] = set()  # heading lines whose file name a block already took
    for b in doc.code_blocks:
        if not b.fenced:
            continue
        lang = block_language(b, doc)
        chain = doc.enclosing_headings(b.line)
        near = chain[0] if chain else None
        name = _name_from_info(b)
        continued = False
        if name is None:
            name, continued = _name_from_text(_preceding_text(doc, b), lang)
        if name is None:
            name = _name_from_comment(b, lang)
            if name is not None:
                continued = any(_CONTINUED.search(t) for t in _preceding_text(doc, b, 1))
        if name is None and near is not None and near.line not in heading_used and lang != "shell":
            names = [n for n in filenames_in(near.text) if _compatible(n, lang)]
            if not names and looks_like_filename(near.norm) and _compatible(near.norm, lang):
                names = [near.norm]
            if names and (lang or b.lang not in NOT_CODE):
                name = names[0]
                continued = bool(_CONTINUED.search(near.text))
                heading_used.add(near.line)
        if name is not None and lang == "" and b.lang in NOT_CODE and b.lang:
            name = None  # ```text / ```output blocks are not files even under a named heading
        if name is not None:
            _add_file(res, b, name, continued)
            continue
        in_expected = any(_EXPECTED_HEADING.match(h.norm) for h in chain[:2]) or any(
            re.match(r"^\W*expected(?: output)?\W*$", t, re.I) for t in _preceding_text(doc, b, 1)
        )
        if lang == "shell" or b.lang in ("console", "shell-session", "terminal"):
            cmds = shell_commands(b.code)
            if not any(_NOT_SETUP_HEADING.search(h.norm) for h in chain) and _is_setup(chain):
                setup.append((b, cmds))
            if not any(re.search(r"clean ?up|tear ?down", h.norm) for h in chain):
                res.commands.append((b.line, cmds))
        elif in_expected and lang == "" and any(_EXPECTED_HEADING.match(h.norm) for h in chain[:2]):
            title = chain[0].text if chain and not _EXPECTED_HEADING.match(chain[0].norm) else ""
            expected.append((b, title))
        elif lang and b.lang not in NOT_CODE:
            build_step = any(step_number(h.text) is not None for h in chain[:2])
            if build_step and not is_bad_example(doc, b):
                res.issues.append(Issue("unnamed", b.line, f"{b.lang} block in `{near.text if near else ''}` names no file; "
                                        "name it in the heading (`app.js`), the line before (Create `app.js`:) or the info string (title=\"app.js\")"))
            else:
                res.ignored.append((b.line, b.lang))
    if setup:
        parts = ["#!/usr/bin/env bash", "# Setup steps, in document order.", "set -euo pipefail", ""]
        for b, cmds in setup:
            chain = doc.enclosing_headings(b.line)
            parts.append(f"# --- {chain[0].text if chain else 'setup'} (line {b.line})")
            parts.append(_drop_project_dir(cmds).rstrip("\n"))
            parts.append("")
        res.files[SETUP_SCRIPT] = ExtractedFile(SETUP_SCRIPT, "\n".join(parts), [b.line for b, _ in setup], executable=True)
    if expected:
        if len(expected) == 1:
            text = expected[0][0].code
        else:
            text = "\n".join(f"==> {title or 'output'} <==\n{b.code}" for b, title in expected)
        res.files[EXPECTED_OUTPUT] = ExtractedFile(EXPECTED_OUTPUT, text, [b.line for b, _ in expected])
    res.issues.extend(missing_references(res))
    res.output_issues = expected_output_issues(doc, res)
    return res


def _is_setup(chain: list) -> bool:
    if not chain:
        return False
    return any(step_number(h.text) is not None for h in chain[:2]) or bool(_SETUP_HEADING.search(chain[0].norm))


def _drop_project_dir(cmds: str) -> str:
    """`mkdir my-poc && cd my-poc`: the target folder already is the project folder."""
    lines = cmds.split("\n")
    made = {m.group(1) for l in lines for m in [re.match(r"^\s*mkdir\s+(?:-p\s+)?([\w.-]+)\s*$", l)] if m}
    out = []
    for l in lines:
        m = re.match(r"^\s*(?:mkdir\s+(?:-p\s+)?|cd\s+)([\w.-]+)\s*$", l)
        if m and m.group(1) in made:
            out.append(f"# {l.strip()}  (not needed: this folder is the project folder)")
        else:
            out.append(l)
    return "\n".join(out)


def _add_file(res: ExtractResult, b: CodeBlock, name: str, continued: bool) -> None:
    name = name.strip()
    if name.startswith("./"):
        name = name[2:]
    reason = unsafe_reason(name)
    if reason:
        res.issues.append(Issue("unsafe-path", b.line, f"block names `{name}`: {reason}; not written"))
        return
    name = str(PurePosixPath(name))
    code = b.code if b.code.endswith("\n") or not b.code else b.code + "\n"
    existing = res.files.get(name)
    if existing is None:
        res.files[name] = ExtractedFile(name, code, [b.line], executable=name.endswith(".sh"))
    elif continued:
        existing.text += ("\n" if not existing.text.endswith("\n\n") else "") + code
        existing.lines.append(b.line)
    elif existing.text.strip() == code.strip():
        existing.lines.append(b.line)  # the same file shown twice
    else:
        res.issues.append(Issue(
            "conflict", b.line,
            f"second, different block for `{name}` (first at line {existing.lines[0]}); kept the first. "
            "Say \"continued\" before a block that extends a file, or give it its own name",
        ))


# --- references ------------------------------------------------------------------------

_RUNNERS = re.compile(
    r"(?:^|[;&|]\s*|\s)(?:node|nodemon|ts-node|tsx|deno run|bun(?: run)?|python3?|pypy3?|ruby|php|go run|bash|sh|k6 run|psql\s.*?-f)"
    r"\s+(?:-[-\w=]+\s+)*([\w./-]+\.(?:js|mjs|cjs|ts|py|rb|php|go|sh|sql))\b"
)


def _strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line)


def missing_references(res: ExtractResult) -> list[Issue]:
    have = set(res.files)
    created: set[str] = set()
    all_cmds = "\n".join(c for _, c in res.commands)
    if re.search(r"\bnpm init\b|\byarn init\b", all_cmds):
        created.add("package.json")
    for m in re.finditer(r"(?:\btouch|>>?|\btee(?:\s+-a)?|\bcp\s+\S+|\bmv\s+\S+)\s+([\w./-]+)", all_cmds):
        created.add(m.group(1).lstrip("./") if m.group(1).startswith("./") else m.group(1))
    present = have | created
    issues: list[Issue] = []
    reported: set[str] = set()

    def need(name: str, line: int, why: str) -> None:
        name = name[2:] if name.startswith("./") else name
        if name in reported or name in present or unsafe_reason(name):
            return
        reported.add(name)
        issues.append(Issue("missing-file", line, f"`{why}` needs `{name}`, but no block provides it"))

    compose_names = [n for n in present if re.fullmatch(r"(?:docker-)?compose\.ya?ml", n)]
    for line, cmds in res.commands:
        for raw in cmds.split("\n"):
            cmd = _strip_comment(raw).strip()
            if not cmd:
                continue
            for m in _RUNNERS.finditer(cmd):
                need(m.group(1), line, cmd)
            m = re.search(r"\bnpm\s+(start|test|run\s+[\w:-]+)", cmd)
            if m and "package.json" not in have:
                if not (m.group(1) == "start" and "server.js" in present and "package.json" in created):
                    if "package.json" not in reported:
                        reported.add("package.json")
                        issues.append(Issue("missing-file", line, f"`{cmd}` needs a `package.json` with a `{m.group(1).split()[-1]}` script, but no block provides it"))
            if re.search(r"\b(?:npm (?:install|i|ci)|yarn(?: install)?)\s*$", cmd):
                need("package.json", line, cmd)
            m = re.search(r"\bdocker[- ]compose\b(.*)", cmd)
            if m:
                # `-f FILE` names a compose file only before the subcommand (`logs -f` follows).
                f = re.match(r"(?:\s+-[-\w]+(?:=\S+)?)*?\s+(?:-f|--file)[=\s]+(\S+)", m.group(1))
                if f:
                    need(f.group(1), line, cmd)
                elif not compose_names and re.search(r"\b(?:up|build|run|start|exec|logs)\b", m.group(1)):
                    if "docker-compose.yml" not in reported:
                        reported.add("docker-compose.yml")
                        issues.append(Issue("missing-file", line, f"`{cmd}` needs a compose file (`docker-compose.yml`), but no block provides it"))
            m = re.search(r"\bdocker\s+build\b(.*)", cmd)
            if m:
                f = re.search(r"(?:-f|--file)\s+(\S+)", m.group(1))
                if f:
                    need(f.group(1), line, cmd)
                else:
                    ctx = m.group(1).split()[-1] if m.group(1).split() else "."
                    need(str(PurePosixPath(ctx) / "Dockerfile") if ctx not in (".", "./") else "Dockerfile", line, cmd)
            for f in re.findall(r"\bpip3?\s+install\s+.*?-r\s+(\S+)", cmd):
                need(f, line, cmd)
            for f in re.findall(r"<\s*([\w./-]+\.(?:sql|json|csv|txt))\b", cmd):
                need(f, line, cmd)
            m = re.match(r"^(\./[\w./-]+)", cmd)
            if m:
                need(m.group(1), line, cmd)
    return issues


# --- writing ---------------------------------------------------------------------------

def write_tree(res: ExtractResult, dest: Path, *, force: bool = False) -> list[Path]:
    """Write every planned file under `dest`. Refuses (before writing anything) to overwrite a
    different existing file without `force`, and never writes outside `dest`."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InputError("the target exists and is not a folder", path=dest, hint="give a folder path (it is created when missing)")
    refused = [i for i in res.issues if i.kind == "unsafe-path"]
    conflicts = name_conflicts(list(res.files))
    if refused or conflicts:
        what = [f"line {i.line}: {i.message}" for i in refused[:5]]
        what += [f"`{a}` is a file but `{b}` needs it to be a folder" for a, b in conflicts[:5]]
        raise InputError(
            "refusing to extract, nothing was written: " + "; ".join(what), path=dest,
            hint="give each block a relative file name inside the project (e.g. `src/app.js`), and do not use one name as both a file and a folder",
        )
    root = dest.resolve()
    targets: list[tuple[Path, ExtractedFile]] = []
    clashes: list[str] = []
    for name, f in res.files.items():
        target = (root / name).resolve()
        if target != root and root not in target.parents:
            raise WriteRefused(f"`{name}` resolves outside the target folder", path=dest, hint="a symlink in the folder points elsewhere; remove it")
        if target.exists():
            if target.is_dir():
                raise WriteRefused(f"`{name}` exists as a folder", path=dest)
            try:
                same = target.read_text(encoding="utf-8") == f.text
            except (OSError, UnicodeDecodeError):
                same = False
            if not same and not force:
                clashes.append(name)
        targets.append((target, f))
    if clashes:
        raise WriteRefused(
            f"{len(clashes)} file(s) already exist with other content: {', '.join(sorted(clashes)[:5])}",
            path=dest, hint="extract into an empty folder, or pass --force to overwrite them",
        )
    umask = os.umask(0)
    os.umask(umask)
    written = []
    for target, f in targets:
        atomic_write_text(target, f.text, root=dest)
        # Temporary files are created private; extracted files get the usual modes.
        os.chmod(target, (0o777 if f.executable else 0o666) & ~umask)
        written.append(target)
    return written


# --- --check ---------------------------------------------------------------------------

def check_tree(res: ExtractResult, dest: Path) -> list[Issue]:
    """Validators on each extracted file, then cross-file checks against what is in `dest`."""
    issues: list[Issue] = []
    by_name = check_files((n, f.text) for n, f in res.files.items() if n not in (EXPECTED_OUTPUT,))
    for name, problems in by_name.items():
        for p in problems:
            kind = "syntax" if p.rule == "code-syntax" else "placeholder"
            src = res.files[name].lines[0] if res.files[name].lines else 0
            issues.append(Issue(kind, src, p.message, name, p.line))
    # `...` standing for code the reader must write, in any form (the validators know a few).
    seen = {(i.file, i.file_line) for i in issues if i.kind == "placeholder"}
    issues.extend(i for i in placeholder_issues(res) if (i.file, i.file_line) not in seen)
    issues.extend(cross_file_issues(res, dest))
    issues.extend(res.output_issues)
    return issues


def _exists(dest: Path, res: ExtractResult, rel: str) -> bool:
    rel = rel[2:] if rel.startswith("./") else rel
    rel = str(PurePosixPath(rel))
    if rel in res.files or any(n.startswith(rel.rstrip("/") + "/") for n in res.files):
        return True
    if unsafe_reason(rel):
        return True  # outside the project: not ours to judge
    return (dest / rel).exists()


def cross_file_issues(res: ExtractResult, dest: Path) -> list[Issue]:
    issues: list[Issue] = []
    compose_ports: dict[int, str] = {}
    for name, f in res.files.items():
        if lang_for_filename(name) != "compose" and not (lang_for_filename(name) == "yaml" and re.search(r"^services:", f.text, re.M)):
            continue
        try:
            data = yaml.safe_load(f.text)
        except yaml.YAMLError:
            continue
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            continue
        base = PurePosixPath(name).parent
        for svc, conf in services.items():
            if not isinstance(conf, dict):
                continue
            build = conf.get("build")
            if build is not None:
                ctx = build if isinstance(build, str) else (build.get("context", ".") if isinstance(build, dict) else ".")
                dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
                path = str(base / str(ctx) / str(dockerfile))
                if not _exists(dest, res, path):
                    issues.append(Issue("cross-file", f.lines[0], f"service `{svc}` builds `{ctx}` but `{path}` is not in the extracted tree", name))
            for vol in conf.get("volumes", []) or []:
                src = vol.get("source") if isinstance(vol, dict) and vol.get("type") == "bind" else (vol.split(":", 1)[0] if isinstance(vol, str) and ":" in vol else None)
                if src and (src.startswith((".", "/")) or "/" in src) and not src.startswith(("/var", "/etc", "/tmp", "/dev", "/sys", "/proc", "/run", "/usr", "/home", "~", "$")):
                    path = str(base / src)
                    if not _exists(dest, res, path):
                        issues.append(Issue("cross-file", f.lines[0], f"service `{svc}` mounts `{src}`, which is not in the extracted tree", name))
            env_files = conf.get("env_file") or []
            for ef in [env_files] if isinstance(env_files, str) else env_files:
                if isinstance(ef, str) and not _exists(dest, res, str(base / ef)):
                    issues.append(Issue("cross-file", f.lines[0], f"service `{svc}` reads env_file `{ef}`, which is not in the extracted tree", name))
            for p in conf.get("ports", []) or []:
                host = _host_port(p)
                if host:
                    compose_ports[host] = svc
    served = dict(compose_ports)
    own_ports = _served_by_code(res)
    for _, cmds in res.commands:
        for m in re.finditer(r"(?:-p|--publish)\s+(?:[\d.]+:)?(\d+):\d+", cmds):
            served[int(m.group(1))] = "docker run"
    for name, f in res.files.items():
        lang = lang_for_filename(name)
        if lang not in ("js", "ts", "python"):
            continue
        for m in re.finditer(r"""\b(?:require\s*\(\s*|from\s+|import\s+)['"](\.{1,2}/[^'"]+)['"]""", f.text):
            spec = m.group(1)
            target = str(PurePosixPath(name).parent / spec)
            target = os.path.normpath(target)
            cands = [target] + [target + e for e in (".js", ".mjs", ".cjs", ".ts", ".json")] + [target + "/index.js", target + "/index.ts"]
            if not any(_exists(dest, res, c) for c in cands):
                line = f.text.count("\n", 0, m.start()) + 1
                issues.append(Issue("cross-file", f.lines[0], f"`{spec}` is required but no `{PurePosixPath(target).name}.js` was extracted", name, line))
        for m in re.finditer(r"""\b(?:readFileSync|readFile|createReadStream|open)\s*\(\s*(?:path\.join\(\s*__dirname\s*,\s*)?['"]((?:\./)?[\w./-]+\.\w+)['"]""", f.text):
            rel = m.group(1)
            if not rel.startswith("/") and not _exists(dest, res, str(PurePosixPath(name).parent / rel)):
                line = f.text.count("\n", 0, m.start()) + 1
                issues.append(Issue("cross-file", f.lines[0], f"reads `{rel}`, which is not in the extracted tree", name, line))
        if served and _is_client(name, f.text):
            listens = {int(x) for x in re.findall(r"\.listen\(\s*(\d{2,5})", f.text)}
            for m in re.finditer(r"(?:\bport\s*[:=]\s*|(?:localhost|127\.0\.0\.1):)(\d{2,5})\b", f.text, re.I):
                port = int(m.group(1))
                if port in served or port in listens or port in own_ports:
                    continue
                line = f.text.count("\n", 0, m.start()) + 1
                issues.append(Issue("cross-file", f.lines[0], f"connects to port {port}, but the compose file / docker run publish {', '.join(map(str, sorted(served)))}", name, line))
    return issues


def _host_port(p: object) -> int | None:
    if isinstance(p, dict):
        v = p.get("published")
        return int(v) if str(v).isdigit() else None
    if isinstance(p, int):
        return p
    parts = str(p).split("/")[0].split(":")
    if len(parts) >= 2 and parts[-2].isdigit():
        return int(parts[-2])
    if len(parts) == 1 and parts[0].isdigit():
        return int(parts[0])
    return None


def _is_client(name: str, text: str) -> bool:
    base = PurePosixPath(name).name.lower()
    return "test" in base or "bench" in base or "client" in base or bool(re.search(r"\bport\s*:", text))


def _served_by_code(res: ExtractResult) -> set[int]:
    """Ports the extracted programs listen on themselves (an API server the test calls)."""
    ports: set[int] = set()
    for f in res.files.values():
        ports |= {int(x) for x in re.findall(r"\.listen\(\s*(\d{2,5})", f.text)}
        ports |= {int(x) for x in re.findall(r"\bPORT\s*=\s*(?:process\.env\.PORT\s*\|\|\s*)?(\d{2,5})", f.text)}
    return ports


# --- placeholders ------------------------------------------------------------------------
#
# A runnable file may not stand `...` in for code the reader must write. Spread and rest
# (`...args`), ellipses inside strings ('Loading...') and Python's `...` literal are code.

_PLACEHOLDER_COMMENT = re.compile(r"^\s*(?://|#|--|/\*|<!--)\s*(?:\.\.\.|…)")
_PLACEHOLDER_BARE = re.compile(r"^\s*(?:\.\.\.|…)\s*;?\s*$")
_PLACEHOLDER_BRACKET = re.compile(r"(?:[{(\[,]|=>)\s*(?:\.\.\.|…)\s*(?=[})\]]|$)|/\*\s*(?:\.\.\.|…)[^*]*\*/")


def _outside_strings(line: str, pos: int) -> bool:
    before = line[:pos]
    return all(before.count(q) % 2 == 0 for q in ("'", '"', "`"))


def placeholder_lines(code: str, lang: str | None) -> list[tuple[int, str]]:
    """(line in the block, text) of each `...` that stands for missing code."""
    out = []
    for i, line in enumerate(code.split("\n"), 1):
        if line.lstrip().startswith("#!"):
            continue
        hit = _PLACEHOLDER_COMMENT.match(line)
        if hit and lang in ("js", "ts") and line.lstrip().startswith("#"):
            hit = None  # `#` is not a JS comment
        if hit is None and lang != "python" and _PLACEHOLDER_BARE.match(line):
            out.append((i, line.strip()))
            continue
        if hit is None:
            m = _PLACEHOLDER_BRACKET.search(line)
            if m and _outside_strings(line, m.start()):
                hit = m
        if hit is not None:
            out.append((i, line.strip()))
    return out


def placeholder_issues(res: ExtractResult) -> list[Issue]:
    issues = []
    for name, f in res.files.items():
        if name == EXPECTED_OUTPUT:
            continue
        lang = lang_for_filename(name)
        if lang is None and name != SETUP_SCRIPT:
            continue
        for ln, text in placeholder_lines(f.text, lang or "shell"):
            src = _source_line(f, ln)
            issues.append(Issue("placeholder", src, f"`{text[:80]}` stands for code the reader would have to write; write the code out in full", name, ln))
    return issues


def _source_line(f: ExtractedFile, file_line: int) -> int:
    """The document line a file's line came from (blocks are appended in order)."""
    return f.lines[0] + file_line if f.lines else 0


# --- what the programs print -----------------------------------------------------------

_PRINT_CALL = re.compile(
    r"\b(?:console\.(?:log|info|warn|error)|print|printf|process\.stdout\.write|logger\.(?:info|warning|warn|error)|log\.(?:info|printf|println)|fmt\.Print(?:ln|f)?)\s*\("
)
_ECHO = re.compile(r"^\s*(?:echo|printf)\s+(?:-[ne]+\s+)?(.+)$", re.M)
_WILD = object()
_RULE = object()  # `'='.repeat(40)`: a line of one character, any length


def _call_args(text: str, start: int) -> str:
    """The text between the parenthesis at `start - 1` and its match."""
    depth, i, quote = 1, start, ""
    while i < len(text) and depth:
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    return text[start : i - 1]


_LITERAL = re.compile(r"""(?P<prefix>\b[fFrRbB]{1,2})?(?P<q>'''|\"\"\"|'|"|`)(?P<body>(?:\\.|(?!(?P=q)).)*?)(?P=q)""", re.S)


def _terms(args: str) -> list[str]:
    """The top-level terms of an argument list: split at `,` and `+` outside strings and brackets."""
    out, cur, depth, quote, i = [], "", 0, "", 0
    while i < len(args):
        c = args[i]
        if quote:
            cur += c
            if c == "\\" and i + 1 < len(args):
                cur += args[i + 1]
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
            cur += c
        elif c in "([{":
            depth += 1
            cur += c
        elif c in ")]}":
            depth -= 1
            cur += c
        elif c in ",+" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    out.append(cur)
    return [t.strip() for t in out if t.strip()]


def _tokens(args: str, python: bool) -> list[object]:
    """Literal text and wildcards (`${x}`, `{x}`, a variable argument) in print order. Only a
    term that is a string literal is text: `row['QUERY PLAN']` is data."""
    out: list[object] = []
    for term in _terms(args):
        m = _LITERAL.fullmatch(term)
        rule = None
        if m is None:
            # `'='.repeat(40)`, `"-" * 40`: a rule line whose length is computed.
            rule = re.fullmatch(r"(.*?)\s*(?:\.repeat\s*\(.*\)|\*\s*\d+)", term, re.S)
            if rule is not None and _LITERAL.fullmatch(rule.group(1)):
                out.append(_RULE)
                continue
            out.append(_WILD)
            continue
        body = m.group("body")
        interp = python and "f" in (m.group("prefix") or "").lower()
        parts = re.split(r"\$\{[^}]*\}" if m.group("q") == "`" else (r"\{[^{}]*\}" if interp else r"(?!x)x"), body)
        for j, part in enumerate(parts):
            if j:
                out.append(_WILD)
            out.append(part.replace("\\n", "\n").replace("\\t", "\t").replace("\\'", "'").replace('\\"', '"'))
    return out


@dataclass(frozen=True)
class Printed:
    file: str
    pattern: re.Pattern
    text: str  # the literal text with `…` for computed parts
    literal: bool  # no computed part: printed exactly like this


def _patterns(name: str, tokens: list[object]) -> list[Printed]:
    lines: list[list[object]] = [[]]
    for t in tokens:
        if t is _WILD or t is _RULE:
            lines[-1].append(t)
            continue
        pieces = str(t).split("\n")
        for k, piece in enumerate(pieces):
            if k:
                lines.append([])
            if piece:
                lines[-1].append(piece)
    out = []
    for toks in lines:
        literal_text = "".join(t for t in toks if t is not _WILD and t is not _RULE)
        if len(re.findall(r"[A-Za-z]", literal_text)) < 2:
            if _WILD in toks and not literal_text.strip(" =-*#"):
                # `console.log(row['QUERY PLAN'])`: prints data whose lines cannot be predicted.
                out.append(Printed(name, re.compile(r"(?!x)x"), "", False))
            continue  # a rule line or data: matches anything, proves nothing
        rx = ""
        shown = ""
        for t in toks:
            if t is _RULE:
                rx += r"[-=*#~_─━═]*\s*"
            elif t is _WILD:
                rx += ".*?"
                shown += "…"
            else:
                rx += r"\s*".join(re.escape(w) for w in str(t).split()) if str(t).strip() else ""
                rx += r"\s*"
                shown += str(t)
        rx = r"\s*" + rx
        out.append(Printed(name, re.compile(rx + r"\s*$", re.S), shown.strip(), _WILD not in toks))
    return out


def printed_lines(name: str, text: str) -> list[Printed]:
    """What a program prints, as patterns (computed parts match anything)."""
    lang = lang_for_filename(name)
    out: list[Printed] = []
    if lang == "shell":
        for m in _ECHO.finditer(text):
            out += _patterns(name, _tokens(m.group(1), False))
        return out
    if lang not in ("js", "ts", "python"):
        return out
    if re.search(r"\bconsole\.(?:table|dir)\s*\(|\bpprint\s*\(", text):
        out.append(Printed(name, re.compile(r"(?!x)x"), "", False))
    for m in _PRINT_CALL.finditer(text):
        args = _call_args(text, m.end())
        found = _patterns(name, _tokens(args, lang == "python"))
        if re.match(r"console\.(?:error|warn)|logger\.(?:error|warn)", m.group(0)):
            found = [p for p in found if p.text]  # `console.error(err)` is a failure, not output
        out += found
    return out


_DATA_LINE = re.compile(r"^\s*(?:[{}\[\]|│┌└├┐┘┤┬┴┼─═╔╚╗╝║+]|\w+:\s|['\"]|\d)")
_HEADER_LITERAL = re.compile(r"^\W*(?:test|benchmark|scenario|step|part)\s*#?\d+\b|^\s*(?:={2,}|-{3,}|#{1,3}\s)\s*\S", re.I)


def _expected_blocks(doc: Document) -> list[CodeBlock]:
    out = []
    for b in doc.code_blocks:
        if not b.fenced or b.lang not in ("", "text", "txt", "output", "console", "plaintext", "log"):
            continue
        chain = doc.enclosing_headings(b.line)
        if any(_EXPECTED_HEADING.match(h.norm) or re.match(r"^\W*(?:expected|sample) output", h.norm, re.I) for h in chain[:2]):
            out.append(b)
    return out


def expected_output_issues(doc: Document, res: ExtractResult) -> list[Issue]:
    """Expected Output lines no program of the project prints, and test headers it leaves out.

    Computed values (`${ms}`, `{count}`) match anything; a line that prints data (objects,
    tables, numbers) cannot be told from code and is not judged."""
    blocks = _expected_blocks(doc)
    if not blocks:
        return []
    printed: list[Printed] = []
    for name, f in res.files.items():
        printed += printed_lines(name, f.text)
    if not printed:
        return []
    # Programs that print rows or objects: their output has lines no literal predicts, so
    # only headers, marked lines (✅ …) and labels the code uses are judged.
    data = any(not p.text for p in printed)
    printed = [p for p in printed if p.text]
    labels = {m.group(1).strip().lower() for p in printed for m in [re.match(r"^\W*([A-Za-z][\w ]{0,40}):", p.text)] if m}
    # The test script: `test.js`, `test_cache.py`, `tests.sh` (not `injectionTest.js`).
    tests = [p for p in printed if PurePosixPath(p.file).stem.lower().startswith("test")]
    issues: list[Issue] = []
    shown: list[str] = []
    for b in blocks:
        depth = 0
        bad: list[tuple[int, str]] = []
        for i, line in enumerate(b.code.split("\n")):
            s = line.strip()
            opened = s.count("{") + s.count("[") - s.count("}") - s.count("]")
            inside = depth > 0
            depth = max(0, depth + opened)
            if not s or inside or not re.search(r"[A-Za-z]{2}", s):
                continue
            shown.append(s)
            if any(p.pattern.match(s) for p in printed):
                continue
            if _HEADER_LITERAL.match(s):
                pass
            elif data:
                label = re.match(r"^\W*([A-Za-z][\w ]{0,40}):", s)
                if not (re.match(r"^[^\w\s({\[|<>-]", s) or (label and label.group(1).strip().lower() in labels)):
                    continue
            elif _DATA_LINE.match(s):
                continue
            bad.append((b.line + 1 + i, s))
        if bad:
            files = sorted({p.file for p in printed})
            listing = "; ".join(f"`{s[:70]}`" for _, s in bad[:6]) + (f" and {len(bad) - 6} more" if len(bad) > 6 else "")
            issues.append(Issue(
                "expected-output", bad[0][0],
                f"{len(bad)} Expected Output line(s) are not printed by {', '.join(files)}: {listing}. "
                "Show only what the programs print: their headers and labels exactly, computed values as they would come out",
            ))
    for file in sorted({p.file for p in tests}):
        missing = [p.text for p in tests if p.file == file and p.literal and _HEADER_LITERAL.match(p.text) and not any(p.pattern.match(s) for s in shown)]
        if missing:
            issues.append(Issue(
                "expected-output", blocks[0].line,
                f"{file} prints {', '.join(f'`{m[:60]}`' for m in missing[:6])}, which Expected Output does not show",
            ))
    return issues
