"""Golden tests: each wizard input renders to the checked-in YAML under golden/.

Regenerate after an intended change with `NIM_WIDGET_REGEN_GOLDEN=1 pytest tests/assembly`, then review
the diff against reference section B before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from assembly_world import world
from golden_cases import CASES, Case

from nim_widget.manifests import Plan, assemble
from nim_widget.request import load_spec

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("NIM_WIDGET_REGEN_GOLDEN") == "1"


def plan_for(case: Case) -> Plan:
    request = load_spec(text=case.spec)
    return assemble(request=request, facts=world(**case.world), update=case.update, overwrite=case.overwrite)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 12
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_rendered_plan_matches_golden(case: Case) -> None:
    rendered = plan_for(case).render_yaml()
    path = GOLDEN / f"{case.id}.yaml"
    if REGENERATE:
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file for {case.id}; run with NIM_WIDGET_REGEN_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_rendered_yaml_is_the_redacted_plan(case: Case) -> None:
    plan = plan_for(case)
    documents = [doc for doc in yaml.safe_load_all(plan.render_yaml()) if doc is not None]
    assert documents == [item.redacted_manifest() for item in plan.objects]


def test_no_golden_file_without_a_case() -> None:
    assert {p.stem for p in GOLDEN.glob("*.yaml")} == {case.id for case in CASES}
