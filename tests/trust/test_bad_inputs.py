"""The bad-input corpus through every door: the library, the CLI and the wizard.

Each row of `corpus.CORPUS` must come back as a message on the right field (its spec path and a key
phrase) and must not cause a single write request: the sandbox's request log may hold no POST, PUT,
PATCH or DELETE afterwards, dry run or not. Refusing late (a dry run the cluster rejects) is not good
enough: a person should hear about their typo before anything is sent.

The doors share one sandbox per module: a correct run writes nothing, so there is nothing to reset
but the request log.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest
from corpus import CORPUS, Case
from kubernetes import client

from nim_widget.cli import main
from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect_client
from nim_widget.cluster.errors import NimWidgetError
from nim_widget.deploy.orchestrator import deploy
from nim_widget.request import SpecError, load_spec
from nim_widget.sandbox import FakeClock, Sandbox
from nim_widget.ui import NimWizard
from nim_widget.ui.deployment import NO_PROFILE
from nim_widget.ui.form import INVALID_CLASS
from nim_widget.ui.validation import step_of
from nim_widget.ui.worker import inline_runner

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
EXIT_BAD_INPUT = 2
IDS = [case.id for case in CORPUS]
WIDGET_CASES = [case for case in CORPUS if case.widget]
PROCESS_CASES = [case for case in CORPUS if case.subprocess]


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    with Sandbox(world="demo", clock=FakeClock(), controllers=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def kubeconfig(shared: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(shared.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig", namespace="demo"))


@pytest.fixture(scope="module")
def api(shared: Sandbox) -> Iterator[Api]:
    with shared.api_client() as api_client:
        yield Api(api_client=api_client, sleep=lambda _seconds: None)


@pytest.fixture
def sandbox_log(shared: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox with an empty request log; afterwards the log must hold no write."""
    shared.log.clear()
    yield shared
    assert_no_writes(shared)


def assert_no_writes(sandbox: Sandbox) -> None:
    writes = [
        f"{e.method} {e.path}{' (dry run)' if e.dry_run else ''} -> {e.status}"
        for e in sandbox.log.entries
        if e.method in WRITE_METHODS
    ]
    assert not writes, "a bad input caused write requests:\n" + "\n".join(writes)


def assert_message(messages: dict[str, str], case: Case, door: str) -> None:
    assert case.field in messages, f"{door}: {case.id}: no message for {case.field!r}, got {messages}"
    assert case.phrase in messages[case.field], (
        f"{door}: {case.id}: {case.field}: {messages[case.field]!r} lacks {case.phrase!r}"
    )


def spec_file(case: Case, directory: Path) -> Path:
    path = directory / f"{case.id}.yaml"
    text = case.spec_text()
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_the_corpus_is_large_and_every_row_is_distinct() -> None:
    assert len(CORPUS) >= 50
    assert len(set(IDS)) == len(IDS)
    assert len({case.spec_text() for case in CORPUS}) == len(CORPUS)
    print(
        f"\nbad-input corpus: {len(CORPUS)} cases; doors: library {len(CORPUS)}, "
        f"CLI {len(CORPUS)} (+{len(PROCESS_CASES)} as real processes), widget {len(WIDGET_CASES)}"
    )


# ---------------------------------------------------------------------------------------- library


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_library_door(case: Case, sandbox_log: Sandbox, api: Api) -> None:
    """The spec text through `load_spec` and `deploy`, and the same spec as a mapping through `deploy`."""
    del sandbox_log
    try:
        request = load_spec(text=case.spec_text())
    except SpecError as error:
        assert_message(error.errors, case, "load_spec")
    else:
        with pytest.raises(NimWidgetError) as caught:
            deploy(api=api, request=request)
        assert caught.value.bad_input, f"{case.id}: {caught.value!r} is not reported as bad input"
        assert_message(caught.value.causes, case, "deploy(spec file)")
    if case.text is None:
        events: list[Any] = []
        with pytest.raises(NimWidgetError) as caught:
            deploy(api=api, request=case.spec(), on_event=events.append)
        assert caught.value.bad_input
        assert_message(caught.value.causes, case, "deploy(mapping)")
        reached = {e.step for e in events if e.state != "pending"}
        assert max(reached) <= 3, f"{case.id}: the deploy got as far as step {max(reached)}"


def test_an_absolute_subpath_is_made_relative_rather_than_refused() -> None:
    """`/abs` is not in the corpus on purpose: the rule strips the leading `/` (the wizard walk test
    relies on it), so it never reaches Kubernetes, which would reject an absolute subPath."""
    request = load_spec(text=Case("abs", "", "", {"storage": {"subPath": "/abs/models/"}}).spec_text())
    assert request.storage.sub_path == "abs/models"


# -------------------------------------------------------------------------------------------- CLI


def cli_line(stderr: str, case: Case) -> str | None:
    label = case.field or "spec"
    return next(
        (line for line in stderr.splitlines() if line.startswith(f"  {label}: ") and case.phrase in line),
        None,
    )


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_cli_door(
    case: Case, sandbox_log: Sandbox, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`nim-widget deploy -f SPEC` through the real entry point, in this process."""
    del sandbox_log
    path = spec_file(case, tmp_path)
    code = main(["deploy", "-f", str(path), "--kubeconfig", kubeconfig])
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT, f"{case.id}: exit {code}\n{out}\n{err}"
    assert err.startswith("Error: "), err
    assert cli_line(err, case), f"{case.id}: no '  {case.field or 'spec'}: ...{case.phrase}...' in\n{err}"
    assert "Traceback" not in err + out


def test_cli_door_as_real_processes(shared: Sandbox, kubeconfig: str, tmp_path: Path) -> None:
    """A few rows as `python -m nim_widget deploy` processes, started together to share the wait."""
    shared.log.clear()
    processes = [
        (
            case,
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nim_widget",
                    "deploy",
                    "-f",
                    str(spec_file(case, tmp_path)),
                    "--kubeconfig",
                    kubeconfig,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for case in PROCESS_CASES
    ]
    assert len(processes) >= 5
    for case, process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == EXIT_BAD_INPUT, f"{case.id}: exit {process.returncode}\n{out}\n{err}"
        assert cli_line(err, case), f"{case.id}: no field line in\n{err}"
        assert "Traceback" not in err + out
    assert_no_writes(shared)


# ----------------------------------------------------------------------------------------- widget


def make_wizard(sandbox: Sandbox) -> NimWizard:
    configuration = sandbox.configuration()
    connection = connect_client(api_client=client.ApiClient(configuration), namespace="demo")
    return NimWizard(
        connection=connection,
        runner=inline_runner,
        demo=True,
        clock=lambda: datetime.fromtimestamp(sandbox.clock.now(), UTC),
    )


def fill_step_two(wizard: NimWizard, spec: dict[str, Any]) -> None:
    """Type the spec into step 2 the way a person would; refuse what the controls cannot hold."""
    section, storage = wizard.deployment, wizard.storage
    section.display_name.value = spec["displayName"]
    if "name" in spec:
        section.edit_resource.click()
        section.resource_name.value = spec["name"]
    if "description" in spec:
        section.description.value = spec["description"]
    profile = spec.get("hardwareProfile")
    refs = {value: value for _, value in section.profile.options}
    refs.update({value.split("/")[-1]: value for _, value in section.profile.options if value})
    section.profile.value = NO_PROFILE if profile is None else refs[profile]
    resources = spec.get("resources", {})
    if profile is not None:
        requests, limits = resources.get("requests", {}), resources.get("limits", {})
        assert requests == limits, "the profile's fields set requests and limits together"
        for resource, value in requests.items():
            slot = section.slot_for(resource)
            assert slot is not None, f"profile {profile} has no field for {resource}"
            slot.text.value = value
    else:
        for kind, values in resources.items():
            for resource, value in values.items():
                section.custom.text(kind=kind, resource=resource).value = value
    assert isinstance(spec["replicas"], int), "the replicas box holds integers only"
    section.replicas.value = spec["replicas"]
    wanted = spec["storage"]
    assert wanted.get("mode", "new") == "new"
    size = re.fullmatch(r"(-?\d+)(Gi|Ti)", wanted["size"])
    assert size is not None, f"the size box holds a whole number of GiB or TiB, not {wanted['size']}"
    storage.size.value = int(size[1])
    storage.unit.value = size[2]
    if "pvcName" in wanted:
        storage.pvc_name.value = wanted["pvcName"]
    if "subPath" in wanted:
        storage.sub_path.value = wanted["subPath"]


def shown(wizard: NimWizard, path: str) -> tuple[str, widgets.Widget]:
    """The message the wizard shows for a spec path, and the control that should be marked invalid."""
    section, storage = wizard.deployment, wizard.storage
    fields = {
        "displayName": section.name_field,
        "name": section.resource_field,
        "description": section.description_field,
        "replicas": section.replicas_field,
        "storage.size": storage.size_field,
        "storage.subPath": storage.sub_path_field,
        "storage.pvcName": storage.pvc_name_field,
    }
    if path in fields:
        return fields[path].message or "", fields[path].control
    if path.startswith("resources."):
        _, kind, resource = path.split(".", 2)
        if section.selected_profile() is None:
            field = section.custom.fields[(kind, resource)]
        else:
            slot = section.slot_for(resource)
            assert slot is not None
            field = slot.field
        return field.message or "", field.control
    assert path == "env" or path.startswith("env["), path
    marked = [row for row in wizard.env.rows if row.message]
    assert marked, "no environment row shows a message"
    return " | ".join(row.message or "" for row in marked), marked[-1].name


@pytest.mark.parametrize("case", WIDGET_CASES, ids=[case.id for case in WIDGET_CASES])
def test_widget_door(case: Case, sandbox_log: Sandbox) -> None:
    """The same input typed into a NimWizard: the field says why, Next and Deploy go nowhere."""
    widgets.Widget.close_all()
    spec = case.spec()
    wizard = make_wizard(sandbox_log)
    try:
        wizard.picker.choose(key=spec["model"])
        wizard.next.click()
        assert wizard.current_step == 2
        fill_step_two(wizard, spec)
        step = step_of(case.field)
        if step == 3:
            wizard.next.click()
            assert wizard.current_step == 3, wizard.check.errors
            for item in spec["env"]:
                wizard.env.add_row(name=item.get("name", ""), value=item.get("value", ""))
        wizard.next.click()  # blocked: stays and reveals every message of the step
        assert wizard.current_step == step
        assert wizard.next.disabled
        assert_message(dict(wizard.check.errors), case, "wizard check")
        message, control = shown(wizard, case.field)
        assert case.phrase in message, f"{case.id}: the field shows {message!r}"
        assert INVALID_CLASS in control._dom_classes
        with pytest.raises(ValueError, match="is not complete"):
            wizard.go_to(4)
        wizard.deploy_button.click()  # hidden before the review; must do nothing even when clicked
        wizard.start_deploy()
        assert wizard.current_step == step and wizard.last_result is None and wizard.last_error is None
    finally:
        wizard.close()
        wizard.connection.close()
        widgets.Widget.close_all()
