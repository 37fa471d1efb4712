"""The command line: a thin layer over the library. Each command module registers itself on
`app`; heavy imports (SDKs, parsers) happen inside the commands so `--help` stays fast."""

from __future__ import annotations

import os
import sys

# pydantic looks for third-party plugins by reading the entry points of every installed
# distribution the first time a model is built: 50-100 ms of every command's start-up, for
# plugins that have no business observing authorkit's own models. An explicit setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# Claude Code runs `authorkit hook` after every file the model writes: it is answered before
# the command-line framework loads, which alone costs more than the hook's whole budget.
if sys.argv[1:] == ["hook"] and os.path.basename(sys.argv[0]) in ("authorkit", "__main__.py"):
    from authorkit.hook import run as _run_hook

    sys.exit(_run_hook())

import typer  # noqa: E402

from authorkit.errors import AuthorkitError, ExitCode, Interrupted  # noqa: E402

app = typer.Typer(
    name="authorkit",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich formatting costs ~0.2 s of start-up
    context_settings={"help_option_names": ["-h", "--help"]},
)

def _print_version(value: bool) -> None:
    if value:
        from authorkit import __version__

        print(f"authorkit {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."),
    color: str = typer.Option("auto", "--color", metavar="auto|always|never",
                              help="Colour in output: auto (a terminal, unless NO_COLOR is set), always or never. Accepted after the command too."),
) -> None:
    """Check, fix, plan, draft, convert, review and commit documentation written with an LLM."""


# Registration order is the order commands appear in --help.
from authorkit.cli import check_cmds as _check_cmds  # noqa: E402,F401
from authorkit.cli import plan_cmds as _plan_cmds  # noqa: E402,F401
from authorkit.cli import gen_cmds as _gen_cmds  # noqa: E402,F401
from authorkit.cli import git_cmds as _git_cmds  # noqa: E402,F401
from authorkit.cli import code_cmds as _code_cmds  # noqa: E402,F401
from authorkit.cli import style_cmds as _style_cmds  # noqa: E402,F401
from authorkit.cli import claude_cmds as _claude_cmds  # noqa: E402,F401


# Commands that change files; each run is recorded in the session as typed.
_RECORDED = {"draft", "convert", "fix", "commit", "undo", "batch", "summarize-session"}


def _record_command(argv: list[str]) -> None:
    if not argv or argv[0] not in _RECORDED or {"-h", "--help", "--dry-run", "-n"} & set(argv):
        return
    from pathlib import Path

    from authorkit.config import find_config, load_workspace
    from authorkit.session import record_command

    # Recorded in the workspace the command works in: the one `--config` names, if given.
    config = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
    if config is None and "--config" in argv[:-1]:
        config = argv[argv.index("--config") + 1]
    if config is not None:
        if Path(config).is_file():
            record_command(load_workspace(config_path=Path(config)), ["authorkit", *argv])
    elif find_config() is not None:
        record_command(load_workspace(), ["authorkit", *argv])


def _take_color(args: list[str]) -> list[str]:
    """`--color WHEN` is global, as in ruff: accepted before or after the command name."""
    from authorkit.errors import UsageError
    from authorkit.term import COLOR_MODES, set_color_mode

    out: list[str] = []
    it = iter(range(len(args)))
    for i in it:
        a = args[i]
        if a == "--":
            out.extend(args[i:])
            break
        if a == "--color" or a.startswith("--color="):
            if a == "--color":
                value = args[i + 1] if i + 1 < len(args) else ""
                next(it, None)
            else:
                value = a.split("=", 1)[1]
            if value not in COLOR_MODES:
                raise UsageError(f"invalid value for '--color': {value!r}", hint="use --color auto, --color always or --color never")
            set_color_mode(value)
            continue
        out.append(a)
    return out


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning library errors into one message and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _take_color(args)
        _record_command(args)
        rc = app(args=args, standalone_mode=False)
    except Interrupted as exc:
        print(f"authorkit: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except AuthorkitError as exc:
        print(f"authorkit: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print(f"authorkit: {_INTERRUPTED}", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        # Usage errors come from click, which newer typer releases vendor instead of installing:
        # recognised by shape, not by import, so either layout gives the same message and exit 2.
        if _is_usage_error(exc):
            _show_usage_error(exc)
            sys.exit(ExitCode.USAGE)
        if type(exc).__name__ == "Abort":
            print(f"authorkit: {_INTERRUPTED}", file=sys.stderr)
            sys.exit(130)
        raise
    else:
        # Without standalone mode click returns typer.Exit's code instead of raising it; a
        # Ctrl-C that no command caught comes back as a bare 130.
        if rc == 130:
            print(f"authorkit: {_INTERRUPTED}", file=sys.stderr)
        sys.exit(rc if isinstance(rc, int) else 0)


_INTERRUPTED = "interrupted; finished files are kept, unfinished ones untouched"


def _is_usage_error(exc: BaseException) -> bool:
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)


def _show_usage_error(exc: BaseException) -> None:
    """One message with a hint; no-args help goes to stdout like `--help`."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        ctx = getattr(exc, "ctx", None)
        print(ctx.get_help() if ctx is not None else str(exc))
        sys.exit(ExitCode.OK)
    exc.show()  # type: ignore[attr-defined]
