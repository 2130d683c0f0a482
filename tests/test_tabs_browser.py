"""Framework tabs in Chromium: one choice switches every tab set, on this page and the next."""

from __future__ import annotations

import pytest

from browser import browser_page, needs_chromium, serve

pytestmark = [needs_chromium, pytest.mark.browser]


def visible_tabs(page) -> list[str]:
    return page.eval_on_selector_all(
        ".octavo-tabset", "sets => sets.map(s => s.querySelector('.octavo-tab-button.active')"
                          ".getAttribute('data-tab'))")


def test_tab_choice_is_synced_across_sets_and_pages(minibook, tmp_path):
    book = minibook("tabs")
    result = book.build()
    assert result.code == 0, result.err
    with serve(book.root / "_build" / "html") as url, browser_page(tmp_path) as page:
        page.goto(f"{url}/basics/define.html")
        page.wait_for_selector(".octavo-tabset")
        # prose block, import cell and function cell of each framework -> tab sets
        assert page.locator(".octavo-tabset").count() == 2
        assert visible_tabs(page) == ["numpy", "numpy"]  # the default tab
        main = page.locator("main")
        assert main.get_by_text("NumPy prose.").is_visible()
        assert not main.get_by_text("Torch prose.").is_visible()
        # the shared cell shows once, with its output
        assert page.locator("text=def total(n)").count() == 1
        assert "total 3.0" in page.inner_text("main")
        page.locator(".octavo-tab-button[data-tab='torch']").first.click()
        assert visible_tabs(page) == ["torch", "torch"]
        assert main.get_by_text("Torch prose.").is_visible()
        assert page.locator(".octavo-tab-pane[data-tab='torch'] >> text=torch.ones(n)") \
            .first.is_visible()
        page.screenshot(path=str(tmp_path / "tabs.png"), full_page=True)
        # the next page opens on the same choice
        page.goto(f"{url}/basics/use.html")
        page.wait_for_selector(".octavo-tabset")
        assert visible_tabs(page) == ["torch"]
        assert "bumped 2 total 4.0" in page.inner_text("main")
        # a page with code for one framework only says so
        page.goto(f"{url}/basics/torch_only.html")
        assert "available for PyTorch only" in page.inner_text("main")
