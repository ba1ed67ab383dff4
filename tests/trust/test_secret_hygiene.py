"""A recognisable NGC key goes through every deploy path; nothing a person or a log sees may carry it.

The sandbox gets a cluster-level NIM account whose key is a fresh canary (`nvapi-LEAKCANARY-...`); the
account controller builds its pull secret from it, so every deploy into a new project copies both
secrets and the key travels through discovery, the plan, the dry run and the writes. Each test then
searches what comes out (events, results, rendered YAML, exception text and tracebacks, DEBUG logs,
CLI output, widget state, notebook outputs, the Voila page) for the key in every form it takes:
plain, base64, inside the dockerconfigjson, and as the Secret's data carries it. A hit prints where.

Every test also checks that the secrets it deployed really carry the canary, so a search can never
pass because the key was not there to find.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import secrets
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import ipywidgets as widgets
import pytest
from kubernetes import client

from nim_widget.cli import main
from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect_client
from nim_widget.cluster.discovery import gather
from nim_widget.cluster.errors import NimWidgetError
from nim_widget.deploy.orchestrator import deploy
from nim_widget.deploy.steps import StepEvent
from nim_widget.manifests import assemble
from nim_widget.request import DeploymentRequest, dump_spec
from nim_widget.sandbox import FakeClock, Sandbox
from nim_widget.ui import NimWizard
from nim_widget.ui.worker import inline_runner

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
CANARY = f"nvapi-LEAKCANARY-{secrets.token_hex(20)}"
ACCOUNT_NS = "opendatahub"
MODEL = "llama-3.1-8b-instruct"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def base64_fragments(value: str) -> list[str]:
    """The part of base64(value) that is the same wherever `value` sits inside a larger encoded blob:
    one fragment per alignment (0, 1 or 2 bytes before it), edges that depend on neighbours trimmed."""
    fragments = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value.encode("utf-8")).decode("ascii")
        fragments.append(encoded[4:-4])
    return fragments


class Canary:
    """The key and every form of it worth searching for."""

    def __init__(self, *, key: str, pull_data: str) -> None:
        config = base64.b64decode(pull_data).decode("utf-8")
        assert key in config, "the account's pull secret was not built from the canary key"
        self.key = key
        self.needles: dict[str, str] = {
            "the key": key,
            "base64(key)": b64(key),
            "the dockerconfigjson": config,
            "base64(dockerconfigjson), as Secret data": pull_data,
            "base64 of the Secret data": b64(pull_data),
        }
        for auth in (json.loads(config).get("auths") or {}).values():
            if auth.get("auth"):
                self.needles["the registry auth field"] = str(auth["auth"])
        for shift, fragment in enumerate(base64_fragments(key)):
            self.needles[f"the key base64-encoded inside a blob (alignment {shift})"] = fragment
        for shift, fragment in enumerate(base64_fragments(config)):
            self.needles[f"the dockerconfigjson base64-encoded inside a blob (alignment {shift})"] = fragment

    def leaks(self, where: str, text: str) -> list[str]:
        found = []
        for name, value in self.needles.items():
            at = text.find(value)
            if at >= 0:
                before = text[max(0, at - 80) : at].replace("\n", "\\n")
                after = text[at + len(value) : at + len(value) + 80].replace("\n", "\\n")
                found.append(f"{where}: {name} at offset {at}: ...{before}[SECRET]{after}...")
        return found

    def assert_clean(self, surfaces: Mapping[str, str]) -> None:
        assert surfaces and all(isinstance(text, str) for text in surfaces.values())
        leaks = [leak for where, text in surfaces.items() for leak in self.leaks(where, text)]
        assert not leaks, f"{len(leaks)} leak(s) of the NGC key:\n" + "\n".join(leaks)


def test_the_search_finds_the_key_in_every_form() -> None:
    """The scanner itself: each form is found, also inside larger base64 blobs at any alignment."""
    key = f"nvapi-LEAKCANARY-{secrets.token_hex(20)}"
    config = json.dumps({"auths": {"nvcr.io": {"username": "$oauthtoken", "password": key}}})
    canary = Canary(key=key, pull_data=b64(config))
    hidden = [
        f"key={key}",
        f"data: {b64(key)}",
        config.replace(" ", ""),
        b64(config),
        b64(b64(config)),
        *(b64(prefix + config + "}") for prefix in ("", "x", "xy", "{'a': 1}")),
        *(b64(prefix + key) for prefix in ("", "a", "ab", "abc")),
    ]
    for text in hidden:
        assert canary.leaks("test", f"<div>{text}</div>"), text
    assert not canary.leaks("test", f"<redacted> {b64('<redacted>')} nvapi-LEAKCANARY-")


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Sandbox, Canary]]:
    """The demo world plus a cluster-level NIM account keyed with the canary, reconciled."""
    with Sandbox(world="demo", clock=FakeClock(), controllers=True) as sb:
        sb.store.create(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": "nvidia-nim-access", "namespace": ACCOUNT_NS},
                "data": {"api_key": b64(CANARY)},
            },
        )
        sb.store.create(
            "accounts.nim.opendatahub.io",
            {
                "apiVersion": "nim.opendatahub.io/v1",
                "kind": "Account",
                "metadata": {"name": "odh-nim-account", "namespace": ACCOUNT_NS},
                "spec": {"apiKeySecret": {"name": "nvidia-nim-access"}},
            },
        )
        clock = sb.clock
        assert isinstance(clock, FakeClock)
        clock.advance(600)  # the account controller validates the key and writes the pull secret
        pull = sb.store.get("secrets", ACCOUNT_NS, "odh-nim-account-pull")
        yield sb, Canary(key=CANARY, pull_data=pull["data"][".dockerconfigjson"])


def new_project(sandbox: Sandbox, name: str) -> str:
    sandbox.store.create(
        "namespaces",
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"opendatahub.io/dashboard": "true"}},
        },
    )
    return name


def assert_secrets_carry_the_canary(sandbox: Sandbox, canary: Canary, project: str) -> None:
    """The positive control: the deploy really sent the key (the sandbox logged the Secret creates
    with their bodies), so the searches had something to find. Booleans only: a failing assert must
    not print the key either."""
    sent = {
        str(e.body["metadata"]["name"]): e.body.get("data") or {}
        for e in sandbox.log.find(verb="create", resource="secrets")
        if e.namespace == project and not e.dry_run and e.status == 201 and isinstance(e.body, dict)
    }
    key_sent = "nvidia-nim-secrets" in sent and sent["nvidia-nim-secrets"].get("NGC_API_KEY") == b64(
        canary.key
    )
    assert key_sent, f"no nvidia-nim-secrets carrying the canary key was created in {project}"
    pull = canary.needles["base64(dockerconfigjson), as Secret data"]
    pull_sent = "ngc-secret" in sent and sent["ngc-secret"].get(".dockerconfigjson") == pull
    assert pull_sent, f"no ngc-secret carrying the canary pull secret was created in {project}"


def spec(project: str, display_name: str) -> dict[str, Any]:
    return {
        "project": project,
        "displayName": display_name,
        "model": MODEL,
        "hardwareProfile": "nvidia-gpu-1x",
        "storage": {"mode": "new", "size": "50Gi"},
        "env": [{"name": "NIM_MAX_MODEL_LEN", "value": "8192"}],
    }


def event_text(events: list[StepEvent]) -> str:
    return "\n".join(
        f"{e!r}\n{e.line()}\n{e.detail}\n{e.manifests!r}\n{json.dumps(e.manifests, default=str)}"
        for e in events
    )


def error_text(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), repr(vars(error)), *traceback.format_exception(error)])


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything logged at DEBUG: our loggers and the kubernetes client's, as a user enabling it sees."""
    caplog.set_level(logging.DEBUG)
    for name in ("nim_widget", "kubernetes", "client", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


# ----------------------------------------------------------------------------------------- library


def test_library_deploy_shows_no_key(
    world: tuple[Sandbox, Canary], debug_logs: pytest.LogCaptureFixture
) -> None:
    sandbox, canary = world
    project = new_project(sandbox, "canary-lib")
    with sandbox.api_client() as api_client:
        api = Api(api_client=api_client)
        facts = gather(api=api, project=project)
        read = facts.api_key.reveal() if facts.api_key is not None else ""
        assert read in (canary.key, b64(canary.key)), "discovery did not read the canary key"
        request = DeploymentRequest.model_validate(spec(project, "Canary library"))
        plan = assemble(request=request, facts=facts)
        events: list[StepEvent] = []
        result = deploy(api=api, request=request, on_event=events.append)
    assert_secrets_carry_the_canary(sandbox, canary, project)
    surfaces = {
        "repr(facts)": repr(facts),
        "str(facts.api_key)": f"{facts.api_key} {facts.docker_config_json}",
        "Plan.render_yaml()": plan.render_yaml(),
        "repr(plan)": repr(plan),
        "str(plan.objects)": str(plan.objects),
        "print(manifest)": "\n".join(str(o.manifest) for o in plan.objects),
        "redacted manifests": json.dumps([o.redacted_manifest() for o in plan.objects], default=str),
        "Plan.redacted()": repr(plan.redacted()) + json.dumps(plan.redacted().render_yaml()),
        "dump_spec": dump_spec(request=request),
        "step events": event_text(events),
        "repr(result)": repr(result),
        "result.summary()": result.summary(),
        "result.plan.render_yaml()": result.plan.render_yaml(),
        "result.manifests": json.dumps(result.manifests, default=str),
        "DEBUG logs": debug_logs.text,
    }
    canary.assert_clean(surfaces)
    assert "<redacted>" in plan.render_yaml()


def test_failures_show_no_key(world: tuple[Sandbox, Canary], debug_logs: pytest.LogCaptureFixture) -> None:
    """A write failing after the secrets went out (rolled back), and a refusal that echoes the Secret's
    data back, as a careless admission webhook might: exception text, tracebacks, events and logs."""
    sandbox, canary = world
    surfaces: dict[str, str] = {}
    with sandbox.api_client() as api_client:
        api = Api(api_client=api_client, sleep=lambda _seconds: None)

        project = new_project(sandbox, "canary-fail")
        sandbox.faults.add(verb="create", resource="inferenceservices", dry_run=False, status=500)
        events: list[StepEvent] = []
        with pytest.raises(NimWidgetError) as failed:
            deploy(api=api, request=spec(project, "Canary failure"), on_event=events.append)
        assert "Everything this run wrote was undone" in failed.value.detail
        assert sandbox.store.try_get("secrets", project, "ngc-secret") is None
        surfaces["rolled-back failure"] = error_text(failed.value)
        surfaces["rolled-back events"] = event_text(events)

        project = new_project(sandbox, "canary-echo")
        echoed = canary.needles["base64(dockerconfigjson), as Secret data"]
        sandbox.faults.add(
            verb="create",
            resource="secrets",
            name=None,
            dry_run=True,
            status=422,
            reason="Invalid",
            message=f'Secret "ngc-secret" is invalid: data[.dockerconfigjson]: Invalid value: "{echoed}"',
        )
        events = []
        with pytest.raises(NimWidgetError) as refused:
            deploy(api=api, request=spec(project, "Canary echo"), on_event=events.append)
        assert refused.value.step == 6 and "<redacted>" in refused.value.detail  # echoed, then scrubbed
        surfaces["echoed refusal"] = error_text(refused.value) + repr(refused.value.causes)
        surfaces["echoed events"] = event_text(events)
    surfaces["DEBUG logs"] = debug_logs.text
    canary.assert_clean(surfaces)


@pytest.mark.parametrize("form", ["the key", "base64(key)"])
def test_a_refusal_quoting_only_the_key_shows_no_key(world: tuple[Sandbox, Canary], form: str) -> None:
    sandbox, canary = world
    project = new_project(sandbox, f"canary-quote-{len(form)}")
    # The project has its key Secret already, so the one Secret created is the pull secret.
    sandbox.store.create(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "nvidia-nim-secrets", "namespace": project},
            "data": {"NGC_API_KEY": b64(canary.key), "api_key": b64(canary.key)},
        },
    )
    fault = sandbox.faults.add(
        verb="create",
        resource="secrets",
        dry_run=True,
        status=422,
        reason="Invalid",
        message=f"admission webhook denied the request: registry password {canary.needles[form]} was revoked",
    )
    with sandbox.api_client() as api_client, pytest.raises(NimWidgetError) as refused:
        deploy(api=Api(api_client=api_client), request=spec(project, "Canary quote"))
    assert fault.hits == 1 and refused.value.step == 6
    canary.assert_clean({"the refusal": error_text(refused.value)})


# --------------------------------------------------------------------------------------------- CLI


def test_cli_render_and_deploy_output_shows_no_key(
    world: tuple[Sandbox, Canary],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    sandbox, canary = world
    project = new_project(sandbox, "canary-cli")
    kubeconfig = str(sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace=project))
    path = tmp_path / "spec.yaml"
    path.write_text(dump_spec(request=DeploymentRequest.model_validate(spec(project, "Canary CLI"))))
    base = ["-f", str(path), "--kubeconfig", kubeconfig]
    outputs: dict[str, str] = {}
    for name, argv, code in (
        ("render", ["render", *base], 0),
        ("deploy --dry-run", ["deploy", *base, "--dry-run"], 0),
        ("deploy", ["deploy", *base], 0),
        ("deploy again (already exists)", ["deploy", *base], 1),
        ("render --update", ["render", *base, "--update"], 0),
    ):
        assert main(argv) == code, name
        out, err = capsys.readouterr()
        outputs[f"nim-widget {name}"] = out + err
    assert "kind: Secret" in outputs["nim-widget render"]
    assert_secrets_carry_the_canary(sandbox, canary, project)

    failing = new_project(sandbox, "canary-cli-fail")
    path.write_text(dump_spec(request=DeploymentRequest.model_validate(spec(failing, "Canary CLI"))))
    sandbox.faults.add(verb="create", resource="inferenceservices", dry_run=False, status=500)
    assert main(["deploy", "-f", str(path), "--kubeconfig", kubeconfig]) == 1
    out, err = capsys.readouterr()
    assert "rolled_back" in out
    outputs["nim-widget deploy (failing)"] = out + err
    outputs["DEBUG logs"] = debug_logs.text

    # And once as a real process: whatever the interpreter, warnings or a logging default would print.
    separate = new_project(sandbox, "canary-cli-process")
    path.write_text(dump_spec(request=DeploymentRequest.model_validate(spec(separate, "Canary process"))))
    done = subprocess.run(
        [sys.executable, "-m", "nim_widget", "deploy", "-f", str(path), "--kubeconfig", kubeconfig],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "always"},
    )
    assert done.returncode == 0, done.stderr
    assert_secrets_carry_the_canary(sandbox, canary, separate)
    outputs["nim-widget deploy as a process"] = done.stdout + done.stderr
    canary.assert_clean(outputs)


# ------------------------------------------------------------------------------------------ widget


def all_widget_state() -> str:
    from ipywidgets.widgets.widget import _instances

    return "\n".join(
        json.dumps(w.get_state(), default=str, ensure_ascii=False) for w in list(_instances.values())
    )


def test_every_widget_state_after_deploys_shows_no_key(
    world: tuple[Sandbox, Canary], debug_logs: pytest.LogCaptureFixture
) -> None:
    sandbox, canary = world
    project = new_project(sandbox, "canary-ui")
    widgets.Widget.close_all()
    configuration = sandbox.configuration()
    wizard = NimWizard(
        connection=connect_client(api_client=client.ApiClient(configuration), namespace=project),
        runner=inline_runner,
        demo=True,
        clock=lambda: datetime.fromtimestamp(sandbox.clock.now(), UTC),
    )
    try:
        assert wizard.facts is not None and wizard.facts.project == project
        wizard.picker.choose(key=MODEL)
        wizard.next.click()
        wizard.deployment.display_name.value = "Canary wizard"
        wizard.next.click()
        wizard.env.add_row(name="NIM_MAX_MODEL_LEN", value="8192")
        wizard.next.click()
        assert wizard.current_step == 4 and "kind: Secret" in wizard.review.yaml_text
        wizard.review.dry_run.click()
        assert "Dry run passed" in wizard.review.dry_run_result.value
        sandbox.faults.add(verb="create", resource="inferenceservices", dry_run=False, status=500)
        wizard.deploy_button.click()
        assert wizard.last_error is not None
        failure_state = all_widget_state()
        failure_text = error_text(wizard.last_error)
        wizard.progress.back_to_form.click()
        wizard.deploy_button.click()
        assert "Canary wizard is deployed" in wizard.progress.outcome.value
        assert_secrets_carry_the_canary(sandbox, canary, project)
        canary.assert_clean(
            {
                "widget state after a failed deploy": failure_state,
                "the failed deploy's error": failure_text,
                "widget state after a deploy": all_widget_state(),
                "review YAML": wizard.review.yaml_text,
                "repr(wizard), last result": f"{wizard!r} {wizard.last_result!r}",
                "DEBUG logs": debug_logs.text,
            }
        )
    finally:
        wizard.close()
        wizard.connection.close()
        widgets.Widget.close_all()


# ---------------------------------------------------------------------------------------- notebook


def test_executed_quickstart_notebook_shows_no_key(
    world: tuple[Sandbox, Canary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not QUICKSTART.is_file():
        pytest.skip(f"{QUICKSTART.relative_to(REPO)} does not exist yet")
    import nbformat
    from nbclient import NotebookClient

    sandbox, canary = world
    project = new_project(sandbox, "canary-nb")
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace=project)
    for name in [k for k in os.environ if k.startswith("NIM_WIDGET_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("NIM_WIDGET_DEMO", "0")  # the canary cluster, never a demo of its own
    notebook: Any = nbformat.read(QUICKSTART, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    executed = json.dumps(outputs, ensure_ascii=False)
    assert "Quickstart" in executed and project in executed
    assert_secrets_carry_the_canary(sandbox, canary, project)
    canary.assert_clean(
        {"executed quickstart.ipynb outputs": executed, "the whole notebook": json.dumps(notebook)}
    )


# -------------------------------------------------------------------------------------------- Voila


def _browser_support() -> Any:
    """The browser tests' helpers (tests/browser/voila_app.py), when that infrastructure is here."""
    browser_dir = REPO / "tests" / "browser"
    if not (browser_dir / "voila_app.py").is_file():
        pytest.skip("tests/browser/voila_app.py is missing: no Voila infrastructure to reuse")
    if str(browser_dir) not in sys.path:
        sys.path.insert(0, str(browser_dir))
    return importlib.import_module("voila_app")


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options pointed at Debian's chromium, as tests/browser does."""
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Debian's chromium is missing ({CHROMIUM})")
        pytest.skip(f"Debian's chromium is missing ({CHROMIUM}); the browser tests never download one")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    }


def test_voila_page_after_a_deploy_shows_no_key(
    world: tuple[Sandbox, Canary], tmp_path: Path, page: Any
) -> None:
    """`nim-widget app` on the canary cluster (a real-cluster run: --kubeconfig), a deploy from the page,
    and the page's whole HTML afterwards."""
    from playwright.sync_api import expect

    support = _browser_support()
    sandbox, canary = world
    project = new_project(sandbox, "canary-voila")
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace=project)
    port = support.free_port()
    log = tmp_path / "app.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIM_WIDGET_")}
    command = [
        sys.executable,
        "-m",
        "nim_widget",
        "app",
        "--no-browser",
        f"--port={port}",
        f"--kubeconfig={kubeconfig}",
        f"--namespace={project}",
        "--debug",
    ]
    with log.open("wb") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
    errors = support.ConsoleErrors()
    try:
        support.wait_for_tcp(port=port, proc=proc, log=log, timeout=support.STARTUP_TIMEOUT)
        page.on("console", errors.on_console)
        page.on("pageerror", errors.on_page_error)
        page.route("**/*", errors.route)
        page.goto(f"http://127.0.0.1:{port}/")
        expect(page.locator(".nimw-root")).to_be_visible(timeout=60_000)
        expect(page.locator(".nimw-header-account .nimw-pill-ready")).to_be_visible(timeout=60_000)
        page.locator(".nimw-picker-search input").fill("llama 3.1 8b")
        listbox = page.locator(".nimw-picker-list select")
        option = listbox.locator("option", has_text="Llama 3.1 8B Instruct")
        expect(option).to_have_count(1, timeout=60_000)
        listbox.select_option(cast(str, option.get_attribute("value")))
        next_button = page.locator("button.nimw-next")
        expect(next_button).to_be_enabled()
        next_button.click()
        page.locator(".nimw-name input").fill("Canary page")
        expect(next_button).to_be_enabled()
        next_button.click()
        next_button.click()
        expect(page.locator(".nimw-review-yaml")).to_contain_text("kind: Secret")
        page.locator("button.nimw-deploy").click()
        expect(page.locator(".nimw-outcome .nimw-result")).to_be_visible(timeout=60_000)
        assert_secrets_carry_the_canary(sandbox, canary, project)
        html = page.content()
        frames = "\n".join(frame.content() for frame in page.frames)
        canary.assert_clean({"the Voila page's HTML": html, "every frame's HTML": frames})
        assert errors.messages == []
    finally:
        support.stop_process(proc)
    canary.assert_clean({"the app's log": log.read_text(errors="replace")})
