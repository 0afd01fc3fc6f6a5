// spacehook's web view: a page over the admin API (/admin/api/*), nothing else. Every value is inserted
// as text, never as HTML: delivery bodies and error messages are outside input. The hash is the route
// ("#/runs?state=dead", "#/runs/12"), so a view can be bookmarked, shared and reloaded.
"use strict";

// --- routing --------------------------------------------------------------------------------------

function currentRoute() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  return { section: parts[0] || "overview", id: parts[1], params: new URLSearchParams(search || "") };
}

function go(section, params) {
  location.hash = "#/" + section + query(params || {});
}

let renderCount = 0;
let overviewTimer = null;

async function render() {
  const route = currentRoute();
  const hash = location.hash;
  const mine = ++renderCount;
  clearInterval(overviewTimer);
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.section === route.section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const views = { overview: overview, events: route.id ? eventView : eventsView,
                  runs: route.id ? runView : runsView, dlq: deadLettersView, rules: rulesView };
  const view = views[route.section];
  const main = document.getElementById("view");
  try {
    const content = view ? await view(route) : el("p", { text: "No such page." });
    if (mine !== renderCount) return;  // a newer navigation won
    main.replaceChildren(content);
    main.dataset.rendered = hash;  // which route is on screen (the browser tests wait for it)
    if (!route.keepMessage) say("");
    const heading = main.querySelector("h2");
    document.title = (heading ? heading.textContent + " · " : "") + "spacehook";
  } catch (err) {
    if (mine !== renderCount) return;
    main.replaceChildren(el("h2", { text: "Could not load this page" }), el("p", { class: "error-text", text: err.message }));
    main.dataset.rendered = hash;
    say(err.message, true);
  }
}

function focusView() {
  const main = document.getElementById("view");
  main.focus({ preventScroll: false });
}

// --- overview -------------------------------------------------------------------------------------

function parseMetrics(text) {
  const values = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return values;
}

function metricLabel(values, name, label) {
  const key = Object.keys(values).find((k) => k.startsWith(name + "{"));
  const match = key && key.match(new RegExp(label + '="([^"]*)"'));
  return match ? match[1] : "";
}

function card(label, value, tone, href, small) {
  const content = [el("div", { class: "label", text: label }), el("div", { class: "value" + (small ? " small" : ""), text: value })];
  return el("div", { class: "card" + (tone ? " " + tone : "") }, href ? el("a", { href }, content) : content);
}

function duration(seconds) {
  if (!(seconds >= 0)) return "–";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function throughputChart(events, now) {
  const buckets = 12, width = 560, height = 130, top = 10, bottom = 22, span = 3600e3;
  const counts = Array.from({ length: buckets }, () => ({ all: 0, bad: 0 }));
  for (const e of events) {
    const age = now - new Date(e.received_at).getTime();
    if (age < 0 || age >= span) continue;
    const b = buckets - 1 - Math.floor(age / (span / buckets));
    counts[b].all++;
    if (e.state === "failed") counts[b].bad++;
  }
  const max = Math.max(1, ...counts.map((c) => c.all));
  const slot = width / buckets, plot = height - top - bottom;
  const total = counts.reduce((n, c) => n + c.all, 0);
  const chart = svg("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                             "aria-label": `${total} deliveries in the last hour, in 5-minute bars; the highest bar is ${max}` });
  counts.forEach((c, i) => {
    const h = Math.round((c.all / max) * plot), hb = Math.round((c.bad / max) * plot);
    const x = i * slot + 4;
    chart.append(svg("rect", { class: "bar-ok", x, y: top + plot - h, width: slot - 8, height: h },
                     svg("title", {}, `${c.all} deliveries, ${c.bad} failed`)));
    if (hb) chart.append(svg("rect", { class: "bar-bad", x, y: top + plot - hb, width: slot - 8, height: hb }));
    if (i % 3 === 0) chart.append(svg("text", { x: x, y: height - 6 }, `-${60 - i * 5} min`));
  });
  chart.append(svg("text", { x: width - 30, y: height - 6 }, "now"));
  chart.append(svg("text", { x: 4, y: top + 2 }, `${max}`));
  return chart;
}

function age(seconds) {
  return seconds === null || seconds === undefined ? "–" : duration(seconds);
}

function yesNo(value) {
  return value === true ? "yes" : value === false ? "no" : "–";
}

// GET /admin/api/status (the catch-up watcher's report, as `spacehook status` prints it); absent when
// serve runs without a portal.
function statusPanel(status) {
  if (!status) return null;
  if (status.error) return [el("h3", { text: "Portal and subscription" }), el("p", { class: "error-text", text: status.error })];
  const watch = status.watch || {};
  const portal = watch.portal || {}, subscription = watch.subscription || {}, catchUp = watch.catch_up || {};
  const backlog = status.backlog || {};
  const problems = status.problems || [];
  const tone = (good) => (good ? "ok" : "bad");
  const stateBadge = (text, good) => el("span", { class: "state " + (good === null ? "quiet" : tone(good)), text });
  const firing = (watch.alerts && watch.alerts.firing) || [];
  return [
    el("h3", { text: "Portal and subscription" }),
    problems.length
      ? el("div", { class: "note bad", id: "problems" }, el("strong", { text: `${problems.length} ${problems.length === 1 ? "thing needs" : "things need"} a person:` }),
           el("ul", {}, problems.map((p) => el("li", { class: "bad-text", text: p }))))
      : el("p", { class: "note", id: "problems" }, stateBadge("all well", true), " nothing needs a person."),
    el("div", { class: "cards" },
      card("Portal", portal.state || "unknown", portal.state === "reachable" ? "ok" : portal.state ? "bad" : null),
      card("API key accepted", yesNo(portal.key_accepted), portal.key_accepted === false ? "bad" : portal.key_accepted ? "ok" : null),
      card("Subscription", subscription.state || "unknown", ["disabled", "missing"].includes(subscription.state) ? "bad" : null),
      card("Last catch-up", catchUp.enabled === false ? "off" : catchUp.last_pass_at ? when(catchUp.last_pass_at) : "–",
           catchUp.error ? "bad" : null, null, true),
      card("Recovered by catch-up", `${catchUp.last_pass_recovered ?? 0} last pass, ${catchUp.recovered_total ?? 0} in all`, null, null, true),
      card("Oldest waiting event", age(backlog.oldest_event_age_seconds), null, null, true),
      card("Oldest unfinished run", age(backlog.oldest_run_age_seconds), null, null, true)),
    facts([["Portal", portal.url || "–"], ["Portal error", portal.error || undefined],
           ["Subscription", subscription.name || "–"], ["Subscription problem", subscription.problem || undefined],
           ["Catch-up error", catchUp.error || undefined],
           ["Alerts firing", firing.length ? firing.map((a) => a.text || a.kind).join("; ") : "none"],
           ["Checked", watch.checked_at ? `${when(watch.checked_at)} by ${watch.checked_by || "?"}` : "not yet"]]),
  ];
}

async function overview() {
  const now = Date.now();
  const since = new Date(now - 3600e3).toISOString().replace(/\.\d{3}Z$/, "Z");
  const [metricsText, ready, recent, status] = await Promise.all([
    fetch("/metrics", { cache: "no-store" }).then((r) => r.text()).catch(() => ""),
    fetch("/readyz", { cache: "no-store" }).then((r) => r.ok).catch(() => false),
    api("/admin/api/events" + query({ since, limit: 1000 })),
    api("/admin/api/status").catch((err) => (err.status === 404 ? null : { error: err.message })),
  ]);
  const m = parseMetrics(metricsText);
  const version = metricLabel(m, "spacehook_build_info", "version");
  const commit = metricLabel(m, "spacehook_build_info", "commit");
  const started = m["process_start_time_seconds"];
  const dead = m["spacehook_dead_letters"];
  const pending = m["spacehook_journal_events_pending"];
  const cards = el("div", { class: "cards" },
    card("Store", ready ? "ready" : "not ready", ready ? "ok" : "bad"),
    card("Events waiting for dispatch", pending ?? "–", null, "#/events?state=pending"),
    card("Runs pending / running", `${m['spacehook_runs{state="pending"}'] ?? "–"} / ${m['spacehook_runs{state="running"}'] ?? "–"}`,
         null, "#/runs?state=pending"),
    card("Dead letters", dead ?? "–", dead > 0 ? "bad" : "ok", "#/dlq"),
    card("Deliveries, last hour", recent.events.length + (recent.next_before ? "+" : "")),
    card("Version", version ? `${version} (${commit})` : "–", null, null, true),
    card("Up for", started ? duration(now / 1000 - started) : "–"));
  overviewTimer = setInterval(() => { if (currentRoute().section === "overview" && !document.hidden) render(); }, 15000);
  return el("section", { "aria-labelledby": "overview-title" },
    el("h2", { id: "overview-title", text: "Overview" }),
    cards,
    statusPanel(status),
    el("h3", { text: "Deliveries in the last hour" }),
    throughputChart(recent.events, now),
    el("p", { class: "legend", text: "Blue: journaled deliveries; red: those whose dispatch failed." }));
}

// --- filters and paging ---------------------------------------------------------------------------

function filterForm(section, params, fields) {
  const form = el("form", { class: "filters", role: "search", "aria-label": "Filter" });
  for (const f of fields) {
    const id = `f-${section}-${f.name}`;
    let input;
    if (f.options) {
      input = el("select", { id, name: f.name },
                 el("option", { value: "", text: f.any || "any" }),
                 f.options.map((o) => el("option", { value: o, text: o, selected: params.get(f.name) === o })));
    } else if (f.type === "datetime-local") {
      input = el("input", { id, name: f.name, type: "datetime-local", value: toLocalInput(params.get(f.name)) });
    } else {
      input = el("input", { id, name: f.name, type: f.type || "text", value: params.get(f.name) || "",
                            placeholder: f.placeholder, size: f.size || 14 });
    }
    form.append(el("label", { for: id }, f.label, input));
  }
  const sizeId = `f-${section}-limit`;
  form.append(el("label", { for: sizeId }, "Per page",
    el("select", { id: sizeId, name: "limit" },
       PAGE_SIZES.map((n) => el("option", { value: n, text: n, selected: String(n) === (params.get("limit") || "50") })))));
  form.append(el("button", { type: "submit", class: "primary", text: "Apply" }),
              el("button", { type: "button", text: "Clear", onclick: () => go(section) }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = {};
    for (const f of [...fields, { name: "limit" }]) {
      const value = form.elements[f.name].value.trim();
      next[f.name] = f.type === "datetime-local" ? toIso(value) : value;
    }
    if (next.limit === "50") delete next.limit;
    go(section, next);
  });
  return form;
}

function pager(section, params, shown, nextBefore) {
  const here = Object.fromEntries(params.entries());
  const bar = el("div", { class: "bar" });
  bar.append(el("span", { class: "count", text: `${shown} shown` + (here.before ? ` (older than ${section === "events" ? "seq" : "id"} ${here.before})` : "") }));
  if (here.before) {
    const newest = { ...here }; delete newest.before;
    bar.append(el("button", { type: "button", text: "Newest", onclick: () => go(section, newest) }));
  }
  if (nextBefore) {
    bar.append(el("button", { type: "button", text: "Older", onclick: () => go(section, { ...here, before: nextBefore }) }));
  }
  return bar;
}

// --- events ---------------------------------------------------------------------------------------

function eventNote(e) {
  if (!e.last_error) return "";
  return el("span", { class: e.state === "failed" ? "bad-text" : "quiet-text", text: e.last_error });
}

async function eventsView(route) {
  const p = route.params;
  const list = await api("/admin/api/events" + query({
    state: p.get("state"), trigger: p.get("trigger"), q: p.get("q"), since: p.get("since"),
    until: p.get("until"), before: p.get("before"), limit: p.get("limit") || 50 }));
  const rows = list.events.map((e) => el("tr", {},
    el("td", { class: "num" }, link(`#/events/${e.seq}`, e.seq)),
    timeCell(e.received_at),
    el("td", { text: e.trigger }),
    el("td", { class: "text", text: e.entity_id }),
    el("td", {}, badge(e.state), e.recovered ? el("span", { class: "quiet-text", text: " recovered" }) : null),
    el("td", { class: "num" }, e.runs_created ? link(`#/runs?event=${e.seq}`, e.runs_created) : "0"),
    el("td", { class: "text" }, eventNote(e))));
  return el("section", {},
    el("h2", { text: "Events" }),
    filterForm("events", p, [
      { name: "state", label: "State", options: EVENT_STATES },
      { name: "trigger", label: "Trigger", placeholder: "file.created" },
      { name: "q", label: "Entity or text", type: "search", placeholder: "id, title, e-mail", size: 18 },
      { name: "since", label: "Received from", type: "datetime-local" },
      { name: "until", label: "Received before", type: "datetime-local" },
    ]),
    pager("events", p, list.events.length, list.next_before),
    table("Journaled deliveries, newest first",
          [{ label: "Seq", num: true }, "Received", "Trigger", "Entity", "State", { label: "Runs", num: true }, "Note"],
          rows, "No event matches."),
    pager("events", p, list.events.length, list.next_before));
}

async function eventView(route) {
  const seq = route.id;
  const [e, runs, explained] = await Promise.all([
    api(`/admin/api/events/${encodeURIComponent(seq)}`),
    api(`/admin/api/runs?event=${encodeURIComponent(seq)}&limit=200`),
    api(`/admin/api/events/${encodeURIComponent(seq)}/explain`).catch(() => null)]);
  const actions = el("div", { class: "bar" },
    el("button", { type: "button", text: "Replay", onclick: () => act(
      { title: `Replay event ${e.seq}?`, text: "It is dispatched again as if new: every rule that matches starts a fresh run.",
        ok: "Replay" }, () => api(`/admin/api/events/${e.seq}/replay`, "POST"), "Event queued for dispatch again.") }),
    e.state === "failed" ? deadLetterButtons("event", e.seq) : null);
  let outcome;
  if (e.state === "ignored") {
    outcome = el("p", { class: "note" }, "No run: ", el("span", { class: "quiet-text", text: e.last_error || "no rule matched" }));
  } else if (e.state === "failed") {
    outcome = el("p", { class: "note bad" }, "Dispatch failed: ", el("span", { class: "bad-text", text: e.last_error }));
  } else if (e.state === "pending") {
    outcome = el("p", { class: "note" }, "Waiting for dispatch" + (e.last_error ? ": " : "."),
                 e.last_error ? el("span", { class: "bad-text", text: e.last_error }) : null);
  }
  const runRows = runs.runs.map(runRow);
  return el("section", {},
    el("h2", { text: `Event ${e.seq}` }),
    actions,
    outcome,
    facts([["Trigger", e.trigger], ["State", badge(e.state)], ["DocSpace event id", e.event_id],
           ["Webhook", e.webhook_id], ["Entity", e.entity_id], ["Actor", e.actor], ["Created on (portal)", e.created_on],
           ["Received", when(e.received_at)], ["Recovered by catch-up", e.recovered === undefined ? undefined : (e.recovered ? "yes" : "no")],
           ["Dispatch attempts", e.attempts], ["Replays", e.replay_generation], ["Runs created", e.runs_created]]),
    el("h3", { text: "Runs of this event (the rules it matched)" }),
    runsTable(runRows, "No run: no rule matched this event" + (e.last_error ? ` (${e.last_error})` : "") + "."),
    explained ? [el("h3", { text: "How the rules judge it" }),
                 el("p", { class: "quiet", text: "As spacehook test-rule explains it from the delivery alone: a condition on a " +
                                                "fact the portal would be asked for shows as undecided (?)." }),
                 el("pre", { id: "explanation", tabindex: "0", text: explained.explanation })] : null,
    el("h3", { text: "Delivery" }),
    e.body !== undefined ? jsonBlock(e.body, "Delivery body") : el("pre", { text: e.body_text || "" }));
}

// --- runs -----------------------------------------------------------------------------------------

function runRow(r) {
  const note = r.last_error
    ? el("span", { class: r.state === "dead" ? "bad-text" : r.state === "dropped" || r.state === "done" ? "quiet-text" : "", text: r.last_error })
    : "";
  return el("tr", { "data-run": r.id },
    el("td", { class: "num" }, link(`#/runs/${r.id}`, r.id)),
    el("td", {}, link(`#/runs?rule=${encodeURIComponent(r.rule)}`, r.rule)),
    el("td", { class: "num" }, link(`#/events/${r.event_seq}`, r.event_seq)),
    el("td", {}, badge(r.state)),
    el("td", { class: "num", text: `${r.next_step}/${r.step_count}` }),
    el("td", { class: "num", text: r.attempts }),
    timeCell(r.updated_at),
    el("td", { class: "text" }, note));
}

function runsTable(rows, emptyText) {
  return table("Runs, newest first",
               [{ label: "Id", num: true }, "Rule", { label: "Event", num: true }, "State", { label: "Steps done", num: true },
                { label: "Attempts", num: true }, "Updated", "Last error"], rows, emptyText);
}

async function runsView(route) {
  const p = route.params;
  const list = await api("/admin/api/runs" + query({
    state: p.get("state"), rule: p.get("rule"), event: p.get("event"), since: p.get("since"),
    until: p.get("until"), before: p.get("before"), limit: p.get("limit") || 50 }));
  return el("section", {},
    el("h2", { text: "Runs" }),
    filterForm("runs", p, [
      { name: "state", label: "State", options: RUN_STATES },
      { name: "rule", label: "Rule", placeholder: "rule name" },
      { name: "event", label: "Event seq", size: 7 },
      { name: "since", label: "Created from", type: "datetime-local" },
      { name: "until", label: "Created before", type: "datetime-local" },
    ]),
    pager("runs", p, list.runs.length, list.next_before),
    runsTable(list.runs.map(runRow), "No run matches."),
    pager("runs", p, list.runs.length, list.next_before));
}

function stepRows(run) {
  const byIndex = new Map(run.steps.map((s) => [s.index, s]));
  // The steps as the run was planned (its stored context): kind, id and input as written in the rule,
  // templates unfilled and ${VAR} a reference.
  const planned = (run.context && Array.isArray(run.context.steps)) ? run.context.steps : [];
  const failingIndex = run.last_error && run.state !== "done" && run.state !== "dropped" ? run.next_step : -1;
  const rows = [];
  for (let i = 0; i < Math.max(run.step_count, run.steps.length); i++) {
    const plan = planned[i] || {};
    const s = byIndex.get(i) || { index: i, name: plan.id || plan.kind || "", status: "none" };
    const failing = i === failingIndex;
    let state = s.status === "none" ? "not started" : s.status;
    if (failing) state = run.state === "dead" ? "failed" : "failed, will retry";
    const tone = failing ? (run.state === "dead" ? "bad" : "wait") : TONE[s.status];
    rows.push(el("tr", { id: `step-${i}`, class: failing ? "failing" : null },
      el("td", { class: "num", text: i + 1 }),
      el("td", { text: s.name || "" }),
      el("td", {}, el("span", { class: "state " + (tone || "quiet"), text: state })),
      timeCell(s.started_at),
      el("td", { class: "nowrap", text: took(s.started_at, s.finished_at) }),
      el("td", { class: "text" },
         failing ? el("div", { class: "error-text step-error", text: run.last_error }) : null,
         plan.input !== undefined
           ? el("details", { class: "step-input" }, el("summary", { text: "input as planned" }), jsonBlock(plan.input, `Input of step ${i + 1}`)) : null,
         s.output !== undefined && s.output !== null && s.status === "done"
           ? el("details", {}, el("summary", { text: "output" }), jsonBlock(s.output, `Output of step ${i + 1}`)) : null)));
  }
  return rows;
}

async function runView(route) {
  const r = await api(`/admin/api/runs/${encodeURIComponent(route.id)}`);
  const actions = el("div", { class: "bar" },
    r.state === "dead" ? deadLetterButtons("run", r.id) : null,
    link(`#/events/${r.event_seq}`, `Event ${r.event_seq}`),
    link(`#/runs?rule=${encodeURIComponent(r.rule)}`, `Runs of ${r.rule}`));
  return el("section", {},
    el("h2", {}, `Run ${r.id} `, badge(r.state)),
    actions,
    facts([["Rule", r.rule], ["State", badge(r.state)], ["Event", link(`#/events/${r.event_seq}`, r.event_seq)],
           ["Steps done", `${r.next_step} of ${r.step_count}`], ["Failed attempts", r.attempts],
           ["Created", when(r.created_at)], ["Updated", when(r.updated_at)],
           ["Next attempt", r.state === "pending" ? when(r.next_attempt_at) : undefined],
           ["Held by", r.lease_owner || undefined], ["Run key", r.run_key], ["Lock key", r.lock_key || "–"],
           ["Rule version", r.rule_version || "–"],
           ["Last error", r.last_error ? el("span", { class: r.state === "dead" ? "error-text" : "", text: r.last_error }) : "–"]]),
    el("h3", { text: "Steps" }),
    table("Steps in order", [{ label: "#", num: true }, "Step", "Status", "Started", "Took", "Error, input, output"],
          stepRows(r), "This run has no steps."),
    el("h3", { text: "Context" }),
    el("details", {}, el("summary", { text: "What the steps were planned with (event, facts)" }),
       jsonBlock(r.context, "Run context")));
}

// --- dead letters ---------------------------------------------------------------------------------

function confirmAction(title, text, ok) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = ok;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
  });
}

async function act(question, action, done) {
  if (!(await confirmAction(question.title, question.text, question.ok))) return;
  try {
    const result = await action();
    await render();
    say(typeof done === "function" ? done(result) : done);
  } catch (err) {
    say(err.message, true);
  }
}

function deadLetterButtons(kind, id) {
  return [
    el("button", { type: "button", text: "Retry", onclick: () => act(
      { title: `Retry ${kind} ${id}?`, text: "It goes back in the queue and starts again at its first unfinished step.", ok: "Retry" },
      () => api(`/admin/api/dlq/${kind}/${id}/retry`, "POST"), `${kind} ${id} is queued again.`) }),
    el("button", { type: "button", class: "danger", text: "Drop", onclick: () => act(
      { title: `Drop ${kind} ${id}?`, text: "It leaves the dead-letter list for good and is never run again.", ok: "Drop" },
      () => api(`/admin/api/dlq/${kind}/${id}/drop`, "POST"), `${kind} ${id} was dropped.`) }),
  ];
}

// Each selected entry is one request; the answers are counted so a partial failure says what happened.
async function eachDeadLetter(entries, action) {
  let ok = 0;
  const failures = [];
  for (const d of entries) {
    try { await api(`/admin/api/dlq/${d.kind}/${d.id}/${action}`, "POST"); ok++; }
    catch (err) { failures.push(`${d.kind} ${d.id}: ${err.message}`); }
  }
  return { ok, failures };
}

function bulkDone(verb) {
  return (r) => `${r.ok} ${r.ok === 1 ? "dead letter" : "dead letters"} ${verb}.` +
                (r.failures.length ? ` Not done: ${r.failures.join("; ")}` : "");
}

async function deadLettersView(route) {
  const p = route.params;
  const kind = p.get("kind") || "", rule = p.get("rule") || "";
  const all = (await api("/admin/api/dlq?limit=1000")).dead_letters;
  // The same filter as the API's bulk actions: a rule names runs only (events have no rule).
  const matching = all.filter((d) => (!kind || d.kind === kind) && (!rule || d.rule === rule));
  const selected = new Set();
  const count = el("span", { class: "count", "aria-live": "polite" });
  const retrySelected = el("button", { type: "button", class: "primary", disabled: true, text: "Retry selected" });
  const dropSelected = el("button", { type: "button", class: "danger", disabled: true, text: "Drop selected" });
  const refreshSelection = () => {
    count.textContent = `${selected.size} of ${matching.length} selected`;
    retrySelected.disabled = dropSelected.disabled = selected.size === 0;
    retrySelected.textContent = `Retry selected (${selected.size})`;
    dropSelected.textContent = `Drop selected (${selected.size})`;
  };
  const key = (d) => `${d.kind}:${d.id}`;
  const boxes = [];
  const rows = matching.map((d) => {
    const box = el("input", { type: "checkbox", "aria-label": `Select ${d.kind} ${d.id}`, "data-key": key(d) });
    box.addEventListener("change", () => { if (box.checked) selected.add(key(d)); else selected.delete(key(d)); refreshSelection(); });
    boxes.push(box);
    return el("tr", { "data-dead-letter": key(d) },
      el("td", {}, box),
      el("td", { text: d.kind }),
      el("td", { class: "num" }, link(d.kind === "run" ? `#/runs/${d.id}` : `#/events/${d.id}`, d.id)),
      el("td", { text: d.rule }),
      el("td", { text: d.trigger }),
      el("td", { class: "num", text: d.attempts }),
      timeCell(d.failed_at),
      el("td", { class: "text bad-text", text: d.reason }));
  });
  const selectAll = el("input", { type: "checkbox", "aria-label": "Select all shown", id: "select-all" });
  selectAll.addEventListener("change", () => {
    for (const box of boxes) { box.checked = selectAll.checked; }
    selected.clear();
    if (selectAll.checked) matching.forEach((d) => selected.add(key(d)));
    refreshSelection();
  });
  const chosen = () => matching.filter((d) => selected.has(key(d)));
  const capped = all.length >= 1000;  // the list shows the newest 1000: there may be more
  const plural = (n) => `${n} ${n === 1 ? "dead letter" : "dead letters"}`;
  retrySelected.addEventListener("click", () => { const c = chosen(); act(
    { title: `Retry ${plural(c.length)}?`, text: "Each goes back in the queue and starts again at its first unfinished step.", ok: `Retry ${c.length}` },
    () => eachDeadLetter(c, "retry"), bulkDone("queued again")); });
  dropSelected.addEventListener("click", () => { const c = chosen(); act(
    { title: `Drop ${plural(c.length)}?`, text: "They leave the dead-letter list for good and are never run again.", ok: `Drop ${c.length}` },
    () => eachDeadLetter(c, "drop"), bulkDone("dropped")); });
  const filtered = kind || rule;
  // Everything matching the filter is one request: the service takes, in one transaction, whatever matches
  // at that moment (the count it answers may differ from the list's if more failed meanwhile).
  const bulk = (action) => api(`/admin/api/dlq/${action}` + query({ kind, rule }), "POST");
  const bulkAnswer = (verb) => (r) => `${r.count} ${r.count === 1 ? "dead letter" : "dead letters"} ${verb}.`;
  const retryAll = el("button", { type: "button", disabled: matching.length === 0, text: `Retry all ${matching.length} matching`,
    onclick: () => act({ title: `Retry ${capped ? "at least " : ""}${plural(matching.length)}${filtered ? " matching the filter" : ""}?`,
                         text: "Each goes back in the queue and starts again at its first unfinished step.", ok: `Retry ${matching.length}` },
                       () => bulk("retry"), bulkAnswer("queued again")) });
  const dropAll = el("button", { type: "button", class: "danger", disabled: matching.length === 0, text: `Drop all ${matching.length} matching`,
    onclick: () => act({ title: `Drop ${capped ? "at least " : ""}${plural(matching.length)}${filtered ? " matching the filter" : ""}?`,
                         text: "They leave the dead-letter list for good and are never run again.", ok: `Drop ${matching.length}` },
                       () => bulk("drop"), bulkAnswer("dropped")) });
  refreshSelection();
  return el("section", {},
    el("h2", { text: "Dead letters" }),
    el("p", { class: "quiet", text: "Runs that failed for good or ran out of retries, and events whose dispatch failed. " +
                                     "Fix the cause, then retry them; drop what should never run." }),
    filterForm("dlq", p, [
      { name: "kind", label: "Kind", options: ["run", "event"] },
      { name: "rule", label: "Rule (runs only)", placeholder: "rule name" },
    ]),
    el("div", { class: "bar" }, count, retrySelected, dropSelected, retryAll, dropAll),
    table(all.length >= 1000 ? "The 1000 most recent dead letters" : "Most recent failure first",
          [{ label: selectAll }, "Kind", { label: "Id", num: true }, "Rule", "Trigger", { label: "Attempts", num: true }, "Failed", "Reason"],
          rows, "No dead letters."));
}

// --- rules ----------------------------------------------------------------------------------------

async function rulesView() {
  const data = await api("/admin/api/rules");
  const countsCell = (rule, runs) => el("td", { class: "nowrap" },
    link(`#/runs?rule=${encodeURIComponent(rule)}&state=done`, `${runs.done} done`), " · ",
    runs.dead ? el("a", { class: "bad-text", href: `#/runs?rule=${encodeURIComponent(rule)}&state=dead`, text: `${runs.dead} dead` }) : "0 dead",
    runs.live ? ` · ${runs.live} live` : "", runs.dropped ? ` · ${runs.dropped} dropped` : "");
  const rows = data.rules.map((r) => el("tr", {},
    el("td", {}, el("strong", { text: r.name }), r.description ? el("div", { class: "quiet", text: r.description }) : null),
    el("td", {}, el("span", { class: "state " + (r.enabled ? "ok" : "quiet"), text: r.enabled ? "enabled" : "disabled" })),
    el("td", {}, r.on.map((t) => el("div", { class: "nowrap", text: t }))),
    el("td", { text: r.has_conditions ? "yes" : "no" }),
    el("td", { class: "steps" }, el("ol", {}, r.steps.map((s) => el("li", {},
      el("code", { text: s.kind }), s.id !== s.kind ? ` (${s.id})` : "",
      s.input !== undefined ? el("div", { class: "input" }, el("code", { text: JSON.stringify(s.input) }))
        : s.inputs.length ? el("span", { class: "quiet", text: ": " + s.inputs.join(", ") }) : null)))),
    countsCell(r.name, r.runs),
    timeCell(r.runs.last_run_at),
    el("td", { class: "text quiet", text: r.source })));
  const gone = (data.unloaded_rules || []).map((r) => el("tr", {},
    el("td", { text: r.name }), countsCell(r.name, r.runs), timeCell(r.runs.last_run_at)));
  return el("section", {},
    el("h2", { text: "Rules" }),
    el("p", { class: "quiet", text: "Subscribed triggers: " + (data.triggers.length ? data.triggers.join(", ") : "none") +
                                     ". Step inputs as written: a ${VAR} is shown as the reference, never its value." }),
    table("Loaded rules, in the order they are evaluated",
          ["Rule", "State", "On", "Conditions", "Steps", "Runs", "Last run", "Written in"], rows, "No rules are loaded."),
    gone.length ? [el("h3", { text: "Rules no longer loaded that have runs" }),
                   table("Runs of rules removed or renamed", ["Rule", "Runs", "Last run"], gone)] : null);
}

// --- start ----------------------------------------------------------------------------------------

tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || "";
tokenInput.addEventListener("change", () => {
  sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
  csrfToken = null;
  render();
});
document.getElementById("refresh").addEventListener("click", () => render());
window.addEventListener("hashchange", () => { render().then(focusView); });
render();
