"""Request problems found against the cluster, as one error of the right kind.

`validate_against_facts` (request.py) lists field problems; a person and the CLI's exit code need to
know what kind of problem it is: a project or name the cluster does not have (bad input), an account
or template that is not ready (the cluster's state), or a deployment name already taken.
"""

from __future__ import annotations

from collections.abc import Sequence

from nim_widget.cluster.errors import (
    AlreadyExists,
    NimAccountError,
    NimWidgetError,
    RequestInvalid,
    TemplateError,
    UnknownNameError,
)
from nim_widget.deploy.steps import Step
from nim_widget.facts import ACCOUNT_NOT_FOUND_TITLE, ClusterFacts
from nim_widget.request import FieldError, field_errors_to_dict

# Fields whose problem means "the cluster has no such thing" (CLI exit 2).
_NAME_FIELDS = ("model", "tag", "hardwareProfile", "storage.storageClass")


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _detail(causes: dict[str, str], first: Sequence[str]) -> str:
    lead = " ".join(_sentence(causes[f]) for f in first if f in causes)
    rest = "; ".join(f"{f}: {m.rstrip('.')}" for f, m in causes.items() if f not in first)
    if not rest:
        return lead
    return f"{lead} Also: {rest}." if lead else f"{rest}."


# Lists discovery skipped (usually: not allowed to read) that can explain "not found" for a field.
_EXPLAINED_BY = {
    "hardwareProfile": "hardwareprofiles/",
    "storage.storageClass": "storageclasses",
    "account": "accounts/",
}


def _explained(causes: dict[str, str], facts: ClusterFacts) -> dict[str, str]:
    """Add why something may look absent: a list the user could not read names that permission."""
    result = dict(causes)
    for field_name, prefix in _EXPLAINED_BY.items():
        reasons = [
            f"{s.key.replace('/', ' in ')}: {s.reason}" for s in facts.skipped if s.key.startswith(prefix)
        ]
        if field_name in result and reasons:
            result[field_name] = (
                f"{_sentence(result[field_name])} Not everything could be read: {'; '.join(reasons)}"
            )
    return result


def validation_error(*, errors: Sequence[FieldError], facts: ClusterFacts) -> NimWidgetError | None:
    """The most important problem decides the error type; every problem stays in `causes`."""
    if not errors:
        return None
    causes = _explained(field_errors_to_dict(list(errors)), facts)
    if "project" in causes:
        return UnknownNameError(
            "Unknown project", _detail(causes, ["project"]), causes=causes, step=Step.LOAD_TEMPLATE
        )
    if "account" in causes:
        account = facts.account
        if account is None:
            title = ACCOUNT_NOT_FOUND_TITLE
        elif account.state == "error":
            title = account.title
        else:
            title = NimAccountError.default_title
        detail = _detail(causes, ["account"])
        if detail.startswith(f"{title}: "):  # the rule's message leads with the same heading
            detail = detail[len(title) + 2 :]
        return NimAccountError(title, detail, causes=causes, step=Step.LOAD_TEMPLATE)
    if "template" in causes:
        return TemplateError(detail=_detail(causes, ["template"]), causes=causes, step=Step.LOAD_TEMPLATE)
    unknown = [f for f in _NAME_FIELDS if f in causes]
    name_message = causes.get("name", "")
    if "storage.pvcName" in causes and "was not found" in causes["storage.pvcName"]:
        unknown.append("storage.pvcName")
    if "name" in causes and "to update" in name_message:
        unknown.append("name")
    if unknown:
        return UnknownNameError(detail=_detail(causes, unknown), causes=causes, step=Step.RESOLVE_NAMES)
    if "already exists" in name_message:
        return AlreadyExists(detail=_detail(causes, ["name"]), causes=causes, step=Step.RESOLVE_NAMES)
    return RequestInvalid(causes=causes, step=Step.RESOLVE_NAMES)
