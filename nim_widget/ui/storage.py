"""Step 2, second part: the model cache storage, new or existing.

New storage gets a name that follows the deployment's resource name (`<name>-cache`) until the person
types their own, a size in GiB or TiB (default 50 GiB), the cluster's default storage class and an
optional subPath. Existing storage lists the project's PVCs with NIM caches first, each with its size,
age and the runtime using it, and fills in the subPath the dashboard recorded on the PVC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import ipywidgets as widgets

from nim_widget import naming
from nim_widget.facts import PvcInfo, StorageClassInfo
from nim_widget.quantity import Quantity, QuantityError
from nim_widget.ui.form import Field, section_title, show

MODE_NEW = "new"
MODE_EXISTING = "existing"
MODE_NEW_LABEL = "Deploy the NIM image from a new cluster storage"
MODE_EXISTING_LABEL = "Deploy the NIM image from an existing cluster storage"
UNITS: tuple[tuple[str, str], ...] = (("GiB", "Gi"), ("TiB", "Ti"))
DEFAULT_SIZE = 50

TEXT_PVC_NAME_HELP = "This cluster storage can be reused for future deployments of this NIM image."
TEXT_SUBPATH_HELP = (
    "Optional: Subdirectory within the PVC. Use this if you have multiple models stored in the same PVC. "
    "Leave blank to use the root of the PVC."
)
TEXT_SIZE_HELP = (
    "Specify the size of the PVC. Make sure it is larger than the NIM image size specified by NVIDIA."
)
TEXT_NO_CLASSES = "The cluster has no storage classes."
TEXT_NO_PVCS = "This project has no cluster storage yet."
TEXT_EDIT_LOCKED = "The model cache of a deployment cannot change in an edit; it can only grow."
_GI = 1024**3
PLACEHOLDER_EXISTING = "Select..."


def relative_age(created: datetime | None, *, now: datetime) -> str:
    if created is None:
        return "age unknown"
    seconds = max(0, int((now - created).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def pvc_label(pvc: PvcInfo, *, now: datetime) -> str:
    parts = [pvc.name]
    if pvc.display_name and pvc.display_name != pvc.name:
        parts[0] += f" ({pvc.display_name})"
    parts.append(str(pvc.size) if pvc.size is not None else "size unknown")
    parts.append(relative_age(pvc.created, now=now))
    if pvc.used_by:
        parts.append("used by " + ", ".join(pvc.used_by))
    if pvc.is_nim_cache:
        parts.append("NIM cache")
    return "  ·  ".join(parts)


def class_label(info: StorageClassInfo) -> str:
    label = info.display_name if info.display_name == info.name else f"{info.display_name} ({info.name})"
    return f"{label} (default)" if info.is_default else label


class StorageSection:
    """Widgets and values for the NIM model cache."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))
        self._listeners: list[Callable[[], None]] = []
        self._pvcs: dict[str, PvcInfo] = {}
        self._default_class: str | None = None
        self._pvc_name_touched = False
        self._suggested_pvc_name = ""
        self._updating = False
        # Edit mode: the deployment's PVC (locked) and its size as deployed, which may only grow.
        self._edit_pvc: str | None = None
        self._edit_size: str | None = None
        self._edit_prefill: tuple[int, str] | None = None

        self.mode = widgets.RadioButtons(
            options=[(MODE_NEW_LABEL, MODE_NEW)], value=MODE_NEW, layout=widgets.Layout(width="auto")
        )
        self.mode_field = Field(
            label="Storage and deployment option", control=self.mode, css="nimw-storage-mode", required=True
        )
        self.pvc_name = widgets.Text(value="", placeholder="nim-pvc", layout=widgets.Layout(width="460px"))
        self.pvc_name_field = Field(
            label="Cluster storage name",
            control=self.pvc_name,
            css="nimw-pvc-name",
            required=True,
            help=TEXT_PVC_NAME_HELP,
        )
        self.size = widgets.IntText(value=DEFAULT_SIZE, layout=widgets.Layout(width="120px"))
        self.unit = widgets.Dropdown(options=list(UNITS), value="Gi", layout=widgets.Layout(width="90px"))
        self.unit.add_class("nimw-pvc-unit")
        self.size_field = Field(
            label="NVIDIA NIM storage size",
            control=self.size,
            css="nimw-pvc-size",
            required=True,
            help=TEXT_SIZE_HELP,
            extra=(self.unit,),
        )
        self.storage_class = widgets.Dropdown(options=[], layout=widgets.Layout(width="460px"))
        self.class_field = Field(
            label="Storage class", control=self.storage_class, css="nimw-storage-class", required=True
        )
        self.existing = widgets.Dropdown(
            options=[(PLACEHOLDER_EXISTING, "")], value="", layout=widgets.Layout(width="640px")
        )
        self.existing_field = Field(
            label="Cluster storage name", control=self.existing, css="nimw-existing-pvc", required=True
        )
        self.sub_path = widgets.Text(value="", placeholder="/", layout=widgets.Layout(width="460px"))
        self.sub_path_field = Field(
            label="Subpath", control=self.sub_path, css="nimw-subpath", help=TEXT_SUBPATH_HELP
        )
        self.new_box = widgets.VBox([self.pvc_name_field.box, self.size_field.box, self.class_field.box])
        self.existing_box = widgets.VBox([self.existing_field.box])
        show(self.existing_box, False)
        self.box = widgets.VBox(
            [
                section_title("Model cache storage"),
                self.mode_field.box,
                self.new_box,
                self.existing_box,
                self.sub_path_field.box,
            ]
        )
        self.box.add_class("nimw-storage")

        self.mode.observe(self._on_mode, names="value")
        self.pvc_name.observe(self._on_pvc_name, names="value")
        self.existing.observe(self._on_existing, names="value")
        for control in (self.size, self.unit, self.storage_class, self.sub_path):
            control.observe(self._changed, names="value")

    # -- listeners ---------------------------------------------------------------------------------

    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _notify(self) -> None:
        if not self._updating:
            for callback in self._listeners:
                callback()

    def _changed(self, change: Mapping[str, object]) -> None:
        del change
        self._notify()

    # -- cluster data ------------------------------------------------------------------------------

    def set_cluster(
        self, *, classes: Sequence[StorageClassInfo], default_class: str | None, pvcs: Sequence[PvcInfo]
    ) -> None:
        """Storage classes (default preselected) and the project's PVCs (already NIM caches first).

        A reload keeps what the person chose when it still exists, so refreshing the facts after a
        failed deploy never wipes the form.
        """
        self._updating = True
        try:
            self._default_class = default_class
            class_options = [(class_label(c), c.name) for c in classes]
            names = [value for _, value in class_options]
            chosen_class = self.storage_class.value
            self.storage_class.options = class_options
            if chosen_class in names:
                self.storage_class.value = chosen_class
            else:
                self.storage_class.value = (
                    default_class if default_class in names else (names[0] if names else None)
                )
            self.class_field.set_help(None if names else TEXT_NO_CLASSES)
            self._pvcs = {p.name: p for p in pvcs}
            now = self._now()
            chosen_pvc = self.existing.value
            self.existing.options = [(PLACEHOLDER_EXISTING, "")] + [
                (pvc_label(p, now=now), p.name) for p in pvcs
            ]
            self.existing.value = chosen_pvc if chosen_pvc in self._pvcs else ""
            modes = [(MODE_NEW_LABEL, MODE_NEW)]
            if pvcs:
                modes.append((MODE_EXISTING_LABEL, MODE_EXISTING))
            chosen_mode = self.mode.value
            self.mode.options = modes
            self.mode.value = chosen_mode if chosen_mode == MODE_NEW or pvcs else MODE_NEW
            self.mode_field.set_help(None if pvcs else TEXT_NO_PVCS)
            self._apply_mode()
        finally:
            self._updating = False
        self._notify()

    # -- names -------------------------------------------------------------------------------------

    def suggest_pvc_name(self, resource_name: str) -> None:
        """Keep the new PVC's name in step with the deployment until the person edits it."""
        self._suggested_pvc_name = (
            naming.default_pvc_name(resource_name=resource_name) if resource_name else ""
        )
        if not self._pvc_name_touched and self.pvc_name.value != self._suggested_pvc_name:
            self._updating = True
            try:
                self.pvc_name.value = self._suggested_pvc_name
            finally:
                self._updating = False

    def _on_pvc_name(self, change: Mapping[str, object]) -> None:
        if not self._updating:
            self._pvc_name_touched = change["new"] != self._suggested_pvc_name
        self._notify()

    # -- modes -------------------------------------------------------------------------------------

    def _on_mode(self, change: Mapping[str, object]) -> None:
        del change
        # Switching resets the name and the subpath, and the class to the default (as the dashboard does).
        self._updating = True
        try:
            self._pvc_name_touched = False
            self.pvc_name.value = self._suggested_pvc_name
            self.existing.value = ""
            self.sub_path.value = ""
            if self._default_class is not None:
                self.storage_class.value = self._default_class
            self._apply_mode()
        finally:
            self._updating = False
        self._notify()

    def _apply_mode(self) -> None:
        new = self.mode.value == MODE_NEW
        editing = self._edit_pvc is not None
        show(self.new_box, new or editing)  # in an edit only the size, to grow the PVC
        show(self.pvc_name_field.box, new)
        show(self.class_field.box, new)
        show(self.existing_box, not new)

    def _on_existing(self, change: Mapping[str, object]) -> None:
        pvc = self._pvcs.get(str(change["new"] or ""))
        if pvc is not None:
            self.sub_path.value = pvc.sub_path or ""
        self._notify()

    def select_existing(self, name: str) -> None:
        self.mode.value = MODE_EXISTING
        self.existing.value = name

    # -- the request's part ------------------------------------------------------------------------

    def size_text(self) -> str:
        return f"{self.size.value}{self.unit.value}"

    # -- edit mode ---------------------------------------------------------------------------------

    @property
    def editing(self) -> bool:
        return self._edit_pvc is not None

    def set_edit(self, *, pvc_name: str, sub_path: str, size: str | None) -> None:
        """Lock the storage to the deployment's PVC; only its size stays editable (it may only grow).

        A size the two units cannot show exactly (say 1536Mi) is rounded up for display, and sent as
        it was deployed while nobody touches it, so an unchanged form is an unchanged deployment.
        """
        self._updating = True
        try:
            self._edit_pvc = pvc_name
            self._edit_size = size
            if pvc_name not in self._pvcs:
                self.existing.options = [*self.existing.options, (pvc_name, pvc_name)]
            self.mode.options = [(MODE_NEW_LABEL, MODE_NEW), (MODE_EXISTING_LABEL, MODE_EXISTING)]
            self.mode.value = MODE_EXISTING
            self.existing.value = pvc_name
            self.sub_path.value = sub_path
            self._edit_prefill = _size_fields(size) if size else None
            if self._edit_prefill is not None:
                self.size.value, self.unit.value = self._edit_prefill
            for control in (self.mode, self.existing, self.sub_path):
                control.disabled = True
            self.mode_field.set_help(TEXT_EDIT_LOCKED)
            self.size_field.set_help(
                f"The model cache is {size} now: it can grow, never shrink." if size else TEXT_SIZE_HELP
            )
            self._apply_mode()
        finally:
            self._updating = False
        self._notify()

    def clear_edit(self) -> None:
        self._edit_pvc = self._edit_size = None
        self._edit_prefill = None
        for control in (self.mode, self.existing, self.sub_path):
            control.disabled = False
        self.mode_field.set_help(None)
        self.size_field.set_help(TEXT_SIZE_HELP)

    def _edit_size_text(self) -> str | None:
        if self._edit_prefill is not None and (self.size.value, self.unit.value) == self._edit_prefill:
            return self._edit_size
        return self.size_text()

    def values(self) -> dict[str, object]:
        if self._edit_pvc is not None:
            return {
                "mode": MODE_EXISTING,
                "pvc_name": self._edit_pvc,
                "sub_path": str(self.sub_path.value),
                "size": self._edit_size_text(),
            }
        if self.mode.value == MODE_EXISTING:
            return {
                "mode": MODE_EXISTING,
                "pvc_name": str(self.existing.value or "") or None,
                "sub_path": str(self.sub_path.value),
            }
        return {
            "mode": MODE_NEW,
            "pvc_name": str(self.pvc_name.value).strip() or None,
            "size": self.size_text(),
            "storage_class": self.storage_class.value,
            "sub_path": str(self.sub_path.value),
        }

    def summary(self) -> list[tuple[str, str]]:
        """The dashboard's "NIM Storage" review rows."""
        data = self.values()
        rows = [
            ("Storage mode", "New storage" if data["mode"] == MODE_NEW else "Existing storage"),
            ("Cluster storage name", str(data.get("pvc_name") or "")),
        ]
        if data.get("sub_path"):
            rows.append(("Subpath", str(data["sub_path"])))
        if self._edit_pvc is not None and data.get("size"):
            rows.append(("Storage size", str(data["size"])))
        if data["mode"] == MODE_NEW:
            rows.append(("Storage class", str(data.get("storage_class") or "")))
            unit = dict((v, k) for k, v in UNITS)[str(self.unit.value)]
            rows.append(("Storage size", f"{self.size.value} {unit}"))
        return rows

    def reset(self) -> None:
        self.clear_edit()
        self._updating = True
        try:
            self.mode.value = MODE_NEW
            self._pvc_name_touched = False
            self.pvc_name.value = self._suggested_pvc_name
            self.size.value = DEFAULT_SIZE
            self.unit.value = "Gi"
            self.existing.value = ""
            self.sub_path.value = ""
            if self._default_class is not None:
                self.storage_class.value = self._default_class
            self._apply_mode()
        finally:
            self._updating = False

    def show_errors(self, errors: Mapping[str, str]) -> None:
        existing = self.mode.value == MODE_EXISTING
        name_message = errors.get("storage.pvcName")
        self.pvc_name_field.set_error(None if existing else name_message)
        self.existing_field.set_error(name_message if existing else None)
        self.size_field.set_error(errors.get("storage.size"))
        self.class_field.set_error(errors.get("storage.storageClass"))
        self.sub_path_field.set_error(errors.get("storage.subPath"))
        self.mode_field.set_error(errors.get("storage.mode") or errors.get("storage"))


def _size_fields(size: str) -> tuple[int, str]:
    """The size as the number and unit fields show it: exact in TiB or GiB, else GiB rounded up."""
    try:
        value = Quantity.parse(size).value
    except QuantityError:
        return (0, "Gi")
    for unit, factor in (("Ti", 1024 * _GI), ("Gi", _GI)):
        if value % factor == 0:
            return (int(value // factor), unit)
    return (int(-(-value // _GI)), "Gi")
