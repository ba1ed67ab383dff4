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

Python access for scripts and tests: ``wizard.picker.choose(key=..., tag=...)``, the sections'
widgets (``wizard.deployment``, ``wizard.storage``, ``wizard.env``, ``wizard.review``,
``wizard.progress``), ``wizard.next`` / ``wizard.back`` / ``wizard.deploy_button``, ``wizard.join(t)``
to wait for background jobs, ``wizard.last_result`` (the engine's ``DeployResult``).

Alerts anywhere use ``nimw-alert nimw-alert-<info|warning|danger|success>`` with ``nimw-alert-title``.
"""

from nim_widget.ui.wizard import NimWizard

__all__ = ["NimWizard"]
