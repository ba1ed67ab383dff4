"""Running slow work off the widget callback, and publishing its results back to widgets.

Callbacks must return at once: in Voila a blocking callback holds the only shell, and in JupyterLab 4
it may run on a subshell thread with its own event loop (see the threading notes in the docs). So every
piece of I/O (cluster discovery, dry run, deploy) goes through a :data:`Runner`, which by default starts
one named daemon thread per job. Tests inject :func:`inline_runner` to run the same code synchronously,
which keeps them deterministic without mocking anything.

The worker never prints, displays or creates widgets; it only sets values of widgets built up front,
through :class:`UiPublisher`, which serialises those writes with one lock and batches each group of
trait changes with ``hold_sync`` so the frontend sees a consistent state.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

import ipywidgets as widgets


class Runner(Protocol):
    """Starts ``job`` somewhere and returns immediately (or after running it, for inline runners)."""

    def __call__(self, job: Callable[[], None], *, name: str) -> threading.Thread | None: ...


def thread_runner(job: Callable[[], None], *, name: str) -> threading.Thread:
    """The production runner: one daemon thread per job, named so it shows up in thread dumps.

    Daemon, because a Voila kernel dies with its tab and must not hang on a half-finished deploy;
    the cluster, not the UI, is the source of truth after a reload.
    """
    thread = threading.Thread(target=job, name=name, daemon=True)
    thread.start()
    return thread


def inline_runner(job: Callable[[], None], *, name: str) -> None:
    """Runs the job in the caller's thread: for tests and scripted use."""
    del name
    job()


class UiPublisher:
    """The one door through which worker threads change widgets.

    One lock for the whole wizard: two jobs (say, a dry run and a catalog retry) never interleave
    half-updates of the same widgets, and callbacks that touch status widgets take the same lock.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def batch(self, *targets: widgets.Widget) -> Iterator[None]:
        """Hold the lock and delay syncing ``targets`` so their changes leave as one message each."""
        with self._lock, contextlib.ExitStack() as stack:
            for target in targets:
                stack.enter_context(target.hold_sync())
            yield


def safe_job(job: Callable[[], None], *, on_crash: Callable[[BaseException], None]) -> Callable[[], None]:
    """Wrap a job so an unexpected exception becomes a visible message instead of vanishing.

    Exceptions in threads (and in Voila callbacks) have nowhere to print; ``on_crash`` shows them in
    the UI. Expected failures are handled by the job itself; this is the last line of defence.
    """

    def run() -> None:
        try:
            job()
        except Exception as exc:  # the last line of defence: shown to the user
            on_crash(exc)

    return run
