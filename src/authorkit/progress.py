"""The progress of a generation run: a live display on a terminal, plain lines otherwise.

Pass `display.event` as the generator's `on_event`. Tokens are the server's own counts as
soon as it reports them (at the end of each reply); while a reply streams, its share is an
estimate from the characters received and the figure is shown with "≈". Cost is "unpriced"
for a model without configured prices. On a terminal each line fits the terminal's width (80
columns included); without one, a line is printed as each call starts and ends, and for
every retry.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from authorkit.costs import add_cost, format_usd


def short_path(path: str, width: int) -> str:
    """`path` cut to `width` characters, keeping the file name (the part that differs)."""
    if len(path) <= width:
        return path
    name = path.rsplit("/", 1)[-1]
    if len(name) + 2 > width:
        return "…" + name[-(width - 1):]
    return "…/" + name if len(name) + 2 >= width - 2 else path[: width - len(name) - 2] + "…/" + name


class _Doc:
    __slots__ = ("server_tokens", "stream_chars", "cost", "priced", "done_calls", "total", "status", "start")

    def __init__(self) -> None:
        self.server_tokens = 0  # output tokens the server reported
        self.stream_chars: dict[str, int] = {}  # characters of replies still streaming, by label
        self.cost: float | None = None
        self.priced = True
        self.done_calls = 0
        self.total: int | None = None
        self.status = ""
        self.start = time.monotonic()

    def tokens(self) -> tuple[int, bool]:
        pending = sum(self.stream_chars.values())
        return self.server_tokens + (pending + 3) // 4, pending > 0


def _tok(n: int, estimated: bool) -> str:
    text = f"{n / 1000:.1f}k" if n >= 10_000 else str(n)
    return ("≈" if estimated else "") + text


class ProgressDisplay:
    def __init__(self, documents: list[str], *, tty: bool, prices: Any = None, stream: Any = None, width: int | None = None) -> None:
        self.tty = tty
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()
        self.documents = documents
        self.docs: dict[str, _Doc] = {d: _Doc() for d in documents}
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        self.total_task: Any = None
        if tty:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            console = Console(file=self.stream, width=width) if width else Console(file=self.stream)
            cols = max(40, console.size.width)
            # name | bar | done/total | tokens | cost | elapsed: at most `cols` characters.
            self.name_width = max(12, cols - 52)
            self.progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=10),
                TextColumn("{task.fields[count]:>5}"),
                TextColumn("{task.fields[tokens]:>7} tok"),
                TextColumn("{task.fields[cost]:>9}"),
                TextColumn("{task.fields[elapsed]:>6}"),
                console=console, transient=False, refresh_per_second=4,
            )
            for d in documents:
                self.tasks[d] = self.progress.add_task(self._name(d), total=None, tokens="0", cost="", count="", elapsed="")
            if len(documents) > 1:
                self.total_task = self.progress.add_task(self._name("total"), total=len(documents), tokens="0", cost="", count="", elapsed="")

    def _name(self, doc: str, suffix: str = "") -> str:
        width = self.name_width - len(suffix)
        return (short_path(doc, width) + suffix).ljust(self.name_width)

    def __enter__(self) -> "ProgressDisplay":
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self._refresh_all()
            self.progress.stop()

    def _say(self, text: str) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
            else:
                print(text, file=self.stream, flush=True)

    def _doc(self, doc: str) -> _Doc:
        with self.lock:
            return self.docs.setdefault(doc, _Doc())

    def _refresh(self, doc: str) -> None:
        if self.progress is None:
            return
        d = self._doc(doc)
        n, est = d.tokens()
        elapsed = int(time.monotonic() - d.start)
        fields = dict(tokens=_tok(n, est), cost=format_usd(d.cost) if (d.cost is not None or not d.priced) else "",
                      count=f"{d.done_calls}/{d.total}" if d.total else str(d.done_calls), elapsed=f"{elapsed // 60}:{elapsed % 60:02d}")
        if doc in self.tasks:
            self.progress.update(self.tasks[doc], **fields)
        if self.total_task is not None:
            toks = [x.tokens() for x in self.docs.values()]
            cost: float | None = None
            for x in self.docs.values():
                cost = add_cost(cost, x.cost)
            priced = all(x.priced for x in self.docs.values())
            self.progress.update(self.total_task, tokens=_tok(sum(t for t, _ in toks), any(e for _, e in toks)),
                                 cost=format_usd(cost) if cost is not None or not priced else "")

    def _refresh_all(self) -> None:
        for doc in list(self.docs):
            self._refresh(doc)

    def event(self, kind: str, **d: Any) -> None:
        doc = d.get("document", "")
        st = self._doc(doc)
        label = d.get("label", "")
        if kind == "text":
            with self.lock:
                st.stream_chars[label] = st.stream_chars.get(label, 0) + d["chars"]
            self._refresh(doc)
            return
        if kind == "tokens":
            with self.lock:
                st.server_tokens += d["tokens"]
                st.stream_chars.pop(label, None)  # the server's count replaces the estimate
            self._refresh(doc)
            return
        if kind == "attempt":
            a = d["attempt"]
            with self.lock:
                st.stream_chars.pop(label, None)
                if d["cost"] is None and a.usage.all_input + a.usage.output_tokens:
                    st.priced = False
                st.cost = add_cost(st.cost, d["cost"])
            self._refresh(doc)
            return
        if kind == "units":
            with self.lock:
                st.total = max(st.done_calls, 1) + d["count"]  # the outline call(s), then one per unit
            if self.progress is not None and doc in self.tasks:
                self.progress.update(self.tasks[doc], total=st.total)
                self._refresh(doc)
            else:
                self._say(f"{doc}: outline ready, writing {d['count']} sections")
        elif kind == "call_start":
            if self.progress is None:
                self._say(f"{doc}: {label} started")
        elif kind == "call_end":
            with self.lock:
                st.done_calls += 1
            if self.progress is not None and doc in self.tasks:
                self.progress.update(self.tasks[doc], advance=1)
                self._refresh(doc)
            else:
                u = d["usage"]
                self._say(f"{doc}: {label} done in {d.get('seconds', 0):.1f} s, {u.output_tokens:,} tokens out, "
                          f"{u.all_input:,} in ({u.cache_read_tokens:,} from cache), {format_usd(st.cost) if st.cost is not None or not st.priced else '$0'} so far")
        elif kind == "call_failed":
            if not d.get("cancelled"):
                self._say(f"{doc}: {label} failed: {d['error']}")
            elif self.progress is None:
                self._say(f"{doc}: {label} not finished (stopped)")
        elif kind == "retry":
            self._say(d["message"])
        elif kind == "notice":
            self._say(d["message"])
        elif kind == "unit_failed":
            self._say(f"{doc}: {d['message']}")
        elif kind == "repair":
            if self.progress is not None and doc in self.tasks:
                with self.lock:
                    st.total = (st.total or 0) + d["units"]
                self.progress.update(self.tasks[doc], total=st.total, description=self._name(doc, f" r{d['round']}"))
            else:
                self._say(f"{doc}: repair round {d['round']} for {d['units']} section(s)")

    def document_done(self, doc: str, status: str) -> None:
        st = self._doc(doc)
        st.status = status
        if self.progress is not None:
            if doc in self.tasks:
                self.progress.update(self.tasks[doc], description=self._name(doc, f" [{status}]"[:14]))
                self._refresh(doc)
            if self.total_task is not None:
                self.progress.update(self.total_task, advance=1)
