"""Stop and start a deployment the way the dashboard does: the `serving.kserve.io/stop` annotation.

KServe scales a stopped InferenceService to zero and keeps everything else (runtime, cache PVC,
access objects), so starting again skips the model download. The dashboard writes the annotation
with a JSON patch (`add`, value "true" or "false", never removing it: reference C.5); we send the
same patch so either tool sees the other's stop and start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import NimWidgetError, in_context
from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.errors import DeploymentNotFound

_STOP_PATH = "/metadata/annotations/" + k.STOP_ANNOTATION.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class ControlResult:
    """What stop/start did: `changed` is False when the deployment already was in that state."""

    name: str
    namespace: str
    stopped: bool
    changed: bool
    patch: tuple[dict[str, Any], ...]

    @property
    def message(self) -> str:
        verb = "stopped" if self.stopped else "started"
        if not self.changed:
            return f"{self.name} was already {verb}."
        return f"{self.name} {verb}." + (
            " KServe scales the model server to zero; the model cache is kept."
            if self.stopped
            else " The model server is starting again; follow it with `nim-widget status --wait`."
        )


def stop_patch(*, stopped: bool, has_annotations: bool = True) -> list[dict[str, Any]]:
    """The JSON patch the dashboard sends; an object without annotations first gets the map."""
    value = "true" if stopped else "false"
    if not has_annotations:
        return [{"op": "add", "path": "/metadata/annotations", "value": {k.STOP_ANNOTATION: value}}]
    return [{"op": "add", "path": _STOP_PATH, "value": value}]


def set_stopped(
    *, api: Api, namespace: str, name: str, stopped: bool, dry_run: bool = False
) -> ControlResult:
    """Stop (`stopped=True`) or start a deployment; a no-op when it already is in that state.
    A failure says whether it was the stop or the start, and on which object."""
    failure: NimWidgetError
    try:
        isvc = api.try_get(api_version=k.IS_API, kind=k.IS_KIND, name=name, namespace=namespace)
        if isvc is None:
            raise DeploymentNotFound(namespace=namespace, name=name)
        if k.is_stopped(isvc) == stopped:
            return ControlResult(name=name, namespace=namespace, stopped=stopped, changed=False, patch=())
        ops = stop_patch(stopped=stopped, has_annotations=bool(k.meta(isvc).get("annotations")))
        api.patch_ops(
            api_version=k.IS_API, kind=k.IS_KIND, name=name, namespace=namespace, ops=ops, dry_run=dry_run
        )
    except NimWidgetError as error:
        failure = in_context(error, action="stopping" if stopped else "starting")
    else:
        return ControlResult(name=name, namespace=namespace, stopped=stopped, changed=True, patch=tuple(ops))
    raise failure


def stop(*, api: Api, namespace: str, name: str, dry_run: bool = False) -> ControlResult:
    return set_stopped(api=api, namespace=namespace, name=name, stopped=True, dry_run=dry_run)


def start(*, api: Api, namespace: str, name: str, dry_run: bool = False) -> ControlResult:
    return set_stopped(api=api, namespace=namespace, name=name, stopped=False, dry_run=dry_run)
