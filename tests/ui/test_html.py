from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from nim_widget.ui.html import (
    alert,
    data_uri,
    definition_list,
    download_anchor,
    esc,
    field_error,
    message_list,
)

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>&'


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Collect:
    parser = _Collect()
    parser.feed(markup)
    return parser


def test_esc_neutralises_markup_and_quotes() -> None:
    assert (
        esc(HOSTILE)
        == "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&amp;"
    )
    assert esc("it's") == "it&#x27;s"


def test_helpers_never_create_elements_from_values() -> None:
    markup = (
        alert(kind="danger", title=HOSTILE, body=HOSTILE, extra=message_list([HOSTILE], cls="x"))
        + definition_list([(HOSTILE, HOSTILE)])
        + field_error(HOSTILE)
    )
    parsed = _parse(markup)
    assert "img" not in parsed.tags and "script" not in parsed.tags
    assert HOSTILE in "".join(parsed.text)


def test_download_anchor_carries_exact_content_and_escapes_the_file_name() -> None:
    content = 'kind: Secret\nmetadata: {name: "a<b>&c"}\n'
    markup = download_anchor(
        filename=f"{HOSTILE}.yaml",
        content=content,
        mime="application/yaml",
        label="Download YAML",
        cls="nimw-link nimw-download-yaml",
    )
    parsed = _parse(markup)
    assert parsed.tags == ["a"]
    attrs = dict(parsed.attrs)
    assert attrs["download"] == f"{HOSTILE}.yaml"
    href = attrs["href"]
    assert href is not None
    match = re.fullmatch(r"data:application/yaml;charset=utf-8;base64,([A-Za-z0-9+/=]+)", href)
    assert match is not None
    assert base64.b64decode(match.group(1)).decode("utf-8") == content


def test_data_uri_is_attribute_safe() -> None:
    uri = data_uri(content="\"'<>&\n", mime="text/plain")
    assert not set(uri) & set("\"'<>& \n")
