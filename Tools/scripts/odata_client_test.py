"""Loads every entity set of the Cumulus OData feed through a real OData v4 client from PyPI (python-odata),
follows every @odata.nextLink, and checks the rows against the JSON API of the same server.

Run against a running `cumulus serve`, or with ODATA_DEMO_CUMULUS=<cumulus binary> (what
`Tools/scripts/odata-client-test.sh --demo` sets) against one started here on a small demo world
(cumulus_demo_server.py), with these variables set from it:
  ODATA_URL=http://host/odata/   the feed
  ODATA_TOKEN=…                  a user supervisor's bearer token (the feed's reader)
  JSON_API_URL=http://host/v1/   the JSON API of the same server (optional: without it only the feed is checked)
  JSON_API_TOKEN=…               a token that may read the tenant's state and licences (a tenant or system admin)
  ODATA_TENANT=<tenant id>       the supervisor's tenant
"""

import contextlib
import datetime
import json
import os
import xml.etree.ElementTree as ET

import pytest
import requests
from cumulus_demo_server import demo_server
from odata import ODataService

ENTITY_SETS = [
    "UserStates", "TimeInStateIntervals", "CurrentStates", "Licences", "Users", "Services", "OrganisationUnits",
    "Tenants",
]
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def instant(text):
    """An ISO 8601 instant as an aware datetime (the feed writes `Z`, the JSON API its own precision)."""
    return None if text in (None, "") else datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def blank(value):
    return None if value == "" else value


@pytest.fixture(scope="session")
def feed():
    """(feed base URL, requests session with the supervisor's token, JSON API reader or None)."""
    with contextlib.ExitStack() as stack:
        if os.environ.get("ODATA_DEMO_CUMULUS"):
            world = stack.enter_context(demo_server(os.environ["ODATA_DEMO_CUMULUS"], tenants=2, users=12, days=1))
            os.environ.update({
                "ODATA_URL": world["url"] + "odata/", "ODATA_TOKEN": world["supervisor"],
                "JSON_API_URL": world["url"] + "v1/", "JSON_API_TOKEN": world["admin"],
                "ODATA_TENANT": world["tenant"]})
            print(f"demo world served by cumulus serve at {world['url']} after {world['seconds_to_start']:.1f} s")
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + os.environ["ODATA_TOKEN"]
        base = os.environ["ODATA_URL"].rstrip("/") + "/"
        yield base, session, json_api(session)


def json_api(supervisor):
    """GET on the JSON API: reports with the supervisor's token, state and licences with the admin's."""
    api = os.environ.get("JSON_API_URL")
    if not api:
        return None
    admin = requests.Session()
    admin.headers["Authorization"] = "Bearer " + os.environ.get("JSON_API_TOKEN", os.environ["ODATA_TOKEN"])

    def get(route, as_admin=False):
        response = (admin if as_admin else supervisor).get(api.rstrip("/") + "/" + route, timeout=60)
        assert response.status_code == 200, (route, response.status_code, response.text)
        return response.json()

    return get


def expected_rows(get, entity_set, feed_rows):
    """The rows the JSON API gives for `entity_set`, and the same projection of the feed's rows."""
    tenant = os.environ["ODATA_TENANT"]
    if entity_set == "UserStates":
        api = get(f"reports/user-states?tenant={tenant}&limit=100000")["rows"]
        mine = [(r["userId"], instant(r["start"]), blank(r["userState"]), blank(r["presenceAvailability"]),
                 instant(r["end"])) for r in api]
        theirs = [(r["UserId"], instant(r["Start"]), r["UserState"], r["PresenceAvailability"], instant(r["End"]))
                  for r in feed_rows]
        return sorted(mine, key=repr), sorted(theirs, key=repr)
    if entity_set == "CurrentStates":
        api = get(f"reports/current-states?tenant={tenant}&limit=100000")["rows"]
        mine = {(r["userId"], blank(r["userState"]), blank(r["presenceAvailability"])) for r in api}
        theirs = {(r["UserId"], r["UserState"], r["PresenceAvailability"]) for r in feed_rows}
        return mine, theirs
    if entity_set == "Licences":
        api = get(f"reports/licences?tenant={tenant}", as_admin=True)["rows"]
        mine = {(r["kind"], r["contingent"], r["used"], r["available"]) for r in api}
        theirs = {(r["Kind"], r["Contingent"], r["Used"], r["Available"]) for r in feed_rows}
        return mine, theirs
    if entity_set == "TimeInStateIntervals":
        return None  # compared over an explicit window in test_intervals_add_up_to_the_json_api_time_in_state
    route, key, name = {"Users": ("users", "UserId", "UserName"), "Services": ("services", "ServiceId", "Name"),
                        "OrganisationUnits": ("ous", "OrganisationUnitId", "Name"),
                        "Tenants": ("tenants", "TenantId", "Name")}[entity_set]
    api = get(f"{route}?tenant={tenant}&limit=1000", as_admin=True)["items"]
    return {(r["id"], r["name"]) for r in api}, {(r[key], r[name]) for r in feed_rows}


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
    base, session, get = feed
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
    if get is not None:
        compared = expected_rows(get, entity_set, raw)
        if compared is not None:
            api, mine = compared
            assert api == mine, f"{entity_set}: the feed and the JSON API differ"
            print(f"{entity_set}: {len(raw)} rows in {pages} pages, equal to the JSON API's")


def test_intervals_add_up_to_the_json_api_time_in_state(feed):
    """Per user and user state, the hourly rows of the demo's first working day sum to the JSON API's time in
    state over that day."""
    base, session, get = feed
    if get is None:
        pytest.skip("no JSON_API_URL")
    # The first day on which agents had a user state (users are created earlier, with none).
    starts = [instant(r["Start"]) for r in raw_rows(base, session, "UserStates")[0] if r["UserState"] is not None]
    day = min(starts).replace(hour=0, minute=0, second=0, microsecond=0)
    since, until = day.strftime("%Y-%m-%dT%H:%M:%SZ"), (day + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    url = (base + "TimeInStateIntervals?interval=1h&$filter=" +
           requests.utils.quote(f"IntervalStart ge {since} and IntervalStart lt {until}"))
    rows, sums = [], {}
    while url:
        response = session.get(url, timeout=120)
        assert response.status_code == 200, response.text
        rows += response.json()["value"]
        url = response.json().get("@odata.nextLink")
    for row in rows:
        if row["UserState"] is not None:
            key = (row["UserId"], row["UserState"])
            sums[key] = sums.get(key, 0) + float(row["Seconds"])
    tenant = os.environ["ODATA_TENANT"]
    api = get(f"reports/time-in-state?tenant={tenant}&from={since}&to={until}&limit=100000")["rows"]
    expected = {(r["userId"], r["state"]): float(r["seconds"]) for r in api
                if r["dimension"] == "userState" and float(r["seconds"]) > 0}
    assert rows and sums, "no interval rows on the demo's first day"
    assert set(expected) == set(sums), (set(sums) ^ set(expected))
    for key, seconds in sums.items():
        assert abs(seconds - expected[key]) < 0.01, (key, seconds, expected[key])
    print(f"TimeInStateIntervals: {len(rows)} hourly rows of {since[:10]} add up to the JSON API's time in state "
          f"for {len(sums)} (user, state) pairs")


def test_text_and_date_filters_fold_into_the_feed(feed):
    """The client's own text filters (contains, startswith, endswith, as Power Query folds them) run on the
    server and select exactly the rows the same test selects locally; so do date parts (year, month, day, hour)."""
    base, session, _ = feed
    service = ODataService(base, session=session, reflect_entities=True, quiet_progress=True)
    users = service.entities["Users"]
    everyone = [row.__odata__.data for row in service.query(users)]
    names = sorted({row["UserName"] for row in everyone if row["UserName"]})
    assert len(names) >= 3, names
    # A fragment that some names have and others do not, the first letter of one, and the last letter of one.
    fragment = next(name[1:3] for name in names if 0 < sum(name[1:3] in other for other in names) < len(names))
    first, last = names[0][0], names[-1][-1]
    checks = [
        (users.UserName.contains(fragment), lambda name: fragment in name),
        (users.UserName.startswith(first), lambda name: name.startswith(first)),
        (users.UserName.endswith(last), lambda name: name.endswith(last)),
    ]
    for condition, local in checks:
        served = sorted(row.__odata__.data["UserId"] for row in service.query(users).filter(condition))
        wanted = sorted(row["UserId"] for row in everyone if row["UserName"] and local(row["UserName"]))
        assert served and served == wanted, (str(condition), served, wanted)
        if condition is checks[0][0]:
            # The fragment was picked so that some names lack it: the server must have left rows out.
            assert len(served) < len(everyone), (fragment, len(served), len(everyone))
    # Date parts, written as Power Query folds Date.Year and friends; compared with the rows' own instants.
    rows = raw_rows(base, session, "UserStates")[0]
    start = instant(rows[len(rows) // 2]["Start"])
    text = (f"year(Start) eq {start.year} and month(Start) eq {start.month} and day(Start) eq {start.day} "
            f"and hour(Start) eq {start.hour}")
    served, url = [], base + "UserStates?$filter=" + requests.utils.quote(text)
    while url:
        response = session.get(url, timeout=120)
        assert response.status_code == 200, response.text
        served += [row["Id"] for row in response.json()["value"]]
        url = response.json().get("@odata.nextLink")
    wanted = [row["Id"] for row in rows if (lambda t: (t.year, t.month, t.day, t.hour))(instant(row["Start"]))
              == (start.year, start.month, start.day, start.hour)]
    assert served and sorted(served) == sorted(wanted), (len(served), len(wanted))
    print(f"Users: contains('{fragment}'), startswith('{first}'), endswith('{last}') filtered server-side as "
          f"locally; UserStates: {len(served)} rows of {start:%Y-%m-%d %H}:00 by year/month/day/hour")
