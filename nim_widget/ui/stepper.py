"""The step indicator above the wizard's pages: where the person is and what is already done.

Plain HTML (an ordered list with state classes), rebuilt on every change: cheap, and unlike a row of
buttons it cannot be clicked into a step whose predecessors are incomplete.
"""

from __future__ import annotations

from collections.abc import Sequence

from nim_widget.ui.html import esc

STEP_TITLES: tuple[str, ...] = ("Model", "Deployment", "Advanced settings", "Review and deploy")


def stepper_html(*, current: int, done: Sequence[bool], finished: bool = False) -> str:
    items = []
    for index, title in enumerate(STEP_TITLES):
        state = "is-current" if index == current and not finished else ("is-done" if done[index] else "")
        items.append(
            f'<li class="{state}" data-step="{index + 1}"><span class="nimw-step-num">{index + 1}</span>'
            f"{esc(title)}</li>"
        )
    return f'<ol class="nimw-stepper">{"".join(items)}</ol>'
