"""The first screen of `oxi-assist class` without a scenario: one scenario for all, or several
handed round, a seed and a seed per station; nothing ticked or a bad seed is said, not sent."""

from __future__ import annotations

from textual.widgets import Checkbox, Input, SelectionList

from oxi_assist.ui.class_setup import SetupApp, SetupChoice

NAMES = ["baseline", "opioid-overdose", "xylazine"]


async def test_pick_variants_seed_and_vary() -> None:
    app = SetupApp(NAMES, "opioid-overdose")
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one(SelectionList).select("xylazine")
        app.screen.query_one("#setup-seed", Input).value = "7"
        app.screen.query_one(Checkbox).value = True
        await pilot.click("#setup-open")
    assert app.return_value == SetupChoice(("opioid-overdose", "xylazine"), 7, True)


async def test_nothing_ticked_or_a_bad_seed_is_said() -> None:
    app = SetupApp(NAMES, "opioid-overdose")
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one(SelectionList).deselect_all()
        await pilot.click("#setup-open")
        assert "at least one" in str(app.screen.query_one("#setup-message").render())
        app.screen.query_one(SelectionList).select("baseline")
        app.screen.query_one("#setup-seed", Input).value = "-3"
        await pilot.pause(0.3)
        await pilot.click("#setup-open")
        assert "whole number" in str(app.screen.query_one("#setup-message").render())
        await pilot.press("escape")
    assert app.return_value is None
