from __future__ import annotations

import threading

import ipywidgets as widgets

from nim_widget.ui.worker import UiPublisher, inline_runner, safe_job, thread_runner


def test_thread_runner_starts_a_named_daemon_thread() -> None:
    seen: list[threading.Thread] = []
    thread = thread_runner(lambda: seen.append(threading.current_thread()), name="nim-test-job")
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert seen == [thread]
    assert thread.daemon and thread.name == "nim-test-job"


def test_inline_runner_runs_in_the_callers_thread() -> None:
    seen: list[threading.Thread] = []
    inline_runner(lambda: seen.append(threading.current_thread()), name="x")
    assert seen == [threading.current_thread()]


def test_safe_job_reports_crashes_instead_of_raising() -> None:
    crashes: list[BaseException] = []

    def boom() -> None:
        raise RuntimeError("boom")

    safe_job(boom, on_crash=crashes.append)()
    assert [str(c) for c in crashes] == ["boom"]


def test_publisher_batches_under_one_reentrant_lock() -> None:
    publisher = UiPublisher()
    html = widgets.HTML(value="a")
    with publisher.batch(html), publisher.batch(html):
        html.value = "b"
    assert html.value == "b"
    acquired: list[bool] = []
    with publisher.batch():
        thread = threading.Thread(target=lambda: acquired.append(publisher._lock.acquire(timeout=0.05)))
        thread.start()
        thread.join(timeout=10)
    assert acquired == [False]
