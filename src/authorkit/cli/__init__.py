"""The command line: a thin layer over the library. Each command module registers itself on
`app`; heavy imports (SDKs, parsers) happen inside the commands so `--help` stays fast."""

from __future__ import annotations

import os
import sys

# pydantic looks for third-party plugins by reading the entry points of every installed
# distribution the first time a model is built: 50-100 ms of every command's start-up, for
# plugins that have no business observing authorkit's own models. An explicit setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer  # noqa: E402

from authorkit.errors import AuthorkitError, ExitCode  # noqa: E402

app = typer.Typer(
    name="authorkit",
    help="Check, fix, plan, draft, convert, review and commit documentation written with an LLM.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich formatting costs ~0.2 s of start-up
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Registration order is the order commands appear in --help.
from authorkit.cli import check_cmds as _check_cmds  # noqa: E402,F401
from authorkit.cli import plan_cmds as _plan_cmds  # noqa: E402,F401
from authorkit.cli import gen_cmds as _gen_cmds  # noqa: E402,F401
from authorkit.cli import git_cmds as _git_cmds  # noqa: E402,F401
from authorkit.cli import code_cmds as _code_cmds  # noqa: E402,F401
from authorkit.cli import style_cmds as _style_cmds  # noqa: E402,F401


# Commands that change files; each run is recorded in the session as typed.
_RECORDED = {"draft", "convert", "fix", "commit", "undo", "batch", "summarize-session"}


def _record_command(argv: list[str]) -> None:
    if not argv or argv[0] not in _RECORDED or {"-h", "--help", "--dry-run"} & set(argv):
        return
    from authorkit.config import find_config, load_workspace
    from authorkit.session import record_command

    if find_config() is not None:
        record_command(load_workspace(), ["authorkit", *argv])


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning library errors into one message and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        _record_command(args)
        rc = app(args=args, standalone_mode=False)
    except AuthorkitError as exc:
        print(f"authorkit: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("authorkit: interrupted; finished files are kept, unfinished ones untouched", file=sys.stderr)
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
            print("authorkit: aborted", file=sys.stderr)
            sys.exit(130)
        raise
    else:
        # Without standalone mode click returns typer.Exit's code instead of raising it.
        sys.exit(rc if isinstance(rc, int) else 0)


def _is_usage_error(exc: BaseException) -> bool:
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)


def _show_usage_error(exc: BaseException) -> None:
    """One message with a hint; no-args help goes to stdout like `--help`."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        ctx = getattr(exc, "ctx", None)
        print(ctx.get_help() if ctx is not None else str(exc))
        sys.exit(ExitCode.OK)
    exc.show()  # type: ignore[attr-defined]
