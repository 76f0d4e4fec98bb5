"""Drives Debian's chromium headless (selenium + chromium-driver) through the supervisor dashboard served by the
real `cumulus serve` on loopback (cumulus_demo_server.py: a demo world of 2 x 60 agents, tokens from
`cumulus token`).

Checks what is drawn (bars, legend, units, licence overages, pagination, UTF-8), switches to presence, hours and a
sort, POSTs a presence command to the server's /v1/commands and waits for the row's live update over
/v1/states/live, and saves a screenshot. Then prints the first paint on a bigger world (one tenant of 900 agents,
DASHBOARD_FIRST_PAINT_AGENTS to change, 0 to skip): a printed reading from the browser's Performance API, not an
assertion.

Run: Tools/scripts/dashboard-browser-test.sh [path/to/cumulus]   (OUTPUT_DIR for the screenshot)
"""

import json
import os
import subprocess
import tempfile
import time

import pytest
import requests
from cumulus_demo_server import demo_server
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
CUMULUS = os.environ.get("CUMULUS", os.path.join(HERE, "..", "..", ".build", "debug", "cumulus"))


@pytest.fixture(scope="module")
def world():
    with demo_server(CUMULUS, tenants=2, users=60, days=2, page_size=500) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    yield driver
    driver.quit()


def test_dashboard_draws_filters_and_updates_live(world, browser):
    output = os.environ.get("OUTPUT_DIR", tempfile.gettempdir())
    started = time.monotonic()
    browser.get(world["url"] + "?day=2026-11-16#token=" + world["supervisor"])
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".row .bar div")) > 0)
    print(f"first bars after {time.monotonic() - started:.2f} s (cumulus serve, 120 agents, debug build)")
    rows = browser.find_elements(By.CSS_SELECTOR, ".row")
    assert len(rows) == 50  # first page of 60 agents
    assert "page 1 of 2 (60 agents)" in browser.find_element(By.ID, "page").text
    legend = [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#legend .legend")]
    debug = browser.execute_script(
        "return JSON.stringify([document.getElementById('day').value, state.windowSeconds, [...state.seconds.entries()].slice(0, 2)])")
    assert "Available" in legend and "ACW" in legend, (legend, debug)
    assert "user state" in browser.find_element(By.ID, "units").text
    assert browser.find_elements(By.CSS_SELECTOR, "#licences tr.over"), "no licence overage marked"
    assert browser.execute_script("return document.characterSet") == "UTF-8"
    assert "token=" not in browser.current_url
    assert browser.find_element(By.ID, "day").get_attribute("value") == "2026-11-16"

    Select(browser.find_element(By.ID, "dimension")).select_by_value("availability")
    wait.until(lambda d: "presence" in d.find_element(By.ID, "units").text)
    legend = [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#legend .legend")]
    assert "Busy" in legend or "Away" in legend, legend
    Select(browser.find_element(By.ID, "sort")).select_by_value(legend[0])
    Select(browser.find_element(By.ID, "unit")).select_by_value("hours")
    wait.until(lambda d: "Hours" in d.find_element(By.ID, "units").text)

    # Live: a presence change posted through the log shows up in the agent's row.
    first = browser.find_element(By.CSS_SELECTOR, ".row")
    user = first.get_attribute("data-user")
    time.sleep(1.0)  # the event stream is connected
    post_presence(world, user, "DoNotDisturb", "DoNotDisturb")
    wait.until(lambda d: "DoNotDisturb" in now_text(d, user))
    path = os.path.join(output, "dashboard.png")
    browser.save_screenshot(path)
    print("screenshot:", path)
    assert os.path.getsize(path) > 10_000


def now_text(driver, user):
    """The text of the agent's current-state cell, read in one script: the board redraws its rows (a reload after
    the live updates stopped), so an element found first and read after could be gone."""
    return driver.execute_script(
        "const cell = document.querySelector(`.row[data-user=\"${arguments[0]}\"] .now`);"
        "return cell ? cell.textContent : null;", user) or ""


def post_presence(world, user, availability, activity):
    command = {
        "command": "recordPresence", "occurredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "user": user,
        "availability": availability, "activity": activity}
    posted = requests.post(world["url"] + "v1/commands", data=json.dumps(command), timeout=30,
                           headers={"Authorization": "Bearer " + world["presence_feed"],
                                    "Content-Type": "application/json"})
    assert posted.status_code == 201, posted.text


def test_live_updates_resume_after_the_log_is_restored_from_an_older_copy(world, browser):
    """The server is restarted on a copy of its log made before the browser's last live event: the browser's
    EventSource reconnects with a Last-Event-ID past that log's end, the server refuses it (400), and the board
    reloads and listens afresh, so a change made after the restore shows. (Had the server waited for that position
    instead, the first event after the restore, at that very position, would have been skipped.)"""
    browser.get(world["url"] + "?day=2026-11-16#token=" + world["supervisor"])
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".row .bar div")) > 0)
    user = browser.find_element(By.CSS_SELECTOR, ".row").get_attribute("data-user")
    older = world["data"] + "-older-copy"
    subprocess.run([CUMULUS, "copy", "--from", world["data"], "--to", older], check=True, capture_output=True)
    time.sleep(1.0)  # the event stream is connected
    # Presences the demo's feed never sends, so that what the row shows tells which log it comes from.
    post_presence(world, user, "BusyIdle", "Busy")
    wait.until(lambda d: "BusyIdle" in now_text(d, user))

    world["restart"](older)
    # The reloaded board shows the restored log's state; then a change made on it arrives live.
    wait.until(lambda d: now_text(d, user) and "BusyIdle" not in now_text(d, user))
    wait.until(lambda d: d.execute_script(
        "return state.updatedLive.size === 0 && document.getElementById('status').textContent === ''"))
    time.sleep(1.0)  # the new event stream is connected
    post_presence(world, user, "PresenceUnknown", "PresenceUnknown")
    wait.until(lambda d: "PresenceUnknown" in now_text(d, user))


def test_first_paint_on_a_bigger_world(browser):
    """A reading, not an assertion: when the bars of 900 agents are first on the page (Performance API)."""
    agents = int(os.environ.get("DASHBOARD_FIRST_PAINT_AGENTS", "900"))
    if agents == 0:
        pytest.skip("DASHBOARD_FIRST_PAINT_AGENTS=0")
    with demo_server(CUMULUS, tenants=1, users=agents, days=1, page_size=1000) as big:
        browser.get("about:blank")
        browser.get(big["url"] + "?day=2026-11-16#token=" + big["supervisor"])
        WebDriverWait(browser, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".row .bar div"))
        timing = browser.execute_script(
            "const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');"
            "const m = performance.getEntriesByName('cumulus-bars-drawn')[0];"
            "return [p ? p.startTime : null, m ? m.startTime : null];")
        text = browser.find_element(By.ID, "page").text
        print(f"first paint on {agents} agents ({text}; world made and served in {big['seconds_to_start']:.1f} s): "
              f"first contentful paint {timing[0]:.0f} ms, bars drawn {timing[1]:.0f} ms after navigation "
              f"({'release' if '/release/' in os.environ.get('CUMULUS', '') else 'debug'} build of cumulus serve, "
              "headless chromium)")
        assert f"({agents} agents)" in text
