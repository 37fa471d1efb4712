"""The workspace: `authorkit.toml`, found by walking up from the current directory.

Everything a command needs to know about the user's site lives here: where content and plans
are, which style applies to which paths, the model and its prices. With no config file the
defaults apply to the current directory, so `authorkit check FILE` works anywhere.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from authorkit.errors import ConfigError

CONFIG_NAME = "authorkit.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineTargets(_Strict):
    min: int | None = Field(default=None, ge=0)
    target: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class StyleOverride(_Strict):
    lines: LineTargets | None = None


class ContentConfig(_Strict):
    roots: list[str] = ["."]
    include: list[str] = ["**/*.md", "**/*.mdx"]
    exclude: list[str] = [
        "**/node_modules/**",
        "**/.git/**",
        "**/.venv/**",
        "sessions/**",
        "**/README.md",
        "**/CHANGELOG.md",
    ]


class CheckConfig(_Strict):
    fail_on: str = "error"
    code_checks: bool = True
    cache: bool = True
    jobs: int = Field(default=0, ge=0)  # 0: one worker per core

    @field_validator("fail_on")
    @classmethod
    def _severity(cls, v: str) -> str:
        if v not in ("error", "warning", "info"):
            raise ValueError("must be one of error, warning, info")
        return v


class Prices(_Strict):
    """US dollars per million tokens."""

    input: float = Field(default=3.0, ge=0)
    cache_write: float = Field(default=3.75, ge=0)
    cache_read: float = Field(default=0.30, ge=0)
    output: float = Field(default=15.0, ge=0)


class ModelConfig(_Strict):
    name: str = "claude-sonnet-4-5"
    max_tokens: int = Field(default=8192, gt=0)
    temperature: float = Field(default=0.3, ge=0, le=1)
    concurrency: int = Field(default=4, ge=1, le=64)
    repair_rounds: int = Field(default=2, ge=0, le=10)
    max_continuations: int = Field(default=3, ge=0, le=20)
    max_retries: int = Field(default=4, ge=0, le=20)
    # Seconds until a response starts (a local server processes the whole prompt first).
    timeout: float = Field(default=600.0, gt=0)
    connect_timeout: float = Field(default=30.0, gt=0)
    # Seconds without data on an open stream before it counts as stalled (and is retried).
    idle_timeout: float = Field(default=120.0, gt=0)
    # Whole call (retries and continuations included) and whole document; 0 turns one off.
    call_deadline: float = Field(default=1800.0, ge=0)
    document_deadline: float = Field(default=7200.0, ge=0)
    # "auto": wait for the first call to fill the shared cache on Anthropic's API, start all
    # at once elsewhere (each llama.cpp slot keeps its own cache); "first" or "none" to choose.
    cache_warming: str = Field(default="auto", pattern="^(auto|first|none)$")
    # The server's context in tokens, when known (otherwise llama.cpp's /props is asked).
    context_tokens: int | None = Field(default=None, gt=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, gt=0)
    # Prices of model.name (built-in Claude prices apply on Anthropic's API when unset).
    prices: Prices = Prices()
    # Pricing of other models the user switches to with --model.
    model_prices: dict[str, Prices] = {}


class DraftConfig(_Strict):
    poc_dir: str = "content/practice-pocs"
    article_dir: str = "content/system-design"
    problem_dir: str = "content/problems-at-scale"
    reference: str | None = None
    style: str = "tutorial"
    # "anthropic" | "scaffold"; unset: anthropic when ANTHROPIC_API_KEY/BASE_URL is set.
    provider: str | None = None


class PlanConfig(_Strict):
    files: list[str] = []


class NavigationConfig(_Strict):
    files: list[str] = []
    update: bool = True


class CommitConfig(_Strict):
    co_authors: list[str] = ["Claude <noreply@anthropic.com>"]
    trailers: bool = True


class HooksConfig(_Strict):
    # Stops `authorkit hook` refuses in a row while documents fail, before it lets the session go.
    max_stop_blocks: int = Field(default=3, ge=0, le=100)


class Config(_Strict):
    content: ContentConfig = ContentConfig()
    # glob -> style name; first match wins; "auto" detects.
    styles: dict[str, str] = {}
    default_style: str = "auto"
    style_overrides: dict[str, StyleOverride] = {}
    check: CheckConfig = CheckConfig()
    model: ModelConfig = ModelConfig()
    draft: DraftConfig = DraftConfig()
    plans: PlanConfig = PlanConfig()
    navigation: NavigationConfig = NavigationConfig()
    commit: CommitConfig = CommitConfig()
    hooks: HooksConfig = HooksConfig()
    sessions_dir: str = "sessions"
    prompts_dir: str = "prompts"
    style_guides_dir: str = "style_guides"


class Workspace:
    """A loaded configuration plus the directory it applies to."""

    def __init__(self, root: Path, config: Config, config_path: Path | None) -> None:
        self.root = root
        self.config = config
        self.config_path = config_path
        self._style_patterns = [(_glob_regex(g), s) for g, s in config.styles.items()]
        self._exclude_patterns = [_glob_regex(g) for g in config.content.exclude]
        self._rel_cache: dict[str, str] = {}

    def shown(self, path: Path | str) -> str:
        """A path as output shows it: relative to the current directory when that is inside the
        workspace, as git prints paths; workspace-relative from anywhere else (`--config`).
        Records and caches keep `rel`, which does not depend on where a command ran."""
        p = Path(path)
        full = p if p.is_absolute() else self.root / p
        try:
            cwd = Path.cwd()
            if cwd != self.root and self.root not in cwd.parents:
                return self.rel(full)
            return os.path.relpath(full, cwd)
        except (OSError, ValueError):
            return self.rel(path)

    def rel(self, path: Path | str) -> str:
        key = str(path)
        hit = self._rel_cache.get(key)
        if hit is None:
            hit = self._rel_cache[key] = self._rel(path)
        return hit

    def _rel(self, path: Path | str) -> str:
        s = str(path)
        root = str(self.root)
        # Fast path for the common case: an absolute, already normal path under the root.
        if s.startswith(root + os.sep) and "/." not in s and "//" not in s:
            return s[len(root) + 1 :]
        # abspath, not resolve(): a looping symlink must still get a name to report.
        ap = os.path.abspath(path)
        root = str(self.root)
        if ap == root or ap.startswith(root + os.sep):
            return Path(os.path.relpath(ap, root)).as_posix()
        return Path(path).as_posix()

    def path(self, rel: str) -> Path:
        return (self.root / rel).resolve()

    def style_for(self, path: Path) -> str:
        rel = self.rel(path)
        for rx, style in self._style_patterns:
            if rx.search(rel):
                return style
        return self.config.default_style

    @property
    def content_roots(self) -> list[Path]:
        return [self.path(r) for r in self.config.content.roots]

    @property
    def sessions_dir(self) -> Path:
        return self.path(self.config.sessions_dir)

    @property
    def prompts_dir(self) -> Path:
        return self.path(self.config.prompts_dir)

    @property
    def style_guides_dir(self) -> Path:
        return self.path(self.config.style_guides_dir)

    def is_excluded(self, path: Path | str) -> bool:
        rel = self.rel(path)
        return any(rx.search(rel) for rx in self._exclude_patterns)


@lru_cache(maxsize=512)
def _glob_regex(glob: str) -> re.Pattern[str]:
    """gitignore-like globs: `**` spans directories, `*` stays within one; a pattern without a
    leading `/` may match at any depth."""
    anchored = glob.startswith("/")
    g = glob.lstrip("/")
    out = []
    i = 0
    while i < len(g):
        c = g[i]
        if g.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif g.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    prefix = "^" if anchored else "(?:^|/)"
    return re.compile(prefix + body + "$")


def find_config(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        candidate = d / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_workspace(start: Path | None = None, config_path: Path | None = None) -> Workspace:
    path = config_path or find_config(start)
    if path is None:
        return Workspace((start or Path.cwd()).resolve(), Config(), None)
    return Workspace(path.parent.resolve(), load_config(path), path)


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            f"not valid TOML: {exc}",
            path=path,
            line=int(m.group(1)) if m else None,
            hint="fix the syntax; `authorkit init --force` writes a fresh commented config",
        ) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        key = ".".join(loc)
        raise ConfigError(
            f"invalid value for `{key}`: {err['msg']}",
            path=path,
            line=toml_key_line(text, loc),
            hint="see the README's configuration section for every key and its type",
        ) from None
    check_paths_inside(config, path, text, data)
    return config


def _config_paths(config: Config) -> list[tuple[list[str], str]]:
    """Every path the configuration names, with its key: all are read or written in the
    workspace, so all must stay inside it."""
    out: list[tuple[list[str], str]] = [
        (["sessions_dir"], config.sessions_dir),
        (["prompts_dir"], config.prompts_dir),
        (["style_guides_dir"], config.style_guides_dir),
        (["draft", "poc_dir"], config.draft.poc_dir),
        (["draft", "article_dir"], config.draft.article_dir),
        (["draft", "problem_dir"], config.draft.problem_dir),
    ]
    if config.draft.reference:
        out.append((["draft", "reference"], config.draft.reference))
    out += [(["content", "roots"], r) for r in config.content.roots]
    out += [(["plans", "files"], f) for f in config.plans.files]
    out += [(["navigation", "files"], f) for f in config.navigation.files]
    return out


def check_paths_inside(config: Config, path: Path, text: str, data: dict[str, Any] | None = None) -> None:
    """A configured path that leads outside the workspace (`..`, an absolute path, a symlink
    pointing elsewhere) is refused: authorkit would read, rewrite or create files there."""
    root = path.parent.resolve()

    def given(loc: list[str]) -> bool:
        d: Any = data or {}
        for k in loc:
            if not isinstance(d, dict) or k not in d:
                return False
            d = d[k]
        return True

    # The keys the file sets are reported first; a default can still lead out through a symlink.
    for loc, value in sorted(_config_paths(config), key=lambda lv: not given(lv[0])):
        full = Path(value) if os.path.isabs(value) else root / value
        lexical = Path(os.path.normpath(full))
        try:
            real = full.resolve()
        except (OSError, RuntimeError):  # a symlink loop: not a usable path either
            real = lexical
        if all(p == root or p.is_relative_to(root) for p in (lexical, real)):
            continue
        key = ".".join(loc)
        via = f" (through a symlink, to {real})" if lexical == root or lexical.is_relative_to(root) else ""
        default = "" if given(loc) else " (the default)"
        raise ConfigError(
            f"`{key}` = {value!r}{default} is outside the workspace {root}{via}",
            path=path,
            line=toml_key_line(text, loc),
            hint=f"give a path inside {root}, relative to authorkit.toml (no `..` leading out, no absolute path elsewhere)",
        )


def toml_key_line(text: str, loc: list[str]) -> int | None:
    """Best-effort line of a dotted key in TOML text (tomllib keeps no positions)."""
    lines = text.splitlines()
    # Try the longest table prefix that appears as a [header], then the remaining key.
    for split in range(len(loc) - 1, -1, -1):
        table, rest = loc[:split], loc[split:]
        start = 0
        if table:
            header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(_key_rx(k) for k in table) + r"\s*\]")
            starts = [i for i, ln in enumerate(lines) if header.match(ln)]
            if not starts:
                continue
            start = starts[0] + 1
        if not rest:
            return start
        key_rx = re.compile(r"^\s*" + r"\s*\.\s*".join(_key_rx(k) for k in rest[:1]) + r"\s*[=.]")
        for i in range(start, len(lines)):
            if i > start and lines[i].lstrip().startswith("[") and table:
                break
            if key_rx.match(lines[i]):
                return i + 1
    return None


def _key_rx(key: str) -> str:
    return "(?:" + re.escape(key) + '|"' + re.escape(key) + '"' + ")"


def as_dict(ws: Workspace) -> dict[str, Any]:
    return ws.config.model_dump()
