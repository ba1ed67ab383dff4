"""After the deploy: readiness, the deployments list, edit, stop/start, delete with cleanup, model access.

Everything here works on deployments made by nim-widget and by the OpenShift AI dashboard alike, talks
to the cluster only through `cluster.api.Api`, never prints, and reports progress through callbacks,
so the widget, the CLI and notebooks share it.
"""

from nim_widget.lifecycle.access import (
    AccessChange,
    ModelAccess,
    Token,
    build_access_objects,
    enable_model_access,
    model_access,
)
from nim_widget.lifecycle.control import ControlResult, set_stopped, start, stop
from nim_widget.lifecycle.delete import (
    DeleteItem,
    DeletePlan,
    DeleteReport,
    delete_deployment,
    execute_delete,
    plan_delete,
)
from nim_widget.lifecycle.errors import ConfirmationRequired, DeploymentNotFound, EditRefused, ExtractError
from nim_widget.lifecycle.extract import (
    ChangePreview,
    EditSession,
    LiveDeployment,
    check_edit,
    edited,
    export_request,
    extract_request,
    preview_edit,
    read_live,
)
from nim_widget.lifecycle.listing import DeploymentSummary, get_deployment, list_deployments
from nim_widget.lifecycle.readiness import (
    DEFAULT_TIMEOUT,
    Follower,
    FollowResult,
    follow,
    format_elapsed,
    snapshot_of,
)
from nim_widget.lifecycle.stages import STAGE_TITLES, Progress, Snapshot, Stage, observe

__all__ = [
    "DEFAULT_TIMEOUT",
    "STAGE_TITLES",
    "AccessChange",
    "ChangePreview",
    "ConfirmationRequired",
    "ControlResult",
    "DeleteItem",
    "DeletePlan",
    "DeleteReport",
    "DeploymentNotFound",
    "DeploymentSummary",
    "EditRefused",
    "EditSession",
    "ExtractError",
    "FollowResult",
    "Follower",
    "LiveDeployment",
    "ModelAccess",
    "Progress",
    "Snapshot",
    "Stage",
    "Token",
    "build_access_objects",
    "check_edit",
    "delete_deployment",
    "edited",
    "enable_model_access",
    "execute_delete",
    "export_request",
    "extract_request",
    "follow",
    "format_elapsed",
    "get_deployment",
    "list_deployments",
    "model_access",
    "observe",
    "plan_delete",
    "preview_edit",
    "read_live",
    "set_stopped",
    "snapshot_of",
    "start",
    "stop",
]
