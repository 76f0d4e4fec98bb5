// Cumulus supervisor dashboard: plain JavaScript, no build step. Reads the OData feed at /odata/ (the same
// sign-in as the API: a bearer token) and the agents' live states at /v1/states/live (server-sent events).
"use strict";

const FEED = "/odata/";
const LIVE = "/v1/states/live";
const PAGE = 50;
/** How long the board waits before reloading when the server closed its live updates. */
const RELISTEN_MS = 3000;
const FIXED = {
  Available: "#2e9d5b", AvailableIdle: "#8fd19e", Busy: "#d64545", BusyIdle: "#f08c8c", DoNotDisturb: "#8e1b1b",
  Away: "#f2b233", BeRightBack: "#f7d27c", Offline: "#9aa0a6", PresenceUnknown: "#d0d3d6", ACW: "#6f5bd3",
  RONA: "#c2185b", Break: "#e39b2d", "(unknown)": "#e6e6e6",
};
const PALETTE = ["#1f77b4", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#9467bd", "#ff7f0e"];
const $ = (id) => document.getElementById(id);
const state = {
  token: "", users: [], byId: new Map(), current: new Map(), seconds: new Map(), page: 0, updatedLive: new Set(),
};

function tokenFromLocation() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  return fragment.get("token") || query.get("token") || sessionStorage.getItem("cumulus-token") || "";
}

async function get(url) {
  const response = await fetch(url, { headers: { Authorization: "Bearer " + state.token, Accept: "application/json" } });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).error.message; } catch (e) { /* not an OData error body */ }
    throw new Error(response.status + ": " + message);
  }
  return JSON.parse(text);
}

/** Every row of an entity set, following @odata.nextLink. */
async function all(path) {
  let url = FEED + path;
  const rows = [];
  while (url) {
    const body = await get(url);
    rows.push(...body.value);
    url = body["@odata.nextLink"] || null;
  }
  return rows;
}

function isoDay(date) { return date.toISOString().slice(0, 10); }
function addDays(day, n) { const d = new Date(day + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return isoDay(d); }

async function loadDirectory() {
  const [users, services, units, licences, current] = await Promise.all([
    all("Users?$select=UserId,UserName,OrganisationUnit,OrganisationUnitId,ServiceIds"),
    all("Services?$select=ServiceId,Name&$orderby=Name"),
    all("OrganisationUnits?$select=OrganisationUnitId,Name&$orderby=Name"),
    all("Licences"),
    all("CurrentStates").catch(() => []),
  ]);
  // Names that repeat get their OU, so that two "Anna Muster" can be told apart.
  const counts = new Map();
  for (const user of users) counts.set(user.UserName, (counts.get(user.UserName) || 0) + 1);
  state.users = users.map((user) => ({
    id: user.UserId, ou: user.OrganisationUnitId, services: (user.ServiceIds || "").split(" ").filter(Boolean),
    label: counts.get(user.UserName) > 1 ? `${user.UserName} (${user.OrganisationUnit})` : user.UserName,
  }));
  state.byId = new Map(state.users.map((user) => [user.id, user]));
  fill($("ou"), units.map((unit) => [unit.OrganisationUnitId, unit.Name]));
  fill($("service"), services.map((service) => [service.ServiceId, service.Name]));
  for (const row of current) state.current.set(row.UserId, row);
  const body = $("licences").querySelector("tbody");
  body.replaceChildren(...licences.filter((l) => l.Contingent > 0 || l.Used > 0).map((l) => {
    const tr = document.createElement("tr");
    if (l.Available < 0) tr.className = "over";
    for (const value of [l.Kind, l.Used, l.Contingent, l.Available < 0 ? `${l.Available} (over)` : l.Available]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
}

function fill(select, pairs) {
  const first = select.options[0];
  select.replaceChildren(first, ...pairs.map(([value, text]) => new Option(text, value)));
}

async function loadSeconds() {
  const day = $("day").value;
  const span = Number($("span").value);
  // Daily intervals of the tenant's zone: ask a day wider on each side, keep the local days wanted.
  const filter = `IntervalStart ge ${addDays(day, -1)}T00:00:00Z and IntervalStart lt ${addDays(day, span + 1)}T00:00:00Z`;
  const rows = await all("TimeInStateIntervals?interval=1d&$select=UserId,IntervalStartLocal,UserState,PresenceAvailability,Seconds&$filter="
    + encodeURIComponent(filter));
  const last = addDays(day, span);
  const seconds = new Map();
  for (const row of rows) {
    const local = row.IntervalStartLocal.slice(0, 10);
    if (local < day || local >= last) continue;
    const entry = seconds.get(row.UserId) || { userState: {}, availability: {}, total: 0 };
    const userState = row.UserState || "(unknown)";
    const availability = row.PresenceAvailability || "(unknown)";
    entry.userState[userState] = (entry.userState[userState] || 0) + row.Seconds;
    entry.availability[availability] = (entry.availability[availability] || 0) + row.Seconds;
    entry.total += row.Seconds;
    seconds.set(row.UserId, entry);
  }
  state.seconds = seconds;
  state.windowSeconds = span * 86400;
}

function colours(states) {
  const result = {};
  let next = 0;
  for (const name of states) result[name] = FIXED[name] || PALETTE[next++ % PALETTE.length];
  return result;
}

function draw() {
  const dimension = $("dimension").value;
  const percent = $("unit").value === "percent";
  const totals = {};
  for (const entry of state.seconds.values()) {
    for (const [name, value] of Object.entries(entry[dimension])) totals[name] = (totals[name] || 0) + value;
  }
  const states = Object.keys(totals).sort((a, b) => totals[b] - totals[a] || a.localeCompare(b));
  const colour = colours(states);
  const sort = $("sort");
  const chosen = sort.value;
  sort.replaceChildren(new Option("name", "name"), ...states.map((name) => new Option(name, name)));
  sort.value = states.includes(chosen) ? chosen : "name";
  $("legend").replaceChildren(...states.map((name) => {
    const item = document.createElement("span");
    item.className = "legend";
    item.innerHTML = `<span class="swatch" style="background:${colour[name]}"></span>`;
    item.append(name);
    return item;
  }));
  const windowSeconds = state.windowSeconds;
  $("units").textContent = percent
    ? `Share of each day in each ${dimension === "userState" ? "user state" : "presence"} (% of ${windowSeconds / 3600} h)`
    : `Hours in each ${dimension === "userState" ? "user state" : "presence"} (bar = ${windowSeconds / 3600} h)`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  $("axis").replaceChildren(...ticks.map((t) => {
    const span = document.createElement("span");
    span.style.left = `${t * 100}%`;
    span.textContent = percent ? `${t * 100}%` : `${(t * windowSeconds / 3600).toFixed(0)} h`;
    return span;
  }));
  const ou = $("ou").value;
  const service = $("service").value;
  let users = state.users.filter((user) => (!ou || user.ou === ou) && (!service || user.services.includes(service)));
  const key = sort.value;
  users.sort((a, b) => {
    if (key !== "name") {
      const va = (state.seconds.get(a.id) || { [dimension]: {} })[dimension][key] || 0;
      const vb = (state.seconds.get(b.id) || { [dimension]: {} })[dimension][key] || 0;
      if (va !== vb) return vb - va;
    }
    return a.label.localeCompare(b.label);
  });
  const pages = Math.max(1, Math.ceil(users.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  $("page").textContent = `page ${state.page + 1} of ${pages} (${users.length} agents)`;
  $("previous").disabled = state.page === 0;
  $("next").disabled = state.page >= pages - 1;
  users = users.slice(state.page * PAGE, (state.page + 1) * PAGE);
  $("rows").replaceChildren(...users.map((user) => {
    const row = document.createElement("div");
    row.className = "row";
    row.dataset.user = user.id;
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = user.label;
    name.title = user.label;
    const bar = document.createElement("div");
    bar.className = "bar";
    const values = (state.seconds.get(user.id) || { [dimension]: {} })[dimension];
    for (const stateName of states) {
      const value = values[stateName];
      if (!value) continue;
      const segment = document.createElement("div");
      segment.style.width = `${(100 * value) / windowSeconds}%`;
      segment.style.background = colour[stateName];
      segment.title = `${user.label}: ${stateName} ` + (percent ? `${((100 * value) / windowSeconds).toFixed(1)}%` : `${(value / 3600).toFixed(2)} h`);
      bar.append(segment);
    }
    const now = document.createElement("div");
    now.className = "now";
    now.textContent = currentText(state.current.get(user.id));
    row.append(name, bar, now);
    return row;
  }));
  // The first time bars are on the page, for the Performance API (the browser test prints it).
  if (performance.getEntriesByName("cumulus-bars-drawn").length === 0) performance.mark("cumulus-bars-drawn");
}

function currentText(current) {
  if (!current) return "";
  return [current.UserState, current.PresenceAvailability].filter(Boolean).join(" · ");
}

/**
 * Live current states over server-sent events; the token goes in the query (EventSource sends no headers).
 *
 * EventSource reconnects by itself after a dropped connection, resuming after the last id it saw. When the server
 * refuses the reconnection instead (a 400 for an id past the end of a log restored from an older copy, a 401 for an
 * expired token), the browser closes the source for good: the board then reloads after a pause and, if that works,
 * listens afresh from the end of the log; if it does not, the reload's error stays in the status line.
 */
function listen() {
  if (!window.EventSource) return;
  const source = new EventSource(`${LIVE}?access_token=${encodeURIComponent(state.token)}`);
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) return;
    $("status").textContent = "live updates stopped; reloading…";
    setTimeout(relisten, RELISTEN_MS);
  };
  source.onmessage = (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    const user = event.userId || event.user;
    if (!user) return;
    state.updatedLive.add(user);
    const current = state.current.get(user) || { UserId: user };
    if ("userState" in event) current.UserState = event.userState;
    if ("availability" in event) current.PresenceAvailability = event.availability;
    state.current.set(user, current);
    const cell = document.querySelector(`.row[data-user="${CSS.escape(user)}"] .now`);
    if (cell) {
      cell.textContent = currentText(current);
      cell.classList.add("updated");
    }
  };
}

/**
 * After the server closed the live updates: listens afresh from the end of the log, then reloads the current
 * states (keeping those the new stream already updated: they are newer) and the bars, unless the reload fails.
 */
async function relisten() {
  if (!(await refresh())) return;
  state.updatedLive = new Set();
  listen();
  const current = await all("CurrentStates").catch(() => null);
  for (const row of current || []) {
    if (!state.updatedLive.has(row.UserId)) state.current.set(row.UserId, row);
  }
  draw();
}

/** Reloads the window's seconds and redraws; whether that worked (else the error is in the status line). */
async function refresh() {
  $("status").textContent = "loading…";
  try {
    await loadSeconds();
    draw();
    $("status").textContent = "";
    return true;
  } catch (error) {
    $("status").textContent = error.message;
    return false;
  }
}

async function start() {
  state.token = tokenFromLocation();
  if (!state.token) {
    $("signin").hidden = false;
    return;
  }
  sessionStorage.setItem("cumulus-token", state.token);
  if (location.hash.includes("token=")) history.replaceState(null, "", location.pathname + location.search);
  $("board").hidden = false;
  $("day").value = $("day").value || new URLSearchParams(location.search).get("day") || isoDay(new Date());
  try {
    await loadDirectory();
  } catch (error) {
    $("status").textContent = error.message;
    return;
  }
  await refresh();
  listen();
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("cumulus-token", $("token").value.trim());
  $("signin").hidden = true;
  start();
});
for (const id of ["day", "span"]) $(id).addEventListener("change", () => { state.page = 0; refresh(); });
for (const id of ["dimension", "unit", "ou", "service", "sort"]) $(id).addEventListener("change", () => { state.page = 0; draw(); });
$("previous").addEventListener("click", () => { state.page -= 1; draw(); });
$("next").addEventListener("click", () => { state.page += 1; draw(); });
start();
