"""The NIM deploy wizard as ipywidgets: ``NimWizard``.

Display it in a cell (``NimWizard()`` as the last expression, or ``display(wizard)``); place it in a
layout through ``wizard.widget``. Everything in the wizard carries stable CSS classes, all prefixed
``nimw-``; browser tests and custom themes rely on these names, so they only ever get added.

Root and chrome
    ``nimw-root`` (the wizard; every style rule is scoped under it), ``nimw-banner-demo`` (the
    "Demo cluster" banner, hidden unless demo), ``nimw-header`` with ``nimw-header-cluster``,
    ``nimw-header-project``, ``nimw-header-account`` (contains ``nimw-pill nimw-pill-<state>``, state
    one of ready, pending, error, missing, loading), ``nimw-steps`` (step indicator: an
    ``ol.nimw-stepper`` whose ``li[data-step=N]`` has ``is-current`` / ``is-done``), ``nimw-crash``.
Pages (an ``ipywidgets.Stack``; only the selected one is visible)
    ``nimw-page nimw-page-model``, ``nimw-page-deployment``, ``nimw-page-advanced``,
    ``nimw-page-review``, ``nimw-page-progress``.
Footer
    ``nimw-footer``, ``nimw-back``, ``nimw-next``, ``nimw-deploy`` ("Deploy model", step 4 only),
    ``nimw-step-status`` (what is still missing).
Fields (the class is on the control; ``<class>-field`` on its labelled box). Buttons carry the class on
the ``<button>`` itself (``button.nimw-next``); text, dropdown and select controls on their wrapper, so
address the element inside (``.nimw-name input``, ``.nimw-hwp select``, ``.nimw-picker-list select``).
    A field with a problem gets ``nimw-invalid`` and its box shows ``.nimw-field-error`` (the message).
    Step 1: ``nimw-picker-search`` (text), ``nimw-picker-list`` (a ``select``; each option's text is
    ``<display name>  ·  <organisation>  —  <description>``; to pick by catalog key, type the key into
    the search and select option index 0), ``nimw-picker-count``, ``nimw-picker-details``,
    ``nimw-picker-tag`` (dropdown; the latest tag first, labelled ``<tag> (latest)``),
    ``nimw-picker-state`` (loading / account / empty / error alerts), ``nimw-picker-retry``.
    Step 2: ``nimw-project``, ``nimw-name``, ``nimw-resource-preview``, ``nimw-edit-resource-name``,
    ``nimw-resource-name``, ``nimw-description``, ``nimw-hwp`` (dropdown), ``nimw-hwp-details``,
    ``nimw-resource`` (each resource text; its box is ``nimw-resource-<i>-field`` with
    ``[data-resource=<identifier>]`` on the label), ``nimw-custom-resources`` (the box shown for "No
    hardware profile (custom resources)") with ``nimw-custom-resource`` texts
    ``nimw-custom-<requests|limits>-<cpu|memory|gpu>`` (labels carry ``[data-resource]`` and
    ``[data-kind]``), ``nimw-replicas``, ``nimw-storage-mode`` (radio),
    ``nimw-pvc-name``, ``nimw-pvc-size``, ``nimw-pvc-unit``, ``nimw-storage-class``, ``nimw-existing-pvc``,
    ``nimw-subpath``.
    Step 3: ``nimw-env-add``, ``nimw-env-row`` (one per variable) with ``nimw-env-name``,
    ``nimw-env-value``, ``nimw-env-remove``.
    Step 4: ``nimw-review-summary`` (``table.nimw-summary`` rows), ``nimw-review-problems``,
    ``nimw-review-yaml`` (highlighted YAML), ``nimw-download-yaml`` and ``nimw-export-spec``
    (``a[download]`` links), ``nimw-dry-run`` (button), ``nimw-dry-run-result``.
Deploy progress
    ``nimw-progress``, ``nimw-progress-heading``, ``nimw-step-row nimw-step-row-<N>`` (N = 1..12), each
    containing ``.nimw-step.nimw-state-<state>[data-step=N][data-state=<state>]`` (state: pending,
    running, succeeded, skipped, failed, rolled_back); ``nimw-outcome`` holding ``.nimw-result``
    (success, with ``.nimw-result-names``) or ``.nimw-error`` (the error title, detail and
    ``.nimw-what-to-do``); ``nimw-rollback`` (``.nimw-rollback-list``); ``nimw-result-manifests`` (an
    Accordion of the created objects' YAML); ``nimw-new-deployment``; ``nimw-back-to-form``.

Step 13, "Wait until ready" (right under step 12)
    ``nimw-step-row nimw-step-row-13`` (its ``.nimw-step[data-state]`` as above: running while
    following, succeeded when ready, failed on a failure or timeout, skipped when not waited for),
    ``nimw-wait-details`` with ``nimw-wait-stage`` (``.nimw-wait[data-stage=<stage>]``: pending,
    storage, scheduling, pulling, downloading, loading, ready, stopped, failed; holding
    ``.nimw-wait-title``, ``.nimw-wait-elapsed``, ``.nimw-wait-message``, ``.nimw-wait-detail``),
    ``nimw-wait-outcome`` (``.nimw-ready`` with ``table.nimw-ready-urls``, or ``.nimw-wait-failure``, or
    an alert for a timeout or Stop waiting; advice in ``.nimw-what-to-do``), ``nimw-wait-cancel``
    (Stop waiting), and the model access panel below.
Model access (step 13 and the deployments view)
    ``nimw-access`` with ``nimw-access-info`` (``table.nimw-access-summary``), ``nimw-access-token``
    (``code.nimw-token-value[data-revealed=true|false]``: 40 bullets until revealed),
    ``nimw-access-show`` (Show/Hide), ``nimw-access-curl`` (``pre.nimw-curl``), ``nimw-access-enable``,
    ``nimw-access-message``.
Navigation and edit mode
    ``nimw-nav`` with ``nimw-nav-wizard`` and ``nimw-nav-deployments`` (the current one has
    ``is-current``), ``nimw-page-deployments``, ``nimw-view-deployments`` (after a deploy),
    ``nimw-edit-bar`` with ``nimw-edit-banner`` and ``nimw-cancel-edit``; on the review of an edit
    ``nimw-review-edit`` with ``nimw-review-changes`` (``.nimw-changes`` of
    ``.nimw-change-line.nimw-change-<kind>``, kind: unchanged, update, create, restart, replace, add,
    remove) and ``nimw-overwrite`` (checkbox); the deploy button reads "Apply changes". The root gets
    ``nimw-wide`` while the deployments page shows.
Deployments (`NimDeployments`, alone or as the wizard's page)
    ``nimw-deployments``, ``nimw-dep-refresh``, ``nimw-dep-new``, ``nimw-dep-status``,
    ``nimw-dep-table`` with ``nimw-dep-header-row`` and rows ``nimw-dep-row nimw-dep-row-<i>`` (i =
    0..9 on the page) holding ``.nimw-dep-cells[data-name][data-state][data-made-by]`` (cells
    ``.nimw-dep-cell.nimw-dep-<name|model|state|urls|replicas|hwp|storage|age>``) and the actions
    ``nimw-dep-edit``, ``nimw-dep-toggle`` (Stop/Start), ``nimw-dep-delete``, ``nimw-dep-access``;
    ``nimw-dep-empty``, ``nimw-dep-pager`` (``nimw-dep-prev``, ``nimw-dep-page``, ``nimw-dep-next``),
    ``nimw-dep-result`` (the last action's result line), ``nimw-dep-panel-title``. Delete:
    ``nimw-delete`` with ``nimw-delete-title``, ``nimw-delete-plan`` (``ul.nimw-delete-deleting``,
    ``ul.nimw-delete-keeping``, items ``li[data-kind][data-name]``), ``nimw-delete-storage``
    (checkbox, off by default), ``nimw-delete-storage-help``, ``nimw-delete-confirm`` (type the
    resource name), ``nimw-delete-message``, ``nimw-delete-button``, ``nimw-delete-cancel``, and
    ``nimw-delete-report`` (``ul.nimw-delete-deleted``, ``ul.nimw-delete-kept``,
    ``ul.nimw-delete-failed``).

Python access for scripts and tests: ``wizard.picker.choose(key=..., tag=...)``, the sections'
widgets (``wizard.deployment``, ``wizard.storage``, ``wizard.env``, ``wizard.review``,
``wizard.progress``), ``wizard.next`` / ``wizard.back`` / ``wizard.deploy_button``, ``wizard.join(t)``
to wait for background jobs, ``wizard.last_result`` (the engine's ``DeployResult``),
``wizard.readiness`` (step 13; ``wizard.join_ready(t)``, ``wizard.stop_waiting()``),
``wizard.edit(name)``, ``wizard.show_deployments()`` / ``wizard.deployments_view``; for the view,
``view.slot_for(name)`` (a row's widgets), ``view.delete_panel``, ``view.access_panel``, ``view.join(t)``.

Alerts anywhere use ``nimw-alert nimw-alert-<info|warning|danger|success>`` with ``nimw-alert-title``.
"""

from nim_widget.ui.deployments import NimDeployments
from nim_widget.ui.wizard import NimWizard

__all__ = ["NimDeployments", "NimWizard"]
