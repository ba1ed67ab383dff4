"""Fixtures for the headless widget tests: real ipywidgets objects, no kernel, no frontend."""

from __future__ import annotations

from collections.abc import Iterator

import ipywidgets as widgets
import pytest


@pytest.fixture(autouse=True)
def _close_widgets() -> Iterator[None]:
    """Every test starts and ends with an empty widget registry."""
    widgets.Widget.close_all()
    yield
    widgets.Widget.close_all()
