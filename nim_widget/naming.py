"""Display name -> Kubernetes resource name, with the OpenShift AI dashboard's rules.

Deployments made here must look like the dashboard's to the dashboard, so the translation follows its
`translateDisplayNameForK8s` and the wizard's resource-name rules (reference B.1, D.2), with two
deliberate differences, both because our output must be deterministic and valid without a person
editing it:

* Where the dashboard appends 6 *random* base36 characters (a non-empty name that translates to
  nothing, e.g. `日本語`), we append 6 base36 characters of the SHA-256 of the input, so the same input
  always gives the same name (golden tests, `nim-widget render`, re-running a spec file).
* The wizard would derive `3b-model` from `3B model` and then reject it (its regex wants a leading
  letter). We apply the dashboard's own safe prefix `nim-` (as its legacy path does) so the derived
  name is valid: `3B model` -> `nim-3b-model`. The derived name is also shortened so that
  `<name>-<project>` fits in 63 characters when the project is known, instead of failing that rule.
"""

from __future__ import annotations

import hashlib
import re

RESOURCE_NAME_MAX_LENGTH = 30
"""The wizard's cap for the deployment's resource name (D.2)."""

ROUTE_MAX_LENGTH = 63
"""`<name>-<project>` must fit a DNS label: the route host the dashboard builds from it."""

PVC_NAME_MAX_LENGTH = 253
SAFE_PREFIX = "nim-"
PVC_FALLBACK_PREFIX = "nim-pvc-"

RESOURCE_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# The wizard's messages, verbatim (D.2).
MSG_NAME_PATTERN = (
    "Must start with a lowercase letter and end with a lowercase letter or number. "
    "Valid characters include lowercase letters, numbers, and hyphens (-)."
)
MSG_NAME_TOO_LONG = "Cannot exceed 30 characters"
MSG_NAME_WITH_PROJECT_TOO_LONG = "Resource name and project name combined cannot exceed 63 characters"

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _stable_suffix(text: str, length: int = 6) -> str:
    number = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        chars.append(_BASE36[digit])
    return "".join(chars)


def _translate(text: str, max_length: int | None) -> str:
    name = re.sub(r"\s", "-", text.strip().lower())
    name = re.sub(r"[^a-z0-9-]", "", name)
    name = re.sub(r"^-+", "", name)
    name = re.sub(r"--+", "-", name)
    name = re.sub(r"-+$", "", name)
    if max_length is not None and len(name) > max_length:
        name = name[:max_length].rstrip("-")
    return name


def translate_display_name(
    *, text: str, max_length: int | None = None, safe_prefix: str | None = None
) -> str:
    """The dashboard's `translateDisplayNameForK8s`, with a hash instead of random characters.

    Trim, lowercase, whitespace -> `-`, drop everything outside `[a-z0-9-]`, strip leading `-`,
    collapse runs of `-`, strip trailing `-`; truncate to `max_length` (then strip trailing `-`);
    prepend `safe_prefix` only when the result starts with a digit; a non-empty input that
    translates to nothing becomes `<safe_prefix or "gen-">` + 6 stable base36 characters.
    """
    name = _translate(text, max_length)
    if safe_prefix and name[:1].isdigit():
        name = safe_prefix + name
    if text != "" and name == "":
        name = (safe_prefix or "gen-") + _stable_suffix(text)
    return name


def derive_resource_name(*, display_name: str, project: str | None = None) -> str:
    """The deployment's resource name (InferenceService and ServingRuntime) for a display name.

    Valid by construction whenever a valid name can exist: leading digit -> `nim-` prefix, at most 30
    characters, and short enough that `<name>-<project>` is at most 63 characters.
    """
    name = translate_display_name(text=display_name, safe_prefix=SAFE_PREFIX)
    limit = RESOURCE_NAME_MAX_LENGTH
    if project:
        room = ROUTE_MAX_LENGTH - 1 - len(project)
        if room >= 1:
            limit = min(limit, room)
    if len(name) > limit:
        name = name[:limit].rstrip("-")
    return name


def resource_name_problems(*, name: str, project: str | None) -> list[str]:
    """Every wizard rule the name breaks, as the wizard words it (D.2); empty when valid."""
    problems: list[str] = []
    if not RESOURCE_NAME_RE.match(name):
        problems.append(MSG_NAME_PATTERN)
    if len(name) > RESOURCE_NAME_MAX_LENGTH:
        problems.append(MSG_NAME_TOO_LONG)
    if project and len(f"{name}-{project}") > ROUTE_MAX_LENGTH:
        problems.append(MSG_NAME_WITH_PROJECT_TOO_LONG)
    return problems


def pvc_resource_name(*, typed_name: str) -> str:
    """The PVC name the wizard creates for a typed "Cluster storage name" (translated, B.1).

    A leading digit is fine for PVC names (DNS subdomain), so no prefix; a name that translates to
    nothing gets `nim-pvc-` + a stable suffix (the dashboard: `gen-` + random).
    """
    name = _translate(typed_name, PVC_NAME_MAX_LENGTH)
    if typed_name != "" and name == "":
        name = PVC_FALLBACK_PREFIX + _stable_suffix(typed_name)
    return name


def default_pvc_name(*, resource_name: str) -> str:
    """The PVC name a new deployment gets when none is given: `<resource name>-cache`.

    Tied to the deployment so that one glance at the project's storage tells which deployment made it,
    while still editable and reusable for later deployments of the same NIM.
    """
    return f"{resource_name}-cache"


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and DNS_LABEL_RE.match(value) is not None


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and DNS_SUBDOMAIN_RE.match(value) is not None
