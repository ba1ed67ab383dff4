from __future__ import annotations

import re

from nim_widget.ui.styles import ROOT_CLASS, style_widget, stylesheet


def test_every_rule_is_scoped_under_the_root_class() -> None:
    css = stylesheet()
    selectors = re.findall(r"^([^{]+)\{", css, flags=re.MULTILINE)
    assert len(selectors) > 40
    for group in selectors:
        for selector in group.split(","):
            assert selector.strip().startswith(f".{ROOT_CLASS}"), selector


def test_one_style_block_in_a_hidden_carrier() -> None:
    carrier = style_widget()
    assert carrier.value.count("<style>") == 1
    assert carrier.layout.display == "none"
