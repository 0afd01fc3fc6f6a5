// spacehook's web view, its toolkit: DOM helpers, formatting, and the admin API client. app.js (loaded
// after this file) has the views and the routing. Every value is inserted as text, never as HTML.
"use strict";

const PAGE_SIZES = [50, 100, 200];
const EVENT_STATES = ["pending", "dispatched", "ignored", "failed"];
const RUN_STATES = ["pending", "running", "done", "dead", "dropped"];
// By meaning: red needs a person, grey is an outcome by design, green done, amber waiting.
const TONE = {
  pending: "wait", running: "wait", dispatched: "ok", done: "ok", ignored: "quiet", dropped: "quiet",
  failed: "bad", dead: "bad", started: "wait", none: "quiet",
};
// Keys whose values are never shown, should a body or a context carry one.
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|authorization|signature|cookie/i;
const TOKEN_KEY = "spacehook-admin-token";

// --- small DOM helpers ----------------------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child));
  return node;
}

function badge(state) {
  return el("span", { class: "state " + (TONE[state] || "quiet"), text: state });
}

function link(href, text) {
  return el("a", { href, text });
}

function say(text, isError) {
  const message = document.getElementById("message");
  message.textContent = text || "";
  message.className = "message" + (isError ? " error" : "");
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
         `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function timeCell(iso) {
  return el("td", { class: "nowrap" }, iso ? el("time", { datetime: iso, title: iso, text: when(iso) }) : "");
}

function took(from, to) {
  if (!from || !to) return "";
  const ms = new Date(to) - new Date(from);
  if (!(ms >= 0)) return "";
  return ms < 1000 ? `${ms} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`;
}

function masked(value) {
  if (Array.isArray(value)) return value.map(masked);
  if (value && typeof value === "object") {
    const out = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && v !== null && typeof v !== "object" ? "••• (masked)" : masked(v);
    }
    return out;
  }
  return value;
}

function jsonBlock(value, label) {
  return el("pre", { "aria-label": label, tabindex: "0" }, JSON.stringify(masked(value), null, 2));
}

function table(caption, headers, rows, emptyText) {
  const head = el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.num ? "num" : null },
                                                  h.label !== undefined ? h.label : h)));
  const body = el("tbody");
  if (rows.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: headers.length, class: "empty", text: emptyText || "none" })));
  }
  for (const row of rows) body.append(row);
  return el("div", { class: "scroll" },
            el("table", {}, el("caption", { text: caption }), el("thead", {}, head), body));
}

function facts(pairs) {
  const dl = el("dl", { class: "facts" });
  for (const [key, value] of pairs) {
    if (value === undefined) continue;
    dl.append(el("dt", { text: key }), el("dd", {}, value instanceof Node ? value : String(value ?? "")));
  }
  return dl;
}

// Local time of a datetime-local input <-> the API's ISO-8601 UTC.
function toIso(local) {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// --- the API --------------------------------------------------------------------------------------

const tokenInput = document.getElementById("token");
let csrfToken = null;

class ApiError extends Error {
  constructor(status, text) { super(`${status}: ${text}`); this.status = status; }
}

async function request(path, options) {
  const headers = { "Accept": "application/json" };
  if (tokenInput.value) headers["Authorization"] = "Bearer " + tokenInput.value;
  if (options && options.csrf) headers["X-Spacehook-Csrf"] = options.csrf;
  const response = await fetch(path, { method: (options && options.method) || "GET", headers,
                                       credentials: "omit", cache: "no-store" });
  return response;
}

async function api(path, method) {
  let csrf;
  if (method === "POST") csrf = await session();
  let response = await request(path, { method, csrf });
  if (response.status === 403 && method === "POST") {
    // A restarted service has a new CSRF token: fetch it once more.
    csrfToken = null;
    response = await request(path, { method, csrf: await session() });
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const text = response.status === 401 ? "enter the admin token above" : (body.detail || body.error || response.statusText);
    throw new ApiError(response.status, text);
  }
  return body;
}

async function session() {
  if (!csrfToken) csrfToken = (await api("/admin/api/session")).csrf_token;
  return csrfToken;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") q.set(key, value);
  const text = q.toString();
  return text ? "?" + text : "";
}

