"""The `authorkit` command. `--version` and `--help` are answered before the command-line
layer (typer, click, pydantic) is imported, which costs several times Python's own start-up:
the version is a constant, and help texts are kept once rendered, keyed by everything that
shapes them (the arguments, the terminal width, the installed code). Only `os` and `sys` are
imported on that path."""

from __future__ import annotations

import os
import sys

_HELP = ("-h", "--help")


def main() -> None:
    args = sys.argv[1:]
    if args in (["--version"], ["-V"]):
        from authorkit import __version__

        print(f"authorkit {__version__}")
        return
    if args and args[-1] in _HELP and len(args) <= 3 and all(a.replace("-", "").isalnum() for a in args):
        _help(args)
        return
    try:
        from authorkit.cli import main as run
    except KeyboardInterrupt:  # Ctrl-C while the command-line layer is still loading
        sys.stderr.write("authorkit: interrupted before anything was done\n")
        sys.exit(130)
    run()


def _columns() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


def _help_path(args: list[str]) -> str:
    from authorkit import __version__

    cli = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cli")
    stamp = 0
    for name in sorted(os.listdir(cli)):  # an edited command changes its help
        if name.endswith(".py"):
            st = os.stat(os.path.join(cli, name))
            stamp = (stamp * 31 + st.st_mtime_ns + st.st_size) % (1 << 61)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "authorkit", "help", f"{__version__}-{_columns()}-{stamp:x}-{'_'.join(args)}.txt")


def _help(args: list[str]) -> None:
    path = _help_path(args)
    try:
        with open(path, encoding="utf-8") as fh:
            sys.stdout.write(fh.read())
        return
    except OSError:
        pass
    import io
    from contextlib import redirect_stdout

    from authorkit.cli import main as run

    buf = io.StringIO()
    code: object = 0
    with redirect_stdout(buf):
        try:
            run(args)
        except SystemExit as exc:
            code = exc.code
    sys.stdout.write(buf.getvalue())
    if code in (0, None):
        try:  # kept only for a help that was shown without error
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(buf.getvalue())
            os.replace(tmp, path)
        except OSError:
            pass
    sys.exit(code)
