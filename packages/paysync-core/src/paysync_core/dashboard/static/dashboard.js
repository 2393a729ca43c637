// paysync dashboard: live updates by polling the JSON API, and inline SVG charts.
// Plain browser JavaScript, no build step, no third-party code.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const STATES = ["pending", "running", "succeeded", "dead"];

  function el(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function cell(row, text, cls) {
    const td = row.insertCell();
    td.textContent = text === null || text === undefined ? "-" : String(text);
    if (cls) td.className = cls;
    return td;
  }

  function link(td, href, text) {
    td.textContent = "";
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    td.appendChild(a);
  }

  function fill(tbody, items, render, empty, columns) {
    tbody.textContent = "";
    if (!items.length) {
      const row = tbody.insertRow();
      const td = cell(row, empty);
      td.colSpan = columns;
      return;
    }
    for (const item of items) render(tbody.insertRow(), item);
  }

  function duration(seconds) {
    // same wording as the server-rendered page (_present.duration)
    if (seconds === null || seconds === undefined) return "-";
    if (seconds < 120) return `${seconds.toFixed(0)} s`;
    if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
    if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / 86400).toFixed(1)} d`;
  }

  function label(start) {
    // "2026-11-23T11:05" -> "11:05"; "2026-11-23T11" -> "11h"
    const t = start.split("T")[1] || start;
    return t.length === 2 ? t + "h" : t;
  }

  function barChart(box, series) {
    const w = 800, h = 180, pad = 24;
    const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", role: "img" });
    const max = Math.max(1, ...series.map((b) => b.succeeded + b.dead));
    const bw = (w - pad * 2) / Math.max(1, series.length);
    svg.appendChild(el("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, class: "axis" }));
    svg.appendChild(el("text", { x: 2, y: 12, class: "axis-label" }, String(max)));
    series.forEach((b, i) => {
      const x = pad + i * bw;
      const hs = ((h - pad * 2) * b.succeeded) / max;
      const hd = ((h - pad * 2) * b.dead) / max;
      const title = `${b.start}: ${b.succeeded} succeeded, ${b.dead} dead`;
      const ok = el("rect", { x: x + 1, y: h - pad - hs, width: Math.max(1, bw - 2), height: hs, class: "bar-ok" });
      ok.appendChild(el("title", {}, title));
      svg.appendChild(ok);
      const bad = el("rect", { x: x + 1, y: h - pad - hs - hd, width: Math.max(1, bw - 2), height: hd, class: "bar-bad" });
      bad.appendChild(el("title", {}, title));
      svg.appendChild(bad);
      if (i % Math.ceil(series.length / 8) === 0) {
        svg.appendChild(el("text", { x: x, y: h - 8, class: "axis-label" }, label(b.start)));
      }
    });
    box.replaceChildren(svg);
  }

  function rateChart(box, series) {
    const w = 800, h = 90, pad = 16;
    const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", role: "img" });
    const step = (w - pad * 2) / Math.max(1, series.length - 1);
    const points = series.map((b, i) => `${pad + i * step},${h - pad - (h - pad * 2) * b.error_rate}`);
    svg.appendChild(el("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, class: "axis" }));
    svg.appendChild(el("text", { x: 2, y: 12, class: "axis-label" }, "100%"));
    svg.appendChild(el("polyline", { points: points.join(" "), class: "rate-line" }));
    box.replaceChildren(svg);
  }

  function renderOverview(data) {
    document.getElementById("updated").textContent = data.now;
    document.getElementById("open-dlq").textContent = String(data.open_dead_letters);
    document.getElementById("oldest-pending").textContent = data.oldest_pending_at || "none";
    const counts = Object.entries(data.flows);
    fill(document.querySelector("#flow-counts tbody"), counts, (row, [useCase, states]) => {
      cell(row, useCase);
      for (const s of STATES) cell(row, states[s] || 0, "num state-" + s);
    }, "No flows yet.", 5);
    barChart(document.getElementById("chart-throughput"), data.series);
    rateChart(document.getElementById("chart-errors"), data.series);
    fill(document.querySelector("#quotas tbody"), data.quotas, (row, q) => {
      cell(row, q.system); cell(row, q.span); cell(row, `${q.remaining} / ${q.limit}`, "num"); cell(row, q.resets_at);
    }, "No quotas configured.", 4);
    fill(document.querySelector("#streams tbody"), data.streams, (row, s) => {
      cell(row, s.kind); cell(row, s.name); cell(row, s.position); cell(row, s.updated_at || "never");
      const events = s.lag_events === null ? "" : ` (${s.lag_events} events)`;
      cell(row, duration(s.lag_seconds) + events, "num");
    }, data.streams_configured ? "No stream has a checkpoint yet." : "No stream reporter registered.", 5);
    fill(document.querySelector("#recent-dead tbody"), data.recent_dead, (row, f) => {
      link(cell(row, ""), root() + "/flows/" + encodeURIComponent(f.flow_id), f.flow_id.slice(0, 12));
      cell(row, f.use_case); cell(row, f.last_error || "");
    }, "None.", 3);
  }

  function renderFlow(data) {
    const badge = document.getElementById("flow-state");
    badge.textContent = data.flow.state;
    badge.className = "badge state-" + data.flow.state;
    document.getElementById("flow-updated").textContent = data.flow.updated_at;
    document.getElementById("flow-error").textContent = data.flow.last_error || "-";
    // rebuilt every time: steps appear as the flow advances (each intent is written lazily)
    fill(document.querySelector("#steps tbody"), data.steps, (row, s) => {
      row.dataset.step = s.name;
      cell(row, s.index + 1); cell(row, s.name); cell(row, s.system || "-");
      const badge = document.createElement("span");
      badge.className = "badge state-" + s.state;
      badge.textContent = s.state;
      cell(row, "", "step-state").replaceChildren(badge);
      cell(row, s.attempts, "num"); cell(row, s.requested_at); cell(row, s.finished_at);
      cell(row, s.seconds === null ? "-" : s.seconds.toFixed(3), "num");
      const ids = cell(row, "");
      for (const x of s.external_ids) {
        ids.appendChild(document.createTextNode(x.name + ": "));
        const target = document.createElement(x.url ? "a" : "code");
        if (x.url) { target.href = x.url; target.rel = "noopener noreferrer"; target.target = "_blank"; }
        target.textContent = x.id;
        ids.appendChild(target);
        ids.appendChild(document.createElement("br"));
      }
      cell(row, s.last_error || "", "error");
    }, "", 10);
    fill(document.querySelector("#audit tbody"), data.audit, (row, a) => {
      cell(row, a.seq); cell(row, a.at); cell(row, a.kind); cell(row, JSON.stringify(a.detail));
    }, "", 4);
  }

  function root() {
    // where the app is mounted (a reverse proxy may serve it under a path prefix)
    return document.body.dataset.root || "";
  }

  function poll(url, render) {
    const every = Number(document.body.dataset.pollMs || "2000");
    let busy = false;
    async function tick() {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.status === 401) { window.location.reload(); return; }
        if (response.ok) render(await response.json());
      } catch (e) {
        // the next tick tries again (server restart, network blip)
      } finally {
        busy = false;
      }
    }
    setInterval(tick, every);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    if (page === "overview") {
      const initial = JSON.parse(document.getElementById("initial").textContent);
      renderOverview(initial);
      poll(root() + "/api/overview?window=" + encodeURIComponent(initial.window), renderOverview);
    } else if (page === "flow") {
      poll(document.getElementById("flow-root").dataset.api, renderFlow);
    }
  });
})();
