"""Who may do what in the sandbox: optional RBAC-like rules, SelfSubjectAccessReview, bearer token.

Without rules everything is allowed (a cluster-admin kubeconfig). With rules, a request is allowed
when one rule matches its namespace, resource and verb; otherwise it fails with the 403 the
authorization filter writes, whose wording differs for named and unnamed requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .status import ApiError, forbidden, qualified


def _norm(values: str | Iterable[str]) -> tuple[str, ...]:
    return (values,) if isinstance(values, str) else tuple(values)


@dataclass(frozen=True)
class Rule:
    """Allow ``verbs`` on ``resources`` (plural, or ``plural.group``) in ``namespaces``; ``*`` matches all.

    ``namespaces=("",)`` targets cluster-scoped requests only; ``("*",)`` matches both scopes.
    """

    verbs: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ("*",)

    @classmethod
    def of(
        cls,
        *,
        verbs: str | Iterable[str] = "*",
        resources: str | Iterable[str] = "*",
        namespaces: str | Iterable[str] = "*",
    ) -> Rule:
        return cls(_norm(verbs), _norm(resources), _norm(namespaces))

    def matches(self, *, verb: str, resource: str, group: str, namespace: str) -> bool:
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        if (
            "*" not in self.resources
            and resource not in self.resources
            and qualified(resource, group) not in self.resources
        ):
            return False
        return "*" in self.namespaces or namespace in self.namespaces


class Access:
    """The sandbox's authorizer; ``rules=None`` (the default) allows everything."""

    def __init__(self, *, user: str = "demo-user", token: str | None = None) -> None:
        self.user = user
        self.token = token
        self._rules: tuple[Rule, ...] | None = None
        self._lock = threading.Lock()

    def set_rules(self, rules: Iterable[Rule] | None) -> None:
        with self._lock:
            self._rules = None if rules is None else tuple(rules)

    def allow_all(self) -> None:
        self.set_rules(None)

    def allowed(self, *, verb: str, resource: str, group: str, namespace: str) -> bool:
        with self._lock:
            rules = self._rules
        if rules is None:
            return True
        return any(r.matches(verb=verb, resource=resource, group=group, namespace=namespace) for r in rules)

    def authenticate(self, header: str | None) -> bool:
        if self.token is None:
            return True
        return header == f"Bearer {self.token}"

    def check(self, *, verb: str, resource: str, group: str, namespace: str, name: str) -> None:
        """Raise the authorization filter's 403 when the request is not allowed."""
        if self.allowed(verb=verb, resource=resource, group=group, namespace=namespace):
            return
        raise self.denied(verb=verb, resource=resource, group=group, namespace=namespace, name=name)

    def denied(self, *, verb: str, resource: str, group: str, namespace: str, name: str) -> ApiError:
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        reason = f'User "{self.user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'
        return forbidden(resource=resource.split("/")[0], group=group, name=name, reason=reason)

    def review(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a SelfSubjectAccessReview the way RBAC does (no reason on a plain denial)."""
        spec = body.get("spec") or {}
        attrs = spec.get("resourceAttributes")
        if attrs is not None:
            resource = attrs.get("resource", "")
            if attrs.get("subresource"):
                resource = f"{resource}/{attrs['subresource']}"
            ok = self.allowed(
                verb=attrs.get("verb", ""),
                resource=resource.split("/")[0],
                group=attrs.get("group", ""),
                namespace=attrs.get("namespace", ""),
            )
        else:
            ok = self._rules is None
        status: dict[str, Any] = {"allowed": ok}
        return status
