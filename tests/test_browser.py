"""The built site in a real browser: math typeset, outputs and images shown, links work."""

from __future__ import annotations

import pytest

from browser import browser_page, needs_chromium, serve

pytestmark = [needs_chromium, pytest.mark.browser]


def test_site_renders_offline_in_chromium(minibook, tmp_path):
    book = minibook("basic")
    assert book.build().code == 0
    site = book.root / "_build" / "html"
    with serve(site) as url, browser_page(tmp_path) as page:
        page.goto(f"{url}/chapter/uses_data.html")
        page.wait_for_function("() => window.MathJax && MathJax.startup && "
                               "MathJax.startup.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() >= 1
        assert "number 7" in page.inner_text("main")
        # the cross-reference to the other section resolves and leads there
        link = page.locator("a.reference.internal[href*='plain.html']").first
        assert link.count() == 1
        link.click()
        page.wait_for_load_state("load")
        assert page.url.split("#")[0].endswith("/chapter/plain.html")
        page.wait_for_function("() => window.MathJax && MathJax.startup")
        page.evaluate("() => MathJax.startup.promise")
        main = page.inner_text("main")
        assert "$$" not in main and "\\frac" not in main
        assert page.locator("mjx-container").count() >= 2  # inline and display math
        assert "plain 42" in main
        sizes = page.eval_on_selector_all(
            "main img", "imgs => imgs.map(i => [i.src, i.complete, i.naturalWidth])")
        assert len(sizes) >= 2  # the SVG figure and the matplotlib PNG
        assert all(complete and width > 0 for _, complete, width in sizes), sizes
        assert "Fig. 1.3.1" in main or "Fig. 1" in main
        shot = tmp_path / "plain.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert page.outside_requests == [], page.outside_requests
