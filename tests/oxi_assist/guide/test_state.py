"""The guide's state types: where a prompt comes from, in the words the screen prints."""

from __future__ import annotations

from oxi_assist.guide.state import SourceRef, origin_label


def test_origin_labels_say_bc_or_ours() -> None:

    bc = SourceRef("gov-bc", "BC-official", "https://example.org")
    derived = SourceRef("tth", "BC-derived", "https://example.org")
    app = SourceRef("app", "app-defined")
    other = SourceRef("on", "other-jurisdiction", "https://example.org")
    assert origin_label([bc, derived]) == "BC"
    assert origin_label([app]) == "ours"
    assert origin_label([bc, app]) == "BC + ours"
    assert origin_label([other]) == "other jurisdiction"
    assert origin_label([]) == ""
