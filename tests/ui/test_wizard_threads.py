"""The production runner: real daemon threads, callbacks that return at once, joined with a deadline."""

from __future__ import annotations

import threading
from collections.abc import Callable

from wizard_driver import make_wizard

from nim_widget.sandbox import Sandbox
from nim_widget.ui.worker import thread_runner

DEADLINE = 30.0


def test_deploy_runs_on_a_named_daemon_thread_and_the_click_returns_at_once(sandbox: Sandbox) -> None:
    started: list[threading.Thread] = []

    def recording_runner(job: Callable[[], None], *, name: str) -> threading.Thread:
        thread = thread_runner(job, name=name)
        started.append(thread)
        return thread

    wizard = make_wizard(sandbox, runner=recording_runner)
    assert wizard.join(DEADLINE)
    assert [t.name for t in started] == ["nim-wizard-discovery-demo"]
    assert wizard.facts is not None and wizard.picker.visible_rows()

    wizard.picker.choose(key="llama-3.2-1b-instruct")
    wizard.next.click()
    wizard.deployment.display_name.value = "Threaded"
    wizard.next.click()
    wizard.next.click()
    # A slow API server: the write takes a second, the click must not wait for it.
    sandbox.faults.add(verb="create", resource="inferenceservices", dry_run=False, latency=1.0)
    wizard.deploy_button.click()
    deploy_thread = started[-1]
    assert deploy_thread.name == "nim-deploy-threaded" and deploy_thread.daemon
    assert deploy_thread.is_alive() and deploy_thread is not threading.current_thread()
    assert wizard.current_step == 5 and wizard.back.disabled
    assert wizard.join(DEADLINE)
    assert "Threaded is deployed" in wizard.progress.outcome.value
    assert wizard.last_result is not None and len(wizard.last_result.created) >= 3
    assert not wizard.deploy_button.disabled  # busy flag released by the worker


def test_displaying_the_wizard_displays_its_root_widget(sandbox: Sandbox) -> None:
    wizard = make_wizard(sandbox)
    bundle = wizard._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == wizard.widget.model_id
    assert "nimw-root" in wizard.widget._dom_classes
    wizard.close()
    assert wizard.widget.comm is None
