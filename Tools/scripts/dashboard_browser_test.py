"""Drives Debian's chromium headless (selenium + chromium-driver) through the supervisor dashboard.

Without `cumulus serve` (not merged yet) a local shim stands in for it: it serves Dashboard/ at /, answers
/odata/… by running `cumulus odata` as the reader the token names, and streams /v1/events/live from
`cumulus tail` (presence and user-state changes as JSON). The test checks what is drawn (bars, legend, units,
licence overages, pagination), switches to presence, posts a presence command with `cumulus import` and waits
for the live update, and saves a screenshot.

Run: Tools/scripts/dashboard-browser-test.sh [path/to/cumulus]   (OUTPUT_DIR for the screenshot)
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARD = os.path.join(HERE, "..", "..", "Dashboard")
CUMULUS = os.environ.get("CUMULUS", os.path.join(HERE, "..", "..", ".build", "debug", "cumulus"))
TOKEN = "dashboard-test-token"


class Shim(BaseHTTPRequestHandler):
    data_dir = ""
    actor = ""
    base = ""
    tails = []

    def authorised(self, query):
        header = self.headers.get("Authorization", "")
        return header == "Bearer " + TOKEN or query.get("access_token", [""])[0] == TOKEN

    def do_GET(self):  # noqa: N802
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        if parsed.path in ("/", "/index.html", "/dashboard.js", "/dashboard.css"):
            name = "index.html" if parsed.path == "/" else parsed.path[1:]
            kind = {"html": "text/html", "js": "text/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]
            with open(os.path.join(DASHBOARD, name), "rb") as file:
                body = file.read()
            self.send_response(200)
            self.send_header("Content-Type", kind + ";charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not self.authorised(query):
            self.send_response(401)
            self.end_headers()
            return
        if parsed.path.startswith("/odata/"):
            resource = parsed.path[len("/odata/"):] + ("?" + parsed.query if parsed.query else "")
            result = subprocess.run(
                [CUMULUS, "odata", "--data-dir", self.data_dir, "--actor", self.actor, "--base-url", self.base,
                 "--page-size", "500", "--include", resource], capture_output=True, text=True, check=False)
            head, _, body = result.stdout.partition("\n\n")
            lines = head.split("\n")
            self.send_response(int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/") else 500)
            for line in lines[1:]:
                name, _, value = line.partition(": ")
                self.send_header(name, value)
            payload = body.rstrip("\n").encode("utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if parsed.path == "/v1/events/live":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            tail = subprocess.Popen([CUMULUS, "tail", "--data-dir", self.data_dir], stdout=subprocess.PIPE, text=True)
            Shim.tails.append(tail)
            try:
                for line in tail.stdout:
                    event = json.loads(line)
                    rendering = event.get("event", "")
                    user = re.search(r"user: ([0-9a-f-]{36})", rendering)
                    if not user:
                        continue
                    data = {"userId": user.group(1)}
                    if event["type"] == "PresenceChanged":
                        match = re.search(r"availability: (\w+)", rendering)
                        data["availability"] = match.group(1) if match else None
                    elif event["type"] == "UserStateChanged":
                        match = re.search(r"state: (\w+)", rendering)
                        data["userState"] = match.group(1) if match else None
                    else:
                        continue
                    self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                tail.kill()
            return
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def world():
    data = tempfile.mkdtemp(prefix="cumulus-dashboard.")
    out = subprocess.run(
        [CUMULUS, "demo", "--data-dir", data, "--tenants", "2", "--users-per-tenant", "60", "--days", "2", "--no-serve"],
        capture_output=True, text=True, check=True).stdout
    tenant = re.search(r", id ([0-9a-f-]{36})\)", out).group(1)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Shim)
    Shim.data_dir = data
    Shim.actor = "userSupervisor:" + tenant
    Shim.base = f"http://127.0.0.1:{server.server_address[1]}/odata/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"data": data, "tenant": tenant, "url": f"http://127.0.0.1:{server.server_address[1]}/"}
    for tail in Shim.tails:
        tail.kill()
    server.shutdown()
    shutil.rmtree(data, ignore_errors=True)


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
    browser.get(world["url"] + "?day=2026-11-16#token=" + TOKEN)
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".row .bar div")) > 0)
    print(f"first bars after {time.monotonic() - started:.2f} s (through the cumulus-odata shim)")
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
    line = json.dumps({
        "command": "recordPresence", "actor": "presenceFeed:" + world["tenant"],
        "occurredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "user": user,
        "availability": "DoNotDisturb", "activity": "DoNotDisturb"})
    subprocess.run([CUMULUS, "import", "--data-dir", world["data"], "-"], input=line + "\n", text=True, check=True,
                   capture_output=True)
    wait.until(lambda d: "DoNotDisturb" in d.find_element(By.CSS_SELECTOR, f'.row[data-user="{user}"] .now').text)
    path = os.path.join(output, "dashboard.png")
    browser.save_screenshot(path)
    print("screenshot:", path)
    assert os.path.getsize(path) > 10_000
