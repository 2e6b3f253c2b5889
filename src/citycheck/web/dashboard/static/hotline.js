/* citycheck dashboard, hotline view: trend chart, hotspot grid layer, theme cards, three-rates
   table and hotspots in the problem list. Data: /api/runs/{run}/hotline and .../hotline/hexes
   (web/dashboard/hotline.py). Uses app.js's state, map, api, esc and q. */
"use strict";

const hl = { key: "", data: null, layer: null, pane: null };

(function addStyle() {
  const css = `
#hotline-section .theme-card { border: 1px solid #ddd; border-left: 4px solid #90a4ae; padding: 4px 6px; margin: 4px 0; }
#hotline-section .theme-card.recurring { border-left-color: #c62828; }
#hotline-section .theme-card h3 { font-size: 13px; margin: 0 0 2px; }
#hotline-section .theme-card ul { margin: 2px 0 0 16px; padding: 0; font-size: 11px; color: #444; }
#hotline-section .facts { font-size: 12px; color: #555; }
#hotline-trend { width: 100%; height: 190px; display: block; }
#problems li.hotspot { color: #b71c1c; }`;
  const el = document.createElement("style");
  el.textContent = css;
  document.head.appendChild(el);
})();

function hlSection() {
  let sec = document.getElementById("hotline-section");
  if (!sec) {
    sec = document.createElement("section");
    sec.id = "hotline-section";
    sec.hidden = true;
    sec.innerHTML = `<h2 id="hotline-title"></h2><p class="facts" id="hotline-facts"></p>
      <label><input type="checkbox" id="hotline-layer-on" checked> <span id="hotline-layer-label"></span></label>
      <button type="button" id="hotline-zoom"></button>
      <h3 id="hotline-trend-title"></h3><svg id="hotline-trend" role="img"></svg><p class="muted" id="hotline-surge-note"></p>
      <div id="hotline-intervention"></div>
      <h3 id="hotline-density-title"></h3><table id="hotline-density"></table>
      <h3 id="hotline-rates-title"></h3><p class="muted" id="hotline-rates-note"></p><table id="hotline-rates"></table>
      <h3 id="hotline-themes-title"></h3><p class="muted" id="hotline-privacy"></p><div id="hotline-themes"></div>`;
    document.querySelector("aside").appendChild(sec);
    document.getElementById("hotline-layer-on").onchange = (e) => {
      if (!hl.layer) return;
      if (e.target.checked) hl.layer.addTo(map); else hl.layer.remove();
    };
    document.getElementById("hotline-zoom").onclick = () => {
      if (hl.layer && hl.layer.getLayers().length) map.fitBounds(hl.layer.getBounds(), { padding: [10, 10] });
    };
  }
  return sec;
}

function trendSvg(d) {
  const svg = document.getElementById("hotline-trend");
  const W = 520, H = 190, P = { l: 34, r: 8, t: 8, b: 26 };
  const months = d.trend.months, cats = Object.keys(d.trend.series);
  const top = Math.max(1, ...cats.flatMap((c) => d.trend.series[c]));
  const x = (i) => P.l + (W - P.l - P.r) * (months.length > 1 ? i / (months.length - 1) : 0.5);
  const y = (v) => H - P.b - (H - P.t - P.b) * v / top;
  const colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
  let s = `<line x1="${P.l}" y1="${H - P.b}" x2="${W - P.r}" y2="${H - P.b}" stroke="#999"/>` +
    `<text x="2" y="${P.t + 8}" font-size="9">${top}</text><text x="2" y="${H - P.b}" font-size="9">0</text>`;
  const step = Math.max(1, Math.ceil(months.length / 8));
  months.forEach((m, i) => { if (i % step === 0) s += `<text x="${x(i)}" y="${H - 12}" font-size="8" text-anchor="middle">${esc(m)}</text>`; });
  cats.forEach((c, k) => {
    const pts = d.trend.series[c].map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    s += `<polyline class="trend-line" data-category="${esc(c)}" fill="none" stroke="${colours[k % colours.length]}" stroke-width="1.3" points="${pts}"><title>${esc(c)}</title></polyline>`;
  });
  const pos = new Map(months.map((m, i) => [m, i]));
  for (const m of d.surge_marks) {
    const series = d.trend.series[m.category];
    if (!series || !pos.has(m.month)) continue;
    const i = pos.get(m.month);
    s += `<circle class="surge-mark" data-category="${esc(m.category)}" data-month="${esc(m.month)}" cx="${x(i)}" cy="${y(series[i])}" r="6" fill="none" stroke="#c62828" stroke-width="2"><title>${esc(d.labels.surge)}: ${esc(m.category)} ${esc(m.month)}</title></circle>`;
  }
  if (d.intervention_raw) {
    const m = String(d.intervention_raw.date).slice(0, 7);
    if (pos.has(m)) {
      const xi = x(pos.get(m));
      s += `<line class="intervention-line" x1="${xi}" x2="${xi}" y1="${P.t}" y2="${H - P.b}" stroke="#333" stroke-dasharray="4 3"/>` +
        `<text x="${xi + 3}" y="${P.t + 9}" font-size="9">${esc(d.labels.intervention)}</text>`;
    }
  }
  const legend = cats.map((c, k) => `<tspan fill="${colours[k % colours.length]}">■ ${esc(c.slice(0, 18))}</tspan>`).join(" ");
  s += `<text x="${P.l}" y="${H - 1}" font-size="8">${legend}</text>`;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("aria-label", d.labels.trend);
  svg.dataset.months = String(months.length);
  svg.innerHTML = s;
}

function hlRender(d) {
  const L = d.labels;
  const sec = hlSection();
  sec.hidden = false;
  document.getElementById("hotline-title").textContent = L.sec_hotline;
  document.getElementById("hotline-facts").textContent = d.facts.map(([k, v]) => `${k}: ${v}`).join(" · ");
  document.getElementById("hotline-layer-label").textContent = `${L.hex_map} — ${d.hex_note}`;
  document.getElementById("hotline-zoom").textContent = L.hotspots + " ⤢";
  document.getElementById("hotline-trend-title").textContent = L.trend;
  trendSvg(d);
  document.getElementById("hotline-surge-note").textContent = d.surges.length ?
    `${L.surges}: ` + d.surges.map((s) => `${s.category} ${s.week} (${s.count}, ×${s.ratio})`).join("; ") : d.surge_note;
  const i = d.intervention;
  document.getElementById("hotline-intervention").innerHTML = i ?
    `<table class="hotline-intervention"><tr><th>${esc(L.intervention)} ${esc(i.date)} (${esc(i.category)})</th><td>${esc(L.before)} ${esc(i.before)} → ${esc(L.after)} ${esc(i.after)}: ${esc(i.change)} ${esc(i.interval)} — ${esc(i.fell)}</td></tr></table>` : "";
  const dens = d.unit_density.length ? d.unit_density : d.density;
  document.getElementById("hotline-density-title").textContent = `${L.density} (${L.hotspots})`;
  document.getElementById("hotline-density").innerHTML = dens.length ?
    `<tr><th>${esc(d.unit_density.length ? L.unit_id : L.area)}</th><th>${esc(L.orders)}</th><th>${esc(L.residents)}</th><th>${esc(L.per_10k)}</th><th>${esc(L.ratio_to_city)}</th></tr>` +
    dens.map((r) => `<tr data-unit="${esc(r.unit_id)}"><td>${esc(r.unit_id)}</td><td class="num">${esc(r.orders)}</td><td class="num">${esc(r.residents)}</td><td class="num">${esc(r.per_10k)}</td><td class="num">${esc(r.ratio_to_city)}</td></tr>`).join("")
    : `<tr><td class="muted">${esc(d.hex_note)}</td></tr>`;
  document.getElementById("hotline-rates-title").textContent = L.three_rates;
  document.getElementById("hotline-rates-note").textContent = `${d.note} ${L.wilson_note}`;
  document.getElementById("hotline-rates").innerHTML =
    `<tr><th>${esc(L.rank)}</th><th>${esc(L.group)}</th><th>${esc(L.orders)}</th>` +
    d.rate_keys.map((m) => `<th>${esc(L[m])}</th>`).join("") + "</tr>" +
    d.rates.slice(0, 15).map((r) => `<tr data-group="${esc(r.group)}"><td class="num">${esc(r.rank)}</td><td>${esc(r.group)}</td><td class="num">${esc(r.orders)}</td>` +
      d.rate_keys.map((m) => `<td class="num">${esc(r[m])}</td>`).join("") + "</tr>").join("");
  document.getElementById("hotline-themes-title").textContent = L.themes;
  document.getElementById("hotline-privacy").textContent = L.privacy_note;
  document.getElementById("hotline-themes").innerHTML = d.themes.map((t) =>
    `<div class="theme-card${t.is_recurring ? " recurring" : ""}" data-theme="${esc(t.theme)}"><h3>${esc(t.name)}</h3>${t.sparkline}` +
    `<div>${esc(L.keywords)}: ${esc(t.keywords)}</div><div>${esc(L.orders)} <b class="theme-orders">${esc(t.orders)}</b> · ${esc(L.months)} ${esc(t.months)} · ${esc(L.places)} ${esc(t.places)} · ${esc(L.recurring)}: ${esc(t.recurring)}</div>` +
    (t.top_places ? `<div>${esc(L.top_places)}: ${esc(t.top_places)}</div>` : "") +
    `<div class="muted">${esc(L.by_month)}: ${esc(t.month_list)}</div>` +
    `<ul>${t.examples.map((e) => `<li>${esc(e)}</li>`).join("")}</ul></div>`).join("");
}

function hlProblems(d) {
  const list = document.getElementById("problems");
  if (!list || list.querySelector("li.hotspot")) return;
  list.insertAdjacentHTML("beforeend", d.problems.map((p) =>
    `<li class="hotspot" data-indicator="${esc(p.id)}"><b>${esc(p.name)}</b>: ${esc(p.units_failing)}/${esc(p.units_total)} ${esc(d.labels.hotspot_cells)}` +
    (p.run_units.length ? ` — ${esc(d.labels.in_units)} ${esc(p.run_units.join(", "))}` : "") +
    `<br><span class="muted">${p.worst_units.map((u) => esc(u.unit_id + " = " + u.text)).join("; ")}</span></li>`).join(""));
}

async function hlLayer(run) {
  if (!map.getPane("hotline")) {
    map.createPane("hotline");
    map.getPane("hotline").style.zIndex = 450;
    map.getPane("hotline").style.pointerEvents = "none";
  }
  if (hl.layer) { hl.layer.remove(); hl.layer = null; }
  const g = await api(`/api/runs/${run}/hotline/hexes`);
  const rate = g.features.some((f) => typeof f.properties.per_10k === "number");
  const val = (f) => (rate ? f.properties.per_10k : f.properties.orders) || 0;
  const max = Math.max(1, ...g.features.map(val));
  hl.layer = L.geoJSON(g, { pane: "hotline", interactive: false, style: (f) => {
    const hot = f.properties.hot === true || f.properties.hot === 1;
    return { className: hot ? "hotline-hex hot" : "hotline-hex", color: hot ? "#c62828" : "#fb8c00",
      weight: hot ? 2.5 : 0.5, fillColor: "#e65100", fillOpacity: 0.1 + 0.6 * Math.log1p(val(f)) / Math.log1p(max) };
  } });
  if (document.getElementById("hotline-layer-on").checked) hl.layer.addTo(map);
  document.getElementById("map").dataset.hotlineCells = String(g.features.length);
}

async function hlUpdate() {
  if (!state.run) return;
  const key = `${state.run}|${state.lang}`;
  try {
    if (key !== hl.key) {
      const runChanged = !hl.key.startsWith(state.run + "|");
      hl.key = key;
      hl.data = await api(`/api/runs/${state.run}/hotline${q({})}`);
      const sec = hlSection();
      if (!hl.data.available) {
        sec.hidden = true;
        if (hl.layer) { hl.layer.remove(); hl.layer = null; }
        document.body.dataset.hotline = "none";
        return;
      }
      hlRender(hl.data);
      if (runChanged || !hl.layer) await hlLayer(state.run);
    }
    if (hl.data && hl.data.available) hlProblems(hl.data);
    document.body.dataset.hotline = hl.data && hl.data.available ? "1" : "none";
  } catch (e) {
    document.body.dataset.hotline = "error";
    showError(String(e.message || e));
  }
}

// app.js marks each finished refresh with body[data-ready="1"]; the view follows it.
new MutationObserver(() => { if (document.body.dataset.ready === "1") hlUpdate(); })
  .observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
