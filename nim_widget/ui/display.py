"""What the two top-level views (NimWizard, NimDeployments) share about being shown in a notebook.

They wrap a root widget rather than subclass one, so the notebook display protocol and closing are
delegated here once.
"""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as widgets

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import Connection


class RootView:
    """Displays `self.widget`; subclasses call `_connect` first and build `widget`."""

    widget: widgets.Widget
    connection: Any
    project: str
    demo: bool
    api: Api
    _owns_connection: bool

    def _connect(
        self,
        *,
        connection: Connection | None,
        kubeconfig: str | os.PathLike[str] | None,
        context: str | None,
        project: str | None,
        demo: bool | None,
    ) -> None:
        """Use the given connection, or make one (a real cluster, else the demo cluster) and own it."""
        from nim_widget import demo as demo_env

        self._owns_connection = connection is None
        if connection is None:
            connection, is_demo = demo_env.ensure_connection(
                kubeconfig=kubeconfig, context=context, namespace=project, demo=demo
            )
            demo = is_demo if demo is None else demo
        elif demo is None:
            demo = bool(demo_env.demo_setting())
        self.connection = connection
        self.demo = bool(demo)
        self.api = Api(api_client=connection.api_client)
        self.project = project or connection.namespace or "default"
        # why the demo cluster was chosen, for the banner (None on a real cluster)
        self.demo_reason: str | None = demo_env.demo_reason() if self.demo else None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            # A short, stable text fallback: notebooks saved or compared (nbval) without a frontend.
            bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"{type(self).__name__}(cluster={self.connection.describe()!r}, project={self.project!r})"


def close_tree(widget: widgets.Widget) -> None:
    """Close a widget and everything below it (ipywidgets closes only the widget it is asked to)."""
    for child in getattr(widget, "children", ()) or ():
        close_tree(child)
    widget.close()
