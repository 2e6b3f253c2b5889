/* citycheck dashboard: lifeline panel (pipes by risk, renewal, criticality, alarms).
   Data from /api/runs/{run}/lifeline; shown only for runs that hold RUN/lifeline/.
   Reads the page's `state` (run, lang) from app.js. */
"use strict";

(function () {
  const RISK = ["#c8c8c8", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];  // 0 = no risk
  let panel = null;
  let shown = "";

  function el(tag, attrs, html) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
      '"': "&quot;", "'": "&#39;" }[c]));
  }
  function table(cls, heads, rows, key) {
    const th = heads.map((h) => `<th>${esc(h)}</th>`).join("");
    const trs = rows.map((r) => `<tr data-key="${esc(r[key])}">` +
      r.cells.map((c) => `<td>${esc(c)}</td>`).join("") + "</tr>").join("");
    return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
  }
  function svgMap(fc, label) {
    const lines = (fc && fc.features || []).filter((f) => f.geometry);
    if (!lines.length) return "";
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    lines.forEach((f) => f.geometry.coordinates.forEach(([x, y]) => {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }));
    const w = 520, h = Math.max(120, Math.round(w * (y1 - y0) / Math.max(x1 - x0, 1e-9)));
    const sx = (x) => ((x - x0) / Math.max(x1 - x0, 1e-9) * (w - 10) + 5).toFixed(1);
    const sy = (y) => ((y1 - y) / Math.max(y1 - y0, 1e-9) * (h - 10) + 5).toFixed(1);
    const paths = lines.map((f) => {
      const c = f.properties.risk_class;
      const col = c >= 0 ? RISK[c] : "#bbb";
      const d = f.geometry.coordinates.map(([x, y], i) => `${i ? "L" : "M"}${sx(x)},${sy(y)}`).join("");
      return `<path d="${d}" stroke="${col}" stroke-width="${1 + (c > 0 ? c : 0) * 0.6}" fill="none"` +
        ` data-pipe="${esc(f.properties.pipe_id)}"><title>${esc(f.properties.pipe_id)}: ` +
        `${f.properties.risk == null ? "—" : f.properties.risk.toFixed(2)}</title></path>`;
    }).join("");
    return `<svg id="lifeline-map" viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${esc(label)}">${paths}</svg>`;
  }

  async function refresh() {
    if (typeof state === "undefined" || !state.run) return;
    const key = `${state.run}|${state.lang}`;
    if (key === shown) return;
    shown = key;
    const res = await fetch(`/api/runs/${encodeURIComponent(state.run)}/lifeline?lang=${state.lang}`);
    if (!panel) {
      panel = el("section", { id: "lifeline-section", hidden: "" });
      document.querySelector("aside").appendChild(panel);
    }
    const d = res.ok ? await res.json() : { available: false };
    if (!d.available) { panel.hidden = true; panel.innerHTML = ""; return; }
    const L = d.L;
    let html = `<h2>${esc(d.title)}</h2><p class="muted">${esc(d.note)}</p>`;
    html += `<h3>${esc(L.map)}</h3>` + svgMap(d.pipes, L.map);
    if (d.risk.length) {
      html += `<h3>${esc(L.risk_top)}</h3>` + table("lifeline-risk",
        [L.pipe, L.p_failure, L.consequence, L.risk],
        d.risk.map((r) => ({ pipe: r.pipe, cells: [r.pipe, r.p_failure, r.consequence, r.risk] })), "pipe");
    }
    if (d.renewal.length) {
      html += `<h3>${esc(L.renewal)}</h3>` + table("lifeline-renewal",
        [L.project, L.length_m, L.cost, L.benefit, L.selected],
        d.renewal.map((r) => ({ p: r.project, cells: [`${r.project} ${r.name}`, r.length_m, r.cost, r.benefit, r.selected] })), "p");
    }
    if (d.criticality.length) {
      html += `<h3>${esc(L.criticality)}</h3>` + table("lifeline-criticality",
        [L.pipe, L.unmet, L.unmet_share, L.residents_affected, L.method],
        d.criticality.map((r) => ({ pipe: r.pipe, cells: [r.pipe, r.unmet, r.unmet_share, r.residents, r.method] })), "pipe");
    }
    if (d.alarms) {
      html += `<h3>${esc(L.alarms)}</h3>` + (d.alarms.length ? table("lifeline-alarms",
        [L.sensor, L.kind, L.level, L.opened, L.work_order, L.order_status],
        d.alarms.map((r) => ({ s: r.sensor, cells: [r.sensor, r.kind, r.level, r.opened, r.work_order, r.order_status] })), "s")
        : `<p class="muted">${esc(L.no_alarms)}</p>`);
    }
    panel.innerHTML = html;
    panel.hidden = false;
  }

  const later = () => setTimeout(refresh, 0);
  document.getElementById("run").addEventListener("change", later);
  document.getElementById("lang-zh").addEventListener("click", later);
  document.getElementById("lang-en").addEventListener("click", later);
  new MutationObserver(later).observe(document.getElementById("run"), { childList: true });
  new MutationObserver(later).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
})();
