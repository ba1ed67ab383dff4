"""The picker on its own: states, the row cap, and keeping the choice while the search changes."""

from __future__ import annotations

from nim_widget.facts import NimModel
from nim_widget.ui.picker import MAX_ROWS, TEXT_LOADING, TEXT_NO_PROJECT, ModelPicker, row_label


def model(i: int, *, description: str = "") -> NimModel:
    name = f"model-{i:04d}"
    return NimModel(
        key=name,
        name=name,
        display_name=f"Model {i:04d}",
        short_description=description or f"Description of model {i}",
        namespace="nim/test",
        tags=("2.0.0", "1.0.0"),
        latest_tag="2.0.0",
        updated_date=None,
    )


def test_initial_and_no_project_states() -> None:
    picker = ModelPicker()
    assert TEXT_LOADING in picker.state.value and picker.chooser.layout.display == "none"
    picker.set_no_project()
    assert "No project selected" in picker.state.value and TEXT_NO_PROJECT in picker.state.value


def test_rows_are_capped_and_the_count_says_so() -> None:
    picker = ModelPicker()
    picker.set_catalog(models=[model(i) for i in range(500)], account=None)
    assert picker.state.value == ""  # models present: no account alert even without an account object
    assert len(picker.visible_rows()) == MAX_ROWS
    assert f"Showing {MAX_ROWS} of 500 matching models" in picker.count.value
    picker.search.value = "model-004"
    assert [key for _, key in picker.visible_rows()][:2] == ["model-0040", "model-0041"]
    assert "10 of 500 models match." in picker.count.value


def test_the_choice_survives_searching_and_choose_finds_hidden_models() -> None:
    picker = ModelPicker()
    changes: list[str | None] = []
    picker.on_change(lambda: changes.append(picker.model_key))
    picker.set_catalog(models=[model(i) for i in range(300)], account=None)
    picker.search.value = "model 0001"
    picker.list.value = "model-0001"
    assert changes == ["model-0001"] and picker.selected_tag == "2.0.0"
    picker.search.value = "model 0002"
    assert picker.list.index is None and picker.model_key == "model-0001"
    picker.search.value = "model 000"
    assert picker.list.value == "model-0001"  # shown selected again once visible
    picker.choose(key="model-0250", tag="1.0.0")
    assert picker.search.value == "model-0250" and picker.list.value == "model-0250"
    assert picker.model_key == "model-0250" and picker.selected_tag == "1.0.0"
    picker.clear()
    assert picker.model_key is None and picker.tag_field.box.layout.display == "none"


def test_row_label_truncates_long_descriptions() -> None:
    label = row_label(model(1, description="word " * 60))
    assert label.startswith("Model 0001  ·  nim/test  —  word word")
    assert label.endswith("…") and len(label) < 140
