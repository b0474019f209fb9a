// The operator's dashboard: a client of the OMS API with an operator token,
// no build step. Views: sign-in, overview (KPI tiles, status funnel, orders
// per hour, orders at risk, low stock), order search, order detail with its
// history and the operator's actions.
"use strict";

const FUNNEL = ["PLACED", "RESERVED", "ROUTED", "ON_HOLD", "READY_TO_SHIP", "CANCEL_REQUESTED",
  "PARTIALLY_SHIPPED", "SHIPPED", "DELIVERED", "RETURNED", "REJECTED", "CANCELLED"];
const LOW_STOCK_AT = 10;

const $ = (sel) => document.querySelector(sel);
const session = {
  get token() { return sessionStorage.getItem("oms.token") || ""; },
  get api() { return sessionStorage.getItem("oms.api") || location.origin; },
  save(token, api) {
    sessionStorage.setItem("oms.token", token);
    sessionStorage.setItem("oms.api", api || location.origin);
  },
  clear() { sessionStorage.removeItem("oms.token"); sessionStorage.removeItem("oms.api"); },
};

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(`${status} ${e.code || ""} ${e.message || ""}`.trim());
    this.status = status;
  }
}

async function api(method, path, body, headers = {}) {
  const resp = await fetch(session.api + path, {
    method,
    headers: {
      authorization: `Bearer ${session.token}`,
      ...(body ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  let value = null;
  try { value = text ? JSON.parse(text) : null; } catch { value = text; }
  if (!resp.ok) throw new ApiError(resp.status, value);
  return value;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

const pct = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(1)}%`);
const money = (amounts) => Object.entries(amounts || {}).map(([c, v]) => `${c} ${v}`).join(" · ") || "—";

function show(view) {
  for (const id of ["sign-in", "overview", "orders", "order"]) $(`#${id}`).hidden = id !== view;
  $("#nav").hidden = view === "sign-in";
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("current", a.dataset.view === view);
  }
}

// ---- sign-in

$("#sign-in-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  session.save($("#token").value.trim(), $("#api").value.trim());
  try {
    await api("GET", "/kpis");
    $("#sign-in-error").textContent = "";
    location.hash = "#/";
    route();
  } catch (e) {
    session.clear();
    $("#sign-in-error").textContent = e.status === 401 || e.status === 403
      ? "This token is not an operator's token (or it expired)."
      : `The OMS did not answer: ${e.message}`;
  }
});
$("#sign-out").addEventListener("click", () => { session.clear(); location.hash = ""; route(); });

// ---- overview

function tile(label, value) {
  return el("div", { class: "tile" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value));
}

function bars(container, rows) {
  const max = Math.max(1, ...rows.map(([, n]) => n));
  container.replaceChildren(...rows.map(([label, n]) => el("div", { class: "bar" },
    el("span", {}, label),
    el("div", {}, el("div", { class: "fill", style: `width:${(100 * n) / max}%` })),
    el("span", {}, n))));
}

function perHourChart(container, rows, from, to) {
  const hours = [];
  const start = new Date(from).getTime();
  const count = Math.round((new Date(to).getTime() - start) / 3600e3);
  const byKey = new Map(rows.map((r) => [r.key, r.orders]));
  for (let i = 0; i < count; i++) {
    const key = new Date(start + i * 3600e3).toISOString().slice(0, 13) + ":00Z";
    hours.push([key, byKey.get(key) || 0]);
  }
  const w = 500, h = 140, pad = 20;
  const max = Math.max(1, ...hours.map(([, n]) => n));
  const step = (w - pad) / hours.length;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("width", "100%");
  hours.forEach(([key, n], i) => {
    const bh = ((h - pad) * n) / max;
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("x", pad + i * step + 1);
    r.setAttribute("y", h - pad - bh);
    r.setAttribute("width", step - 2);
    r.setAttribute("height", bh);
    r.setAttribute("fill", "#2f6fed");
    const t = document.createElementNS(ns, "title");
    t.textContent = `${key}: ${n}`;
    r.append(t);
    svg.append(r);
    if (i % 6 === 0) {
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", pad + i * step);
      label.setAttribute("y", h - 5);
      label.textContent = key.slice(11, 16);
      svg.append(label);
    }
  });
  const top = document.createElementNS(ns, "text");
  top.setAttribute("x", 0);
  top.setAttribute("y", 10);
  top.textContent = max;
  svg.append(top);
  container.replaceChildren(svg);
}

function orderLink(id) {
  return el("a", { href: `#/orders/${encodeURIComponent(id)}` }, id);
}

async function overview() {
  show("overview");
  const k = await api("GET", "/kpis");
  $("#tiles").replaceChildren(
    tile("Orders", k.orders),
    tile("Revenue", money(k.revenue)),
    tile("Units", k.units),
    tile("Fill rate", pct(k.fillRate)),
    tile("On-time ship", pct(k.onTimeShipRate)),
    tile("Perfect orders", pct(k.perfectOrderRate)),
    tile("Cancelled", pct(k.cancellationRate)),
    tile("Returned", pct(k.returnRate)),
  );
  bars($("#funnel"), FUNNEL.filter((s) => k.statuses[s]).map((s) => [s, k.statuses[s]]));
  const [hourly, risky, sellers] = await Promise.all([
    api("GET", `/reports/top?by=hour&from=${encodeURIComponent(k.from)}&to=${encodeURIComponent(k.to)}`),
    api("GET", "/orders?atRisk=true&limit=10"),
    api("GET", "/reports/top?by=product&metric=units&limit=10"),
  ]);
  perHourChart($("#per-hour"), hourly.rows, k.from, k.to);
  $("#at-risk").replaceChildren(risky.orders.length
    ? el("ul", {}, ...risky.orders.map((o) => el("li", {}, orderLink(o.orderId), ` ${o.status} `,
      el("span", { class: "risk" }, o.sla ? `${o.sla.state} ${o.sla.step}` : ""))))
    : "None.");
  const levels = await Promise.all(sellers.rows.map((r) =>
    api("GET", `/inventory/${encodeURIComponent(r.key)}`).catch(() => null)));
  const low = levels.filter((s) => s && s.available <= LOW_STOCK_AT);
  $("#low-stock").replaceChildren(low.length
    ? el("ul", {}, ...low.map((s) => el("li", {}, `${s.sku}: ${s.available} available (${s.onHand} on hand)`)))
    : `No best seller at ${LOW_STOCK_AT} units or fewer.`);
}

// ---- search

let nextCursor = null;

function searchQuery(cursor) {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($("#search-form"))) if (v) params.set(k, v);
  params.set("limit", "50");
  if (cursor) params.set("cursor", cursor);
  return `/orders?${params}`;
}

async function search(append) {
  show("orders");
  try {
    const page = await api("GET", searchQuery(append ? nextCursor : null));
    const body = $("#results tbody");
    const rows = page.orders.map((o) => {
      const tr = el("tr", { "data-order": o.orderId },
        el("td", {}, o.orderId),
        el("td", {}, o.status, o.atRisk ? el("span", { class: "risk" }, " at risk") : ""),
        el("td", {}, o.channel), el("td", {}, o.customerId), el("td", {}, o.units),
        el("td", {}, `${o.currency} ${o.total}`), el("td", {}, o.createdAt));
      tr.addEventListener("click", () => { location.hash = `#/orders/${encodeURIComponent(o.orderId)}`; });
      return tr;
    });
    if (append) body.append(...rows); else body.replaceChildren(...rows);
    nextCursor = page.nextCursor || null;
    $("#more").hidden = !nextCursor;
    $("#search-error").textContent = page.orders.length || append ? "" : "No orders found.";
  } catch (e) {
    $("#search-error").textContent = e.message;
  }
}
$("#search-form").addEventListener("submit", (ev) => { ev.preventDefault(); search(false); });
$("#more").addEventListener("click", () => search(true));

// ---- one order

let current = null;

function renderOrder(o) {
  current = o;
  $("#order-id").textContent = o.orderId;
  $("#order-status").textContent = o.status;
  const facts = [
    ["Channel", o.channel], ["Customer", o.customer.id], ["Total", `${o.currency} ${o.total}`],
    ["Ship to", `${o.shipTo.city}, ${o.shipTo.country}`],
    ["Lines", o.lines.map((l) => `${l.quantity}× ${l.sku}`).join(", ")],
    ["Allocations", (o.allocations || []).map((a) => `${a.quantity}× ${a.sku} @ ${a.locationId}`).join(", ") || "—"],
    ["Paid", o.payment ? `${o.payment.captured} (refunded ${o.payment.refunded})` : "—"],
    ["Hold", o.hold ? o.hold.detail : "—"],
    ["SLA", o.slaAlert ? `${o.slaAlert.breached ? "breached" : "at risk"}: ${o.slaAlert.step}` : "—"],
  ];
  $("#order-summary").replaceChildren(...facts.map(([k, v]) => el("div", {}, el("strong", {}, `${k}: `), v)));
  $("#timeline").replaceChildren(...o.history.slice().reverse().map((h) => el("li", { class: h.refused ? "refused" : "" },
    el("time", {}, h.at), el("strong", {}, h.event), ` ${h.from || "—"} → ${h.to} by ${h.actor}`,
    h.detail ? ` — ${h.detail}` : "")));
}

async function openOrder(id) {
  show("order");
  $("#action-result").textContent = "";
  try {
    renderOrder(await api("GET", `/orders/${encodeURIComponent(id)}`));
  } catch (e) {
    $("#action-result").textContent = e.message;
  }
}

function ask(title, withAmount) {
  const dialog = $("#ask");
  $("#ask-title").textContent = title;
  $("#ask-amount-label").hidden = !withAmount;
  $("#ask-amount").required = withAmount;
  $("#ask-reason").value = "";
  $("#ask-amount").value = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"
      ? { reason: $("#ask-reason").value, amount: Number($("#ask-amount").value) }
      : null), { once: true });
  });
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", async () => {
    const action = button.dataset.action;
    const id = encodeURIComponent(current.orderId);
    let body = null;
    if (action !== "release") {
      const answer = await ask(`${action} order ${current.orderId}`, action === "refund");
      if (!answer) return;
      body = action === "refund" ? { amount: answer.amount, reason: answer.reason } : { reason: answer.reason };
    }
    const path = action === "refund" ? "refunds" : action;
    const headers = action === "refund" ? { "idempotency-key": crypto.randomUUID() } : {};
    try {
      renderOrder(await api("POST", `/orders/${id}/${path}`, body, headers));
      $("#action-result").textContent = `${action}: done`;
    } catch (e) {
      $("#action-result").textContent = `${action}: ${e.message}`;
    }
  });
}

// ---- routing

async function route() {
  if (!session.token) { show("sign-in"); return; }
  const hash = location.hash.replace(/^#/, "") || "/";
  try {
    if (hash.startsWith("/orders/")) await openOrder(decodeURIComponent(hash.slice(8)));
    else if (hash === "/orders") await search(false);
    else await overview();
  } catch (e) {
    if (e.status === 401) { session.clear(); show("sign-in"); return; }
    console.error(e);
  }
}
window.addEventListener("hashchange", route);
route();
