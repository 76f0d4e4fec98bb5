"""Loads every entity set of the Cumulus OData feed through a real OData v4 client from PyPI (python-odata),
follows every @odata.nextLink, and checks the rows against an independent read.

Two ways to run it (see Tools/scripts/odata-client-test.sh):
- against a running server: ODATA_URL=https://host/odata/ ODATA_TOKEN=<bearer token>; with JSON_API_URL set
  (https://host/v1/) the row counts are also compared with the JSON API's reports (routes in JSON_API_ROUTES);
- without a server: ODATA_CUMULUS=<cumulus binary> ODATA_DATA_DIR=<demo data dir> ODATA_ACTOR=userSupervisor:<id>;
  a local HTTP shim answers each request by running `cumulus odata`, and the rows are compared with
  `cumulus report … --format json`.
"""

import json
import os
import subprocess
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from odata import ODataService

ENTITY_SETS = [
    "UserStates", "TimeInStateIntervals", "CurrentStates", "Licences", "Users", "Services", "OrganisationUnits",
    "Tenants",
]
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


class CumulusShim(BaseHTTPRequestHandler):
    """GET /odata/<path>?<query> → `cumulus odata <path>?<query>`, status and headers passed through."""

    cumulus = ""
    data_dir = ""
    actor = ""
    base = ""

    def do_GET(self):  # noqa: N802 (the http.server naming)
        parsed = urllib.parse.urlsplit(self.path)
        if not parsed.path.startswith("/odata/"):
            self.send_error(404)
            return
        resource = parsed.path[len("/odata/"):] + ("?" + parsed.query if parsed.query else "")
        result = subprocess.run(
            [self.cumulus, "odata", "--data-dir", self.data_dir, "--actor", self.actor, "--base-url", self.base,
             "--page-size", os.environ.get("ODATA_PAGE_SIZE", "50"), "--include", resource],
            capture_output=True, text=True, check=False)
        head, _, body = result.stdout.partition("\n\n")
        lines = head.split("\n")
        status = int(lines[0].split(" ")[1]) if lines and lines[0].startswith("HTTP/") else 500
        self.send_response(status)
        for line in lines[1:]:
            name, _, value = line.partition(": ")
            self.send_header(name, value)
        payload = body.rstrip("\n").encode("utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def feed():
    """(base URL, requests session, JSON-API comparison function or None)."""
    session = requests.Session()
    if os.environ.get("ODATA_URL"):
        session.headers["Authorization"] = "Bearer " + os.environ["ODATA_TOKEN"]
        base = os.environ["ODATA_URL"].rstrip("/") + "/"
        yield base, session, json_api_counter(session)
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), CumulusShim)
    CumulusShim.cumulus = os.environ["ODATA_CUMULUS"]
    CumulusShim.data_dir = os.environ["ODATA_DATA_DIR"]
    CumulusShim.actor = os.environ["ODATA_ACTOR"]
    CumulusShim.base = f"http://127.0.0.1:{server.server_address[1]}/odata/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield CumulusShim.base, session, cli_counter()
    server.shutdown()


def json_api_counter(session):
    api = os.environ.get("JSON_API_URL")
    if not api:
        return None
    routes = json.loads(os.environ.get("JSON_API_ROUTES", "{}"))

    def count(entity_set):
        route = routes.get(entity_set)
        if route is None:
            return None
        response = session.get(api.rstrip("/") + "/" + route.lstrip("/"), timeout=60)
        response.raise_for_status()
        body = response.json()
        return len(body if isinstance(body, list) else body.get("rows", body.get("value", [])))

    return count


def cli_counter():
    tenant = os.environ["ODATA_ACTOR"].split(":", 1)[-1]
    reports = {"UserStates": "user-states", "Licences": "licences"}

    def count(entity_set):
        kind = reports.get(entity_set)
        if kind is None:
            return None
        result = subprocess.run(
            [os.environ["ODATA_CUMULUS"], "report", kind, "--data-dir", os.environ["ODATA_DATA_DIR"],
             "--tenant", tenant, "--actor", os.environ["ODATA_ACTOR"] if kind != "licences" else "systemAdmin",
             "--format", "json"],
            capture_output=True, text=True, check=True)
        return len(json.loads(result.stdout))

    return count


def raw_rows(base, session, entity_set):
    """Every row through plain HTTP, following next links: the independent read."""
    rows, url, pages = [], base + entity_set, 0
    while url:
        response = session.get(url, timeout=120)
        assert response.status_code == 200, response.text
        assert response.headers.get("OData-Version") == "4.0"
        body = response.json()
        rows += body["value"]
        url = body.get("@odata.nextLink")
        pages += 1
    return rows, pages


def test_metadata_is_csdl_4(feed):
    base, session, _ = feed
    response = session.get(base + "$metadata", timeout=60)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == EDMX + "Edmx" and root.attrib["Version"] == "4.0"
    schema = root.find(f"{EDMX}DataServices/{EDM}Schema")
    types = {t.attrib["Name"]: t for t in schema.findall(f"{EDM}EntityType")}
    for name, element in types.items():
        keys = [ref.attrib["Name"] for ref in element.findall(f"{EDM}Key/{EDM}PropertyRef")]
        properties = {p.attrib["Name"]: p.attrib["Type"] for p in element.findall(f"{EDM}Property")}
        assert keys and all(key in properties for key in keys), name
    sets = {s.attrib["Name"] for s in schema.findall(f"{EDM}EntityContainer/{EDM}EntitySet")}
    assert sets == set(ENTITY_SETS)


@pytest.mark.parametrize("entity_set", ENTITY_SETS)
def test_every_entity_set_loads_through_python_odata(feed, entity_set):
    base, session, count = feed
    service = ODataService(base, session=session, reflect_entities=True, quiet_progress=True)
    entity = service.entities[entity_set]
    loaded = [row.__odata__.data for row in service.query(entity)]
    raw, pages = raw_rows(base, session, entity_set)
    key = {"UserStates": "Id", "TimeInStateIntervals": "Id", "Licences": "Id", "CurrentStates": "UserId",
           "Users": "UserId", "Services": "ServiceId", "OrganisationUnits": "OrganisationUnitId",
           "Tenants": "TenantId"}[entity_set]
    assert [row[key] for row in loaded] == [row[key] for row in raw], entity_set
    assert len(set(row[key] for row in raw)) == len(raw)
    print(f"{entity_set}: {len(raw)} rows in {pages} pages")
    expected = count(entity_set) if count else None
    if expected is not None:
        assert len(raw) == expected, f"{entity_set}: feed {len(raw)} rows, JSON API {expected}"
