#include "admin/status_page.hpp"

namespace spacehook::admin {

namespace {

constexpr std::string_view kHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spacehook</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; }
  .bar { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; color: #555; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e4e7; vertical-align: top; }
  th { background: #f0f0f3; font-weight: 600; }
  tr.pick { cursor: pointer; } tr.pick:hover { background: #f5f8ff; }
  td.err { color: #a1260d; max-width: 32rem; overflow-wrap: anywhere; }
  .state { padding: 0 .4rem; border-radius: .6rem; background: #e4e4e7; font-size: .85em; }
  .state.dead, .state.failed { background: #fde2dd; } .state.done, .state.dispatched { background: #dcf5e3; }
  .state.pending, .state.running { background: #fdf2d0; }
  button { font: inherit; padding: .1rem .6rem; margin-right: .3rem; cursor: pointer; }
  pre { background: #fff; border: 1px solid #e4e4e7; padding: .6rem; overflow: auto; max-height: 28rem; }
  #msg { min-height: 1.2em; color: #a1260d; } .empty { color: #888; font-style: italic; }
</style>
</head>
<body>
<h1>spacehook</h1>
<div class="bar">
  <span id="updated">loading…</span>
  <button id="refresh">Refresh</button>
  <label>Admin token <input id="token" type="password" autocomplete="off" size="24"></label>
</div>
<div id="msg"></div>

<h2>Dead letters</h2>
<table><thead><tr><th>Kind</th><th>Id</th><th>Rule</th><th>Trigger</th><th>Attempts</th><th>Failed at</th>
<th>Reason</th><th></th></tr></thead><tbody id="dlq"></tbody></table>

<h2>Recent events</h2>
<table><thead><tr><th>Seq</th><th>Received</th><th>Trigger</th><th>Event id</th><th>Entity</th><th>State</th>
<th>Runs</th><th>Last error</th><th></th></tr></thead><tbody id="events"></tbody></table>

<h2>Recent runs</h2>
<table><thead><tr><th>Id</th><th>Rule</th><th>Event</th><th>State</th><th>Step</th><th>Attempts</th>
<th>Updated</th><th>Last error</th></tr></thead><tbody id="runs"></tbody></table>

<h2 id="detail-title" hidden></h2>
<pre id="detail" hidden></pre>

<script>
"use strict";
const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("spacehook-admin-token") || "";
tokenInput.addEventListener("change", () => {
  sessionStorage.setItem("spacehook-admin-token", tokenInput.value);
  refresh();
});

function headers() {
  const h = { "Accept": "application/json" };
  if (tokenInput.value) h["Authorization"] = "Bearer " + tokenInput.value;
  return h;
}

async function api(path, method) {
  const response = await fetch(path, { method: method || "GET", headers: headers() });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(response.status + " " + (body.detail || body.error || response.statusText));
  }
  return body;
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function stateCell(row, state) {
  const span = document.createElement("span");
  span.className = "state " + state;
  span.textContent = state;
  row.insertCell().appendChild(span);
}

function button(td, label, action) {
  const b = document.createElement("button");
  b.textContent = label;
  b.addEventListener("click", async (e) => {
    e.stopPropagation();
    try { await action(); say(""); } catch (err) { say(err.message); }
    refresh();
  });
  td.appendChild(b);
}

function say(text) { document.getElementById("msg").textContent = text; }

function fill(id, items, columns, render) {
  const tbody = document.getElementById(id);
  tbody.replaceChildren();
  if (items.length === 0) {
    const td = tbody.insertRow().insertCell();
    td.colSpan = columns;
    td.className = "empty";
    td.textContent = "none";
  }
  for (const item of items) render(tbody.insertRow(), item);
}

function show(title, value) {
  const t = document.getElementById("detail-title"), d = document.getElementById("detail");
  t.textContent = title;
  d.textContent = JSON.stringify(value, null, 2);
  t.hidden = d.hidden = false;
  t.scrollIntoView({ behavior: "smooth" });
}

async function refresh() {
  try {
    const [dlq, events, runs] = await Promise.all([
      api("/admin/api/dlq?limit=50"), api("/admin/api/events?limit=25"), api("/admin/api/runs?limit=25")]);
    fill("dlq", dlq.dead_letters, 8, (row, d) => {
      cell(row, d.kind); cell(row, d.id); cell(row, d.rule); cell(row, d.trigger); cell(row, d.attempts);
      cell(row, d.failed_at); cell(row, d.reason, "err");
      const td = row.insertCell();
      const path = "/admin/api/dlq/" + d.kind + "/" + d.id;
      button(td, "Retry", () => api(path + "/retry", "POST"));
      button(td, "Drop", () => {
        if (!confirm("Drop " + d.kind + " " + d.id + " for good?")) return Promise.resolve();
        return api(path + "/drop", "POST");
      });
    });
    fill("events", events.events, 9, (row, e) => {
      row.className = "pick";
      row.addEventListener("click", async () => {
        try { show("Event " + e.seq, await api("/admin/api/events/" + e.seq)); } catch (err) { say(err.message); }
      });
      cell(row, e.seq); cell(row, e.received_at); cell(row, e.trigger); cell(row, e.event_id);
      cell(row, e.entity_id); stateCell(row, e.state); cell(row, e.runs_created); cell(row, e.last_error, "err");
      button(row.insertCell(), "Replay", () => api("/admin/api/events/" + e.seq + "/replay", "POST"));
    });
    fill("runs", runs.runs, 8, (row, r) => {
      row.className = "pick";
      row.addEventListener("click", async () => {
        try { show("Run " + r.id, await api("/admin/api/runs/" + r.id)); } catch (err) { say(err.message); }
      });
      cell(row, r.id); cell(row, r.rule); cell(row, r.event_seq); stateCell(row, r.state);
      cell(row, r.next_step + "/" + r.step_count); cell(row, r.attempts); cell(row, r.updated_at);
      cell(row, r.last_error, "err");
    });
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    say("");
  } catch (err) {
    say(err.message.startsWith("401") ? "401: enter the admin token" : err.message);
  }
}

document.getElementById("refresh").addEventListener("click", refresh);
refresh();
setInterval(refresh, 10000);
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view StatusPageHtml() {
    return kHtml;
}

}  // namespace spacehook::admin
