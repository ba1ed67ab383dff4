"""Pure manifest builders: a `DeploymentRequest` plus `ClusterFacts` in, a `Plan` out."""

from nim_widget.manifests.assembly import AssemblyError, assemble
from nim_widget.manifests.plan import Operation, Plan, PlannedObject, Role
from nim_widget.manifests.redaction import REDACTED, RevealedSecret, redact

__all__ = [
    "REDACTED",
    "AssemblyError",
    "Operation",
    "Plan",
    "PlannedObject",
    "RevealedSecret",
    "Role",
    "assemble",
    "redact",
]
