"""Step 2, first part: names, project, hardware profile with resource customisation, replicas.

The resource name follows the display name with the dashboard's derivation until the person chooses
"Edit resource name"; from then on it is theirs. Resource fields are a fixed pool built up front and
relabelled per profile, because profile choices can arrive from the discovery worker thread, which
must never create widgets. Choosing no profile shows the custom resource fields instead
(`custom_resources`): clusters without profiles still need to ask for a GPU.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets

from nim_widget import naming
from nim_widget.facts import HardwareIdentifier, HardwareProfile
from nim_widget.request import DeploymentRequest, ResourceOverrides
from nim_widget.ui.custom_resources import CustomResources
from nim_widget.ui.form import Field, section_title, show
from nim_widget.ui.html import esc, help_text

MAX_IDENTIFIERS = 6
NO_PROFILE = ""
NO_PROFILE_LABEL = "No hardware profile (custom resources)"

TEXT_NAME_HELP = "This is the name of the inference service created when the model is deployed."
TEXT_EDIT_RESOURCE_NAME = "Edit resource name"
TEXT_RESOURCE_NAME_HELP = (
    "Resource names are what your resources are labeled in OpenShift and Kubernetes; they cannot be "
    "changed after creation. Lowercase letters, numbers and hyphens, at most 30 characters."
)
TEXT_NO_PROFILE_HELP = (
    "No hardware profile: set the container's resource requests and limits yourself, or leave them "
    "empty to use the cluster's defaults."
)
TEXT_NO_PROFILES_AVAILABLE = (
    "This cluster offers no hardware profiles for model serving: set the container's resource requests "
    "and limits yourself, or leave them empty to use the cluster's defaults."
)
TEXT_REPLICAS_HELP = "The number of model server pods: minimum and maximum replicas are both set to this."
TEXT_NAME_FIXED = "The resource name is fixed once deployed."


def bounds_help(identifier: HardwareIdentifier) -> str:
    bounds = identifier.bounds_text()
    return f"{bounds[0].upper()}{bounds[1:]} (default {identifier.default_count})."


def profile_option(profile: HardwareProfile, *, project: str) -> tuple[str, str]:
    """Global profiles by display name; project-scoped ones say so, as names may repeat."""
    scope = f"  (project {profile.namespace})" if profile.namespace == project else ""
    return (f"{profile.display_name}{scope}", profile.ref)


class ResourceField:
    """One slot of the resource pool: bound to a profile identifier, or hidden."""

    def __init__(self, index: int) -> None:
        self.text = widgets.Text(value="", layout=widgets.Layout(width="200px"))
        self.field = Field(label="Resource", control=self.text, css=f"nimw-resource-{index}")
        self.text.add_class("nimw-resource")
        self.identifier: HardwareIdentifier | None = None
        show(self.field.box, False)

    def bind(self, identifier: HardwareIdentifier | None) -> None:
        self.identifier = identifier
        self.field.set_error(None)
        if identifier is None:
            show(self.field.box, False)
            return
        self.field.label.value = (
            f'<div class="nimw-label" data-resource="{esc(identifier.identifier)}">'
            f"{esc(identifier.display_name)} "
            f'<span class="nimw-help">({esc(identifier.identifier)})</span></div>'
        )
        self.text.value = identifier.default_count.text
        self.field.set_help(bounds_help(identifier))
        show(self.field.box, True)


class DeploymentSection:
    """Widgets and values of step 2's deployment part."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._editing_resource_name = False
        self._project = ""
        self._profiles: dict[str, HardwareProfile] = {}
        # Edit mode: the deployment's overrides and the text each resource field was prefilled with.
        # A field left as prefilled sends the overrides as deployed (a CLI spec may override only a
        # request, which the form, like the dashboard's, would otherwise write to both halves).
        self._edit_overrides: ResourceOverrides | None = None
        self._edit_texts: dict[str, str] = {}

        self.project = widgets.Dropdown(options=[], layout=widgets.Layout(width="360px"))
        self.project_field = Field(label="Project", control=self.project, css="nimw-project", required=True)
        self.display_name = widgets.Text(
            value="", placeholder="e.g. Llama 3.1 8B", layout=widgets.Layout(width="460px")
        )
        self.name_field = Field(
            label="Model deployment name",
            control=self.display_name,
            css="nimw-name",
            required=True,
            help=TEXT_NAME_HELP,
            help_above=True,
        )
        self.resource_preview = widgets.HTML(value="")
        self.resource_preview.add_class("nimw-resource-preview")
        self.edit_resource = widgets.Button(
            description=TEXT_EDIT_RESOURCE_NAME, icon="pencil", layout=widgets.Layout(width="auto")
        )
        self.edit_resource.add_class("nimw-edit-resource-name")
        self.resource_name = widgets.Text(value="", layout=widgets.Layout(width="460px"))
        self.resource_field = Field(
            label="Resource name",
            control=self.resource_name,
            css="nimw-resource-name",
            required=True,
            help=TEXT_RESOURCE_NAME_HELP,
        )
        show(self.resource_field.box, False)
        self.description = widgets.Textarea(
            value="", placeholder="Optional", layout=widgets.Layout(width="460px", height="64px")
        )
        self.description_field = Field(label="Description", control=self.description, css="nimw-description")

        self.profile = widgets.Dropdown(
            options=[(NO_PROFILE_LABEL, NO_PROFILE)], value=NO_PROFILE, layout=widgets.Layout(width="460px")
        )
        self.profile_field = Field(label="Hardware profile", control=self.profile, css="nimw-hwp")
        self.profile_details = widgets.HTML(value="")
        self.profile_details.add_class("nimw-hwp-details")
        self.resources = tuple(ResourceField(i) for i in range(MAX_IDENTIFIERS))
        self.custom = CustomResources(on_change=lambda: self._notify("resources"))
        self.replicas = widgets.IntText(value=1, layout=widgets.Layout(width="120px"))
        self.replicas_field = Field(
            label="Number of model server replicas to deploy",
            control=self.replicas,
            css="nimw-replicas",
            required=True,
            help=TEXT_REPLICAS_HELP,
        )

        self.box = widgets.VBox(
            [
                section_title("Model deployment"),
                self.project_field.box,
                self.name_field.box,
                widgets.HBox([self.resource_preview, self.edit_resource]),
                self.resource_field.box,
                self.description_field.box,
                section_title("Hardware profile"),
                self.profile_field.box,
                self.profile_details,
                widgets.HBox(
                    [r.field.box for r in self.resources], layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.custom.box,
                self.replicas_field.box,
            ]
        )
        self.box.add_class("nimw-deployment")

        self.display_name.observe(self._on_display_name, names="value")
        self.resource_name.observe(lambda _c: self._notify("name"), names="value")
        self.description.observe(lambda _c: self._notify("description"), names="value")
        self.profile.observe(self._on_profile, names="value")
        self.replicas.observe(lambda _c: self._notify("replicas"), names="value")
        for slot in self.resources:
            slot.text.observe(lambda _c: self._notify("resources"), names="value")
        self.edit_resource.on_click(lambda _b: self.start_editing_resource_name())
        self._render_resource_preview()

    # -- listeners ---------------------------------------------------------------------------------

    def on_change(self, callback: Callable[..., None]) -> None:
        """``callback(*paths)``: the request fields (spec paths) the person just changed."""
        self._listeners.append(callback)

    def _notify(self, *paths: str) -> None:
        for callback in self._listeners:
            callback(*paths)

    # -- project -----------------------------------------------------------------------------------

    def set_projects(self, *, projects: Sequence[str], current: str) -> None:
        names = sorted(set(projects) | {current})
        self._project = current
        if list(self.project.options) != names:
            self.project.options = names
        self.project.value = current
        self._render_resource_preview()

    # -- names -------------------------------------------------------------------------------------

    @property
    def editing_resource_name(self) -> bool:
        return self._editing_resource_name

    def derived_name(self) -> str:
        text = str(self.display_name.value)
        return naming.derive_resource_name(display_name=text, project=self._project) if text.strip() else ""

    def start_editing_resource_name(self) -> None:
        if not self._editing_resource_name:
            self._editing_resource_name = True
            self.resource_name.value = self.derived_name()
            show(self.resource_field.box, True)
            show(self.edit_resource, False)
            self._render_resource_preview()
            self._notify("name")

    def resource_name_value(self) -> str:
        return str(self.resource_name.value).strip() if self._editing_resource_name else self.derived_name()

    def _on_display_name(self, change: Mapping[str, object]) -> None:
        del change
        self._render_resource_preview()
        self._notify("displayName", "name")

    def _render_resource_preview(self) -> None:
        if self._editing_resource_name:
            self.resource_preview.value = ""
            return
        name = self.derived_name()
        self.resource_preview.value = (
            help_text(f"Resource name: {name}")
            if name
            else help_text("Resource name: derived from the name above.")
        )

    # -- hardware profiles -------------------------------------------------------------------------

    def set_profiles(self, profiles: Sequence[HardwareProfile]) -> None:
        """Offer the selectable profiles; the first is preselected, as the dashboard does on create."""
        self._profiles = {p.ref: p for p in profiles}
        options = [profile_option(p, project=self._project) for p in profiles] + [
            (NO_PROFILE_LABEL, NO_PROFILE)
        ]
        current = self.profile.value
        self.profile.options = options
        values = [value for _, value in options]
        self.profile.value = current if current in values and current != NO_PROFILE else values[0]
        self._bind_profile()

    def selected_profile(self) -> HardwareProfile | None:
        return self._profiles.get(str(self.profile.value or ""))

    def _on_profile(self, change: Mapping[str, object]) -> None:
        del change
        self._edit_overrides, self._edit_texts = None, {}  # another profile: its own defaults
        self._bind_profile()
        self._notify("hardwareProfile")

    def _bind_profile(self) -> None:
        profile = self.selected_profile()
        identifiers = profile.identifiers if profile else ()
        for slot, identifier in zip(
            self.resources, list(identifiers) + [None] * MAX_IDENTIFIERS, strict=False
        ):
            slot.bind(identifier)
        self.custom.set_visible(profile is None)
        if profile is not None:
            details = profile.description or ""
            self.profile_details.value = help_text(details) if details else ""
        elif self._profiles:
            self.profile_details.value = help_text(TEXT_NO_PROFILE_HELP)
        else:
            self.profile_details.value = help_text(TEXT_NO_PROFILES_AVAILABLE)

    def resource_overrides(self) -> dict[str, dict[str, str]]:
        """With a profile, only values that differ from its defaults, in both requests and limits
        (B.4); without one, the custom requests and limits as typed (none: the cluster's defaults)."""
        if self.selected_profile() is None:
            return self.custom.values()
        requests: dict[str, str] = {}
        limits: dict[str, str] = {}
        deployed = self._edit_overrides
        for slot in self.resources:
            identifier = slot.identifier
            if identifier is None:
                continue
            resource, text = identifier.identifier, str(slot.text.value).strip()
            if deployed is not None and self._edit_texts.get(resource) == text:
                if resource in deployed.requests:
                    requests[resource] = deployed.requests[resource]
                if resource in deployed.limits:
                    limits[resource] = deployed.limits[resource]
            elif text != identifier.default_count.text:
                requests[resource] = limits[resource] = text
        return {"requests": requests, "limits": limits} if requests or limits else {}

    def slot_for(self, resource: str) -> ResourceField | None:
        for slot in self.resources:
            if slot.identifier is not None and slot.identifier.identifier == resource:
                return slot
        return None

    # -- the request's part ------------------------------------------------------------------------

    def values(self) -> dict[str, object]:
        profile = self.selected_profile()
        data: dict[str, object] = {
            "display_name": str(self.display_name.value),
            "name": self.resource_name_value(),
            "description": str(self.description.value),
            "hardware_profile": profile.ref if profile else None,
            "resources": self.resource_overrides(),
            "replicas": self.replicas.value,
        }
        return data

    # -- edit mode ---------------------------------------------------------------------------------

    def prefill(self, request: DeploymentRequest, *, extra_profiles: Sequence[HardwareProfile] = ()) -> None:
        """Fill the section from a deployment's request, its resource name and project locked.

        ``extra_profiles``: the deployment's own profile when it is no longer offered for new
        deployments (hidden or disabled since), so an edit keeps it rather than silently dropping it.
        """
        for profile in extra_profiles:
            if profile.ref not in self._profiles:
                self.set_profiles([*self._profiles.values(), profile])
        self._editing_resource_name = True
        self.resource_name.value = request.name
        self.resource_name.disabled = True
        self.project.disabled = True
        self.resource_field.set_help(TEXT_NAME_FIXED)
        show(self.resource_field.box, True)
        show(self.edit_resource, False)
        self.display_name.value = request.display_name
        self.description.value = request.description
        self.replicas.value = request.replicas
        ref = request.hardware_profile or NO_PROFILE
        if ref and ref not in self._profiles:
            ref = next((r for r, p in self._profiles.items() if p.name == ref), NO_PROFILE)
        self.profile.value = ref
        self._bind_profile()
        overrides = request.resources
        if self.selected_profile() is not None:
            for resource, value in {**overrides.limits, **overrides.requests}.items():
                slot = self.slot_for(resource)
                if slot is not None:
                    slot.text.value = str(value)
            self._edit_overrides = overrides
            self._edit_texts = {
                slot.identifier.identifier: str(slot.text.value).strip()
                for slot in self.resources
                if slot.identifier is not None
            }
        else:
            self.custom.clear()
            for kind, values in (("requests", overrides.requests), ("limits", overrides.limits)):
                for resource, value in values.items():
                    if (kind, resource) in self.custom.texts:
                        self.custom.text(kind=kind, resource=resource).value = str(value)
        self._render_resource_preview()

    def reset(self) -> None:
        self._edit_overrides, self._edit_texts = None, {}
        self.resource_name.disabled = False
        self.project.disabled = False
        self.resource_field.set_help(TEXT_RESOURCE_NAME_HELP)
        self._editing_resource_name = False
        self.display_name.value = ""
        self.resource_name.value = ""
        self.description.value = ""
        self.replicas.value = 1
        self.custom.clear()
        show(self.resource_field.box, False)
        show(self.edit_resource, True)
        if self._profiles:
            self.profile.value = next(iter(self._profiles))
        self._bind_profile()
        self._render_resource_preview()

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Put each message under its field; a derived name's problems show under the display name."""
        name_message = errors.get("name")
        display_message = errors.get("displayName")
        if name_message and not self._editing_resource_name:
            display_message = display_message or name_message
            name_message = None
        self.name_field.set_error(display_message)
        self.resource_field.set_error(name_message)
        self.project_field.set_error(errors.get("project"))
        self.description_field.set_error(errors.get("description"))
        self.profile_field.set_error(errors.get("hardwareProfile"))
        self.replicas_field.set_error(errors.get("replicas"))
        for slot in self.resources:
            if slot.identifier is None:
                continue
            resource = slot.identifier.identifier
            slot.field.set_error(
                errors.get(f"resources.requests.{resource}") or errors.get(f"resources.limits.{resource}")
            )
        self.custom.show_errors(errors if self.selected_profile() is None else {})
        general = (
            errors.get("resources") or errors.get("resources.requests") or errors.get("resources.limits")
        )
        if general:
            self.profile_field.set_error(self.profile_field.message or general)
