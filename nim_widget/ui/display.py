"""What the two top-level views (NimWizard, NimDeployments) share about being shown in a notebook.

They wrap a root widget rather than subclass one, so the notebook display protocol and closing are
delegated here once.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets


class RootView:
    """Displays `self.widget`; subclasses set `widget`, `connection` and `project`."""

    widget: widgets.Widget
    connection: Any
    project: str

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
