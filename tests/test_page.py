"""The HTML page in a real browser: on a desktop and a phone, and printed.

On screen the page never scrolls sideways; the table scrolls inside its own box and the figure
scales with the page (inside its own box, never below a legible size). Printed, nothing scrolls
or sticks, the totals come once and each layer's working runs the page's full width.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc.cli import main

from .conftest import need_program

pytestmark = pytest.mark.browser
WIDTHS = (1400, 420)


@pytest.fixture(scope="module")
def browser():
    chromium = need_program("chromium", "/usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
        )
        yield instance
        instance.close()


@pytest.fixture(scope="module", params=["alexnet", "googlenet"])
def page_file(request, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("page") / f"{request.param}.html"
    result = CliRunner().invoke(main, ["table", request.param, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


MEASURE = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
  const svg = document.querySelector("figure svg");
  const scale = svg.getScreenCTM().a;  // CSS px per figure unit, as drawn (letterboxing included)
  const sizes = [...svg.querySelectorAll("text")].map((t) => parseFloat(t.getAttribute("font-size")) * scale);
  const tableBox = document.querySelector(".table-box");
  const figure = document.querySelector("figure");
  return {
    viewport: window.innerWidth,
    pageWidth: document.documentElement.scrollWidth,
    figure: box(figure), figureScrolls: figure.scrollWidth > figure.clientWidth,
    svgWidth: svg.getBoundingClientRect().width,
    smallestFigureText: Math.min(...sizes),
    tableBox: box(tableBox), tableScrolls: tableBox.scrollWidth > tableBox.clientWidth,
    cellText: parseFloat(getComputedStyle(document.querySelector("#layers td")).fontSize),
  };
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_page_fits_the_screen(browser, page_file: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(page_file.as_uri())
    m = page.evaluate(MEASURE)
    page.close()
    assert m["pageWidth"] <= m["viewport"], "the page itself scrolls sideways"
    assert m["tableBox"]["right"] <= m["viewport"] and m["figure"]["right"] <= m["viewport"]
    assert m["cellText"] >= 12
    assert m["smallestFigureText"] >= 7, f"figure text {m['smallestFigureText']:.1f} px"
    if width == 1400:
        assert not m["figureScrolls"] and m["svgWidth"] == pytest.approx(m["figure"]["width"], abs=1)
    else:
        assert m["tableScrolls"]  # 11 columns do not fit a phone: they scroll in the table's box


def test_table_box_scrolls_with_its_header(browser, page_file: Path):
    """The table's own box scrolls; its header row stays at the top of the box."""
    page = browser.new_page(viewport={"width": 420, "height": 700})
    page.goto(page_file.as_uri())
    top = page.evaluate("""() => {
      const box = document.querySelector('.table-box');
      box.scrollTop = 400;
      return document.querySelector('#layers th').getBoundingClientRect().top - box.getBoundingClientRect().top;
    }""")
    page.close()
    assert abs(top) <= 1


def test_printed_page(browser, page_file: Path):
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(page_file.as_uri())
    page.emulate_media(media="print")
    m = page.evaluate("""() => {
      const style = (sel) => getComputedStyle(document.querySelector(sel));
      const body = document.body.getBoundingClientRect().width;
      const dds = [...document.querySelectorAll('.derivations dd')].map((d) => d.getBoundingClientRect().width);
      const arithmetic = document.querySelector('#layers tbody tr td:last-child');
      return {
        boxOverflow: style('.table-box').overflowX, boxHeight: style('.table-box').maxHeight,
        figureOverflow: style('figure').overflowX, header: style('#layers th').position,
        tfoot: style('#layers tfoot').display, arithmetic: getComputedStyle(arithmetic).display,
        derivations: style('.derivations').display, sections: document.querySelectorAll('.derivations section').length,
        rows: document.querySelectorAll('#layers tbody tr').length,
        widest: Math.max(...dds), body: body,
        pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
      };
    }""")
    pdf = page.pdf(format="A4")
    page.close()
    assert (m["boxOverflow"], m["boxHeight"], m["figureOverflow"], m["header"]) == (
        "visible",
        "none",
        "visible",
        "static",
    )
    assert m["tfoot"] == "table-row-group"  # printed once at the end, not repeated on every page
    assert m["arithmetic"] == "none" and m["derivations"] == "block" and m["sections"] == m["rows"]
    assert m["widest"] >= 0.5 * m["body"]  # the working has the page's width, not a column's
    assert m["pageWidth"] <= m["viewport"]
    assert pdf.startswith(b"%PDF")


def test_derivations_are_hidden_on_screen(browser, page_file: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(page_file.as_uri())
    shown = page.evaluate("() => getComputedStyle(document.querySelector('.derivations')).display")
    page.close()
    assert shown == "none"
