"""The console in headless Chromium against a real node: a village agent accepts a case on the
phone screen, the township window decides it at the desk, the agent hands it over; the hall board
shows it by itself (intake's public board of the township) without a login and without personal
data; the supervision dashboard shows the red flag of an overdue case of the demo history. Each
screen's screenshot goes to docs/console/."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.e2e.browser import DESK, PHONE, chromium
from tests.e2e.harness import COUNTY, Suite, all_pages, eventually, resident_id, wait_for_replica

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ITEM = "JF-00403-001-370285000000-01"  # 临时救助: promised, decided by the township
VILLAGE = "370285101294"  # 姜山社区: the demo identity `village-agent`
TOWNSHIP = "370285101000"  # 姜山镇: window 01, A post `township-clerk`
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
APPLICANT = ("王秀英", resident_id(419), "13953200419", "莱西市姜山镇姜山社区")

T = TypeVar("T")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """A county node with some demo history, so that the dashboard has weeks to draw and an
    overdue case (the history's recipes hold one whatever their number)."""
    suite = Suite.start(tmp_path_factory.mktemp("console") / "var", env={"DAIBAN_DEMO_HISTORY_CASES": "40"})
    try:
        yield suite
    finally:
        suite.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile") as driver:
        yield driver


def test_a_case_through_the_console_from_the_village_to_the_township_and_back(
    node: Suite, browser: Any
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    console = f"http://127.0.0.1:{node.ports['console']}"
    wait_for_replica(node, node.token("village-agent", "agent", VILLAGE), VILLAGE, [ITEM])
    SHOTS.mkdir(parents=True, exist_ok=True)

    def find(css: str, root: Any = None) -> Any:
        return (root or browser).find_element(By.CSS_SELECTOR, css)

    def wait(css: str, *, text: str = "", root: Any = None) -> Any:
        def present() -> Any:
            # The pages redraw what they refresh: an element gone between finding and reading is
            # "not yet", found again on the next try.
            try:
                found = (root or browser).find_elements(By.CSS_SELECTOR, css)
                return next((e for e in found if text in e.text), None)
            except StaleElementReferenceException:
                return None

        return eventually(present)

    def until(check: Callable[[], T]) -> T:
        return eventually(check)

    def shot(name: str, at: Any = None) -> None:
        """The window as a person sees it, scrolled to `at`; or, without `at`, the whole page."""
        if at is not None:
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", at)
            browser.save_screenshot(str(SHOTS / f"{name}.png"))
            return
        width, height = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        image = browser.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        (SHOTS / f"{name}.png").write_bytes(base64.b64decode(image["data"]))

    def sign_in(sub: str, size: tuple[int, int]) -> None:
        browser.set_window_size(*size)
        browser.get(f"{console}/index.html")
        wait(f'button[data-sub="{sub}"]').click()

    tabs: dict[str, str] = {}

    def tab(name: str) -> None:
        if name not in tabs:
            if tabs:
                browser.switch_to.new_window("tab")
            tabs[name] = browser.current_window_handle
        browser.switch_to.window(tabs[name])

    # The login page offers the demo people by name and unit.
    tab("agent")
    browser.set_window_size(*DESK)
    browser.get(f"{console}/index.html")
    wait('button[data-sub="village-agent"]', text="姜山社区")
    shot("login")

    # The village agent, on a phone: find the item by its initials, bring only part of the
    # materials: the one-time notice lists what is missing; then everything: accepted, a receipt.
    sign_in("village-agent", PHONE)
    wait("#item-q").send_keys("lsjz")
    wait(f'button[data-item="{ITEM}"]').click()
    name, id_number, phone, address = APPLICANT
    for field, value in (("#applicant-name", name), ("#applicant-id", id_number)):
        find(field).send_keys(value)
    find("#applicant-phone").send_keys(phone)
    find("#applicant-address").send_keys(address)
    find("input[name=material]").click()
    find("#accept").click()
    notice = wait('[data-testid="one-time-notice"]', text="一次性告知")
    assert "未提交" in notice.text
    shot("agent-one-time-notice", notice)
    for box in browser.find_elements(By.CSS_SELECTOR, "input[name=material]"):
        if not box.is_selected():
            box.click()
    find("#accept").click()
    receipt = wait('[data-testid="receipt"]')
    number = find('[data-testid="case-number"]', receipt).text
    code = find('[data-testid="query-code"]', receipt).text
    assert number.startswith(f"{VILLAGE}-"), receipt.text
    shot("agent-receipt", receipt)

    # The hall board of the township, no login: the village's new case is on it by itself (its
    # number with the date masked), counted under its stage, and it refreshes by itself.
    tab("board")
    browser.set_window_size(1600, 900)
    browser.get(f"{console}/board.html?org={TOWNSHIP}&refresh=3")
    masked = f"{VILLAGE}-********-{number.rsplit('-', 1)[1]}"
    wait(f'.board-card[data-case="{masked}"]', text="临时救助")
    wait('#stages li[data-status="supplement_requested"]', text="待补正材料")
    assert find("#hall-select").get_attribute("value") == TOWNSHIP

    # The township window's A post: the task is in the queue; claim it, approve it.
    tab("desk")
    sign_in("township-clerk", DESK)

    def queued() -> Any:
        find("#reload").click()
        return wait(f'#queue tr[data-case="{number}"]')

    until(queued).click()
    detail = wait('[data-testid="case-detail"]', text="临时救助")
    assert "姜山社区" in detail.text and "姜山镇" in detail.text  # names, not codes, on the route
    find("#claim").click()
    wait("#detail .alert-ok", text="领取")  # the task is now in review, held by the A post
    wait("#decision-text").send_keys("经审核，准予临时救助1000元")
    shot("desk")
    find("#approve").click()
    wait("#detail .alert-ok", text="准予办理")

    # The board moves the case on its own refresh once the result is back at the village.
    tab("board")
    back = f'#col-back .board-card[data-case="{masked}"][data-status="ready_for_handover"]'
    card = wait(back, text="临时救助")
    assert "准予办理" in card.text and "姜山社区" in card.text, card.text

    # The agent hands the result over with the ID check; the villager rates the service.
    tab("agent")

    def ready() -> Any:
        find('[data-tab="handover"]').click()
        return wait(f'[data-handover="{number}"]')

    handover = until(ready)
    find("input[name=recipient_id_number]", handover).send_keys(id_number)
    find("button", handover).click()
    wait(".alert-ok", text="已送达")
    wait("input[name=query_code]").send_keys(code)
    Select(find("select[name=level]")).select_by_value("very_satisfied")
    find(".evaluation button").click()
    wait(".alert-ok", text="非常满意")
    find('[data-tab="cases"]').click()
    shot("agent-cases", wait(f'article[data-case="{number}"]', text="已评价"))

    tab("board")
    done = wait(f'#col-done .board-card[data-case="{masked}"]', text="临时救助")
    assert "准予办理" in done.text
    board = find("body").text
    for personal in (name, id_number, phone, code, number):
        assert personal not in board, f"the public board shows {personal!r}"
    shot("board")

    # The supervisor's dashboard: the overdue case of the demo history is red, by its township.
    with node.client("routing", node.token("county-supervisor", "supervisor", COUNTY)) as routing:
        flags = all_pages(routing, "/v1/supervision/flags", org=COUNTY)
        red = next(f for f in flags if f["level"] == "red" and f["org"] != COUNTY)
        township = f"{red['org'][:9]}000"
        township_name = routing.get(f"/v1/public/service-points/{township}").json()["org_name"]
    tab("dashboard")
    sign_in("county-supervisor", DESK)
    wait(f'#flag-table tr[data-case="{red["case_number"]}"]', text="红牌")
    until(lambda: find("#kpi-on-time").text.endswith("%"))
    chart = until(lambda: find("#chart-flags canvas") and find("#chart-flags"))
    assert int(find("#kpi-red").text) >= 1
    shot("dashboard")

    # A click on the township's red bar lists its flagged cases; a click on the case opens it.
    x, y, width, height = browser.execute_script(
        """const chart = echarts.getInstanceByDom(arguments[0]);
        const row = chart.getOption().yAxis[0].data.indexOf(arguments[1]);
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [0.5, row]);
        return [x, y, arguments[0].clientWidth, arguments[0].clientHeight];""",
        chart,
        township_name,
    )
    ActionChains(browser).move_to_element_with_offset(
        chart, int(x - width / 2), int(y - height / 2)
    ).click().perform()
    wait("#flag-title", text=township_name)
    row = wait(f'#flag-table tr[data-case="{red["case_number"]}"]', text=red["item_name"])
    for other in (f for f in flags if f"{f['org'][:9]}000" != township):
        assert not browser.find_elements(
            By.CSS_SELECTOR, f'#flag-table tr[data-case="{other["case_number"]}"]'
        )
    row.click()
    shot("dashboard-case", wait("#drill [data-testid='case-detail']", text=red["item_name"]))

    # Nothing was loaded from anywhere but the console and the services (the CSP would say so).
    logs = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in logs if "Content Security Policy" in m], logs
