"""Read what one deployment needs to know about a project, concurrently and read-only.

Latency, not volume, is what users feel (a workbench can be 100 ms from its API server), so the reads
go out in as few sequential rounds as possible. The account decides where the template, catalog and
pull secret live, which would make discovery two rounds; but the NIM account controller always names
them `<account>-template`, `<account>-cm` and `<account>-pull` next to the account, so the first round
also fetches those names in the project. Only when the account is elsewhere (the cluster-level account
in the dashboard namespace) or names something else does a second round run.

What the objects mean is decided by the pure parsers in `nim_widget.catalog`; this module only fetches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from nim_widget import catalog
from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import Forbidden, NimWidgetError, NotFound
from nim_widget.facts import ClusterFacts, SkippedEntry

DASHBOARD_NAMESPACES = ("opendatahub", "redhat-ods-applications")
ACCOUNT = ("nim.opendatahub.io/v1", "Account")
TEMPLATE = ("template.openshift.io/v1", "Template")
CONFIGMAP = ("v1", "ConfigMap")
SECRET = ("v1", "Secret")
HARDWARE_PROFILE = ("infrastructure.opendatahub.io/v1", "HardwareProfile")
# The names the templates reference today; fetched in the first round to learn whether they exist.
PROJECT_SECRETS = ("nvidia-nim-secrets", "ngc-secret")
_MAX_WORKERS = 16

T = TypeVar("T")
Obj = dict[str, Any]


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A read that may have failed; the caller decides which failures matter."""

    value: T | None = None
    error: NimWidgetError | None = None

    def get(self) -> T | None:
        """The value; NotFound means "absent" (None), any other failure is raised."""
        if self.error is None:
            return self.value
        if isinstance(self.error, NotFound):
            return None
        raise self.error


def _attempt(fn: Callable[[], T]) -> Outcome[T]:
    try:
        return Outcome(value=fn())
    except NimWidgetError as error:
        return Outcome(error=error)


def _name(obj: Mapping[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("name") or "")


def _pick_account(candidates: Iterable[Obj]) -> Obj | None:
    """The dashboard takes the first account; prefer the conventional name when there are several."""
    found = sorted(candidates, key=lambda a: (_name(a) != catalog.ACCOUNT_NAME, _name(a)))
    return found[0] if found else None


class _Reader:
    """Submits reads to a shared pool and remembers what was fetched, keyed by (kind, ns, name)."""

    def __init__(self, api: Api, pool: ThreadPoolExecutor) -> None:
        self.api = api
        self.pool = pool
        self.fetched: dict[tuple[str, str, str], Future[Outcome[Obj]]] = {}

    def get(self, kind: tuple[str, str], namespace: str, name: str) -> Future[Outcome[Obj]]:
        key = (kind[1], namespace, name)
        if key not in self.fetched:
            self.fetched[key] = self.pool.submit(
                _attempt,
                lambda: self.api.get(api_version=kind[0], kind=kind[1], name=name, namespace=namespace),
            )
        return self.fetched[key]

    def list(self, kind: tuple[str, str], namespace: str | None) -> Future[Outcome[list[Obj]]]:
        return self.pool.submit(
            _attempt, lambda: self.api.list(api_version=kind[0], kind=kind[1], namespace=namespace)
        )


def _optional_list(outcome: Outcome[list[Obj]], what: str, skipped: list[SkippedEntry]) -> list[Obj]:
    """Lists a plain user may not be allowed to read (global profiles, storage classes) or whose
    kind is not installed: an empty list and a note, not a failed deployment."""
    if outcome.error is None:
        return outcome.value or []
    if isinstance(outcome.error, Forbidden | NotFound):
        skipped.append(SkippedEntry(key=what, reason=str(outcome.error)))
        return []
    raise outcome.error


def gather(
    *,
    api: Api,
    project: str,
    dashboard_namespaces: Iterable[str] = DASHBOARD_NAMESPACES,
    now: datetime | None = None,
) -> ClusterFacts:
    """ClusterFacts for `project`: the NIM account (the project's own first, else the cluster-level
    one), its template, catalog and secrets, hardware profiles, storage classes, PVCs and the
    project's existing deployments. Raises Forbidden/Unavailable when a read that matters fails."""
    moment = now or datetime.now(UTC)
    dash = tuple(ns for ns in dashboard_namespaces if ns != project)
    skipped: list[SkippedEntry] = []
    with ThreadPoolExecutor(max_workers=_MAX_WORKERS, thread_name_prefix="nim-discovery") as pool:
        read = _Reader(api, pool)
        namespace = read.get(("v1", "Namespace"), "", project)
        own_account = read.get(ACCOUNT, project, catalog.ACCOUNT_NAME)
        dash_accounts = [read.list(ACCOUNT, ns) for ns in dash]
        prefix = catalog.ACCOUNT_NAME
        read.get(TEMPLATE, project, f"{prefix}-template")
        read.get(CONFIGMAP, project, f"{prefix}-cm")
        read.get(SECRET, project, f"{prefix}-pull")
        for secret in PROJECT_SECRETS:
            read.get(SECRET, project, secret)
        profiles = [read.list(HARDWARE_PROFILE, ns) for ns in (*dash, project)]
        classes = read.list(("storage.k8s.io/v1", "StorageClass"), None)
        pvcs = read.list(("v1", "PersistentVolumeClaim"), project)
        services = read.list(("serving.kserve.io/v1beta1", "InferenceService"), project)
        runtimes = read.list(("serving.kserve.io/v1alpha1", "ServingRuntime"), project)

        ns_outcome: Outcome[Obj] = namespace.result()
        project_exists = True
        if isinstance(ns_outcome.error, NotFound):
            project_exists = False
        elif ns_outcome.error is not None and not isinstance(ns_outcome.error, Forbidden):
            raise ns_outcome.error  # a user may not be allowed to read the Namespace object itself
        account = own_account.result().get() if project_exists else None
        if account is None and project_exists:
            found: list[Obj] = []
            for ns, future in zip(dash, dash_accounts, strict=True):
                found.extend(_optional_list(future.result(), f"accounts/{ns}", skipped))
            account = _pick_account(found)

        # Second round, only for what the first could not guess.
        template = catalog_cm = key_secret = pull_secret = None
        if account is not None:
            parsed = catalog.parse_account(account=account, now=moment)
            acct_ns = parsed.namespace
            template_f = read.get(TEMPLATE, acct_ns, parsed.template_name) if parsed.template_name else None
            config_f = read.get(CONFIGMAP, acct_ns, parsed.config_name) if parsed.config_name else None
            pull_f = read.get(SECRET, acct_ns, parsed.pull_secret_name) if parsed.pull_secret_name else None
            key_f = (
                read.get(SECRET, acct_ns, parsed.api_key_secret_name) if parsed.api_key_secret_name else None
            )
            template = template_f.result().get() if template_f else None
            catalog_cm = config_f.result().get() if config_f else None
            pull_secret = pull_f.result().get() if pull_f else None
            key_secret = key_f.result().get() if key_f else None
        wanted_secrets = set(PROJECT_SECRETS)
        if template is not None:
            try:
                runtime = catalog.parse_template(template=template, namespace=_namespace_of(template))
            except catalog.TemplateProblem:
                pass
            else:
                wanted_secrets.update(runtime.api_key_secret_names())
                wanted_secrets.update(runtime.pull_secret_names())
        secret_futures = {name: read.get(SECRET, project, name) for name in sorted(wanted_secrets)}
        present = sorted(name for name, f in secret_futures.items() if f.result().get() is not None)

        profile_objs: list[Obj] = []
        for ns, future in zip((*dash, project), profiles, strict=True):
            profile_objs.extend(_optional_list(future.result(), f"hardwareprofiles/{ns}", skipped))
        class_objs = _optional_list(classes.result(), "storageclasses", skipped)
        pvc_objs = pvcs.result().get() or [] if project_exists else []
        service_objs = services.result().get() or [] if project_exists else []
        runtime_objs = runtimes.result().get() or [] if project_exists else []

    facts = catalog.facts_from_objects(
        project=project,
        now=moment,
        account=account,
        template=template,
        catalog=catalog_cm,
        api_key_secret=key_secret,
        pull_secret=pull_secret,
        hardware_profiles=profile_objs,
        storage_classes=class_objs,
        pvcs=pvc_objs,
        serving_runtimes=runtime_objs,
        inference_services=service_objs,
        secret_names=present,
        project_exists=project_exists,
    )
    if skipped:
        facts = dataclasses.replace(facts, skipped=facts.skipped + tuple(skipped))
    return facts


def _namespace_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")
