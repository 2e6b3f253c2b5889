/* citycheck dashboard: one page, Leaflet map without tiles, data from /api. */
"use strict";

const state = { lang: "en", run: null, compare: "", dim: null, ind: null, level: "neighbourhood",
  labels: {}, meta: null, runs: [], layer: null, facilities: null, legend: null };
const cache = new Map();
const GRADE = { pass: "#2e7d32", warning: "#f9a825", fail: "#c62828", info: "#78909c",
  "no data": "#cfd8dc" };
const $ = (id) => document.getElementById(id);
const L_ = (k) => state.labels[k] || k;

const map = L.map("map", { zoomSnap: 0.25, attributionControl: true, preferCanvas: false });
map.attributionControl.setPrefix("Leaflet");
map.createPane("base");
map.getPane("base").style.zIndex = 350;  // under the units (overlay pane, 400)
map.getPane("base").style.pointerEvents = "none";
const baseRenderer = L.canvas({ padding: 0.2, pane: "base" });

function showError(msg) {
  const box = $("error");
  if (!msg) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false; box.textContent = msg;
}

async function api(path) {
  if (cache.has(path)) return cache.get(path);
  const res = await fetch(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  cache.set(path, body);
  return body;
}

function q(params) {
  return "?" + new URLSearchParams({ lang: state.lang, ...params }).toString();
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
    '"': "&quot;", "'": "&#39;" }[c]));
}

function gradeSpan(grade, name) {
  return `<span class="grade ${esc(String(grade).replace(" ", "-"))}">${esc(name)}</span>`;
}

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return String(Number(v.toPrecision(4)));
}

function colour(t) { // 0..1 → light yellow to dark blue
  const stops = [[255, 255, 204], [161, 218, 180], [65, 182, 196], [44, 127, 184], [37, 52, 148]];
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const c = stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function applyLabels() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-l]").forEach((el) => { el.textContent = L_(el.dataset.l); });
  $("title").textContent = L_("dashboard_title");
  document.title = L_("dashboard_title");
  $("lang-zh").classList.toggle("active", state.lang === "zh");
  $("lang-en").classList.toggle("active", state.lang === "en");
  $("attribution").textContent = L_("osm_attribution");
  map.attributionControl.setPrefix(esc(L_("osm_attribution")) + " · Leaflet");
}

function fillSelect(sel, items, value) {
  sel.innerHTML = items.map((it) =>
    `<option value="${esc(it.value)}"${it.disabled ? " disabled" : ""}>${esc(it.text)}</option>`
  ).join("");
  if (value !== undefined && items.some((it) => it.value === value && !it.disabled)) {
    sel.value = value;
  }
}

function indicatorInfo() {
  for (const d of state.meta.dimensions) {
    for (const ind of d.indicators) if (ind.id === state.ind) return ind;
  }
  return null;
}

function fillMenus() {
  const m = state.meta;
  const okRuns = state.runs.filter((r) => r.ok);
  fillSelect($("run"), state.runs.map((r) => ({ value: r.id,
    text: r.ok ? `${r.name} (${r.id})` : `${r.id} — ${L_("cannot_show")}`, disabled: !r.ok })), state.run);
  fillSelect($("compare"), [{ value: "", text: "—" }].concat(okRuns.filter((r) => r.id !== state.run)
    .map((r) => ({ value: r.id, text: `${r.name} (${r.id})` }))), state.compare);
  const dims = m.dimensions.filter((d) => d.indicators.length);
  if (!dims.some((d) => d.id === state.dim)) state.dim = dims.length ? dims[0].id : null;
  fillSelect($("dimension"), dims.map((d) => ({ value: d.id, text: `${d.name} (${d.indicators.length})` })), state.dim);
  const inds = (dims.find((d) => d.id === state.dim) || { indicators: [] }).indicators;
  if (!inds.some((i) => i.id === state.ind)) {
    const multi = inds.find((i) => i.levels.some((lv) => lv !== "district"));
    state.ind = (multi || inds[0] || {}).id || null;
  }
  fillSelect($("indicator"), inds.map((i) => ({ value: i.id, text: `${i.id} ${i.name}` })), state.ind);
  const info = indicatorInfo();
  const levels = m.levels.map((lv) => ({ value: lv.id,
    text: lv.name + (info && info.levels.includes(lv.id) ? " ●" : "") }));
  if (!m.levels.some((lv) => lv.id === state.level) ||
      (info && !info.levels.includes(state.level) && state.level !== "dwelling")) {
    state.level = info && info.levels.length ? info.levels[info.levels.length - 1] : "district";
  }
  fillSelect($("level"), levels, state.level);
}

function lcColour(t) { // 0 missing → green, more → orange to dark red
  if (t <= 0) return "#43a047";
  const a = [253, 187, 132], b = [179, 0, 0];
  const c = a.map((x, k) => Math.round(x + t * (b[k] - x)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function drawLcLegend(max) {
  if (state.legend) state.legend.remove();
  state.legend = L.control({ position: "bottomright" });
  state.legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend lc-legend");
    const steps = [...new Set([0, 1, Math.ceil(max / 2), max])];
    div.innerHTML = `<b>${esc(L_("map_life_circle"))}</b><br>${esc(L_("missing_categories"))}<br>` +
      steps.map((k) => `<i style="background:${lcColour(k / max)}"></i>${k}`).join("<br>");
    return div;
  };
  state.legend.addTo(map);
}

function drawLegend(lo, hi, unit) {
  if (state.legend) state.legend.remove();
  state.legend = L.control({ position: "bottomright" });
  state.legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    const steps = [0, 0.25, 0.5, 0.75, 1];
    div.innerHTML = `<b>${esc(unit || "")}</b><br>` + (lo === null ? esc(L_("no data")) :
      steps.map((t) => `<i style="background:${colour(t)}"></i>${fmt(lo + t * (hi - lo))}`).join("<br>")) +
      `<br><i style="background:none;border:2px solid ${GRADE.fail}"></i>${esc(L_("fail"))}`;
    return div;
  };
  state.legend.addTo(map);
}

async function drawMap(fit) {
  const data = await api(`/api/runs/${state.run}/geojson/${state.level}`);
  const info = indicatorInfo();
  const col = state.ind ? state.ind.replace(/\./g, "_") : null;
  const isBuilding = state.level === "dwelling";
  const lcMode = isBuilding && data.features.some((f) => typeof f.properties.lc_missing === "number")
    && !data.features.some((f) => typeof f.properties[col] === "number");
  const lcMax = lcMode ? Math.max(1, ...data.features.map((f) => f.properties.lc_missing || 0)) : 1;
  const vals = data.features.map((f) => f.properties[col]).filter((v) => typeof v === "number");
  const lo = vals.length ? Math.min(...vals) : null;
  const hi = vals.length ? Math.max(...vals) : null;
  if (state.layer) state.layer.remove();
  state.layer = L.geoJSON(data, {
    style: (f) => {
      const v = f.properties[col];
      const g = f.properties[col + "_grade"];
      const m = f.properties.lc_missing;
      const fill = typeof v === "number" ? colour(hi > lo ? (v - lo) / (hi - lo) : 0.5)
        : (lcMode && f.properties.residential ? lcColour(m / lcMax)
          : (isBuilding ? (f.properties.residential ? "#a1887f" : "#d7ccc8") : "#eeeeee"));
      return { color: g === "fail" ? GRADE.fail : (isBuilding ? "#8d6e63" : "#607d8b"),
        weight: g === "fail" ? 2.5 : (isBuilding ? 0.3 : 1), fillColor: fill,
        fillOpacity: isBuilding ? 0.8 : 0.5 };
    },
    onEachFeature: (f, layer) => {
      layer.on("click", () => showUnit(String(f.properties.unit_id)));
    },
  }).addTo(map);
  $("map").dataset.features = String(data.features.length);
  $("map").dataset.indicator = state.ind || "";
  $("map").dataset.level = state.level;
  if (lcMode) drawLcLegend(lcMax); else drawLegend(lo, hi, info ? info.unit : "");
  if (!state.base) {  // the run's own buildings as a light, non-interactive base map
    const b = await api(`/api/runs/${state.run}/geojson/dwelling`);
    state.base = L.geoJSON(b, { renderer: baseRenderer, interactive: false,
      pane: "base", style: { color: "#bcaaa4", weight: 0.3, fillColor: "#d7ccc8", fillOpacity: 0.9 } }).addTo(map);
  }
  state.base.setStyle({ opacity: isBuilding ? 0 : 1, fillOpacity: isBuilding ? 0 : 0.9 });
  if (!state.facilities) {
    const fac = await api(`/api/runs/${state.run}/geojson/facilities`);
    state.facilities = L.geoJSON(fac, { pointToLayer: (f, ll) => L.circleMarker(ll,
      { radius: 3, color: "#1565c0", weight: 1, fillOpacity: 0.8, interactive: false }) }).addTo(map);
  }
  if (fit && state.layer.getLayers().length) map.fitBounds(state.layer.getBounds(), { padding: [10, 10] });
}

async function showUnit(unitId) {
  const box = $("info");
  try {
    const u = await api(`/api/runs/${state.run}/unit/${state.level}/${encodeURIComponent(unitId)}${q({})}`);
    box.classList.remove("muted");
    box.dataset.unit = unitId;
    let html = `<p><b>${esc(u.level_name)} ${esc(u.unit_id)}</b>`;
    if (u.overall) html += ` — ${esc(L_("overall"))} ${esc(u.overall.score)} ${gradeSpan(u.overall.grade, u.overall.grade_name)}`;
    html += "</p>";
    if (u.indicators) {
      html += `<table class="unit-values"><tr><th>${esc(L_("indicator"))}</th><th>${esc(L_("value"))}</th><th>${esc(L_("why"))}</th></tr>` +
        u.indicators.map((r) => `<tr data-indicator="${esc(r.id)}"><td>${esc(r.id)} ${esc(r.name)}</td>` +
          `<td class="num">${esc(r.value_text)} ${esc(r.unit)}</td><td>${gradeSpan(r.grade, r.grade_name)} ${esc(r.why)}</td></tr>`).join("") + "</table>";
    } else {
      html += "<table>" + u.attributes.map((a) => `<tr><th>${esc(a.key)}</th><td>${esc(a.value)}</td></tr>`).join("") + "</table>";
      if (u.access_computed) {
        html += `<table class="gaps"><tr><th>${esc(L_("category"))}</th><th>${esc(L_("distance"))}</th><th>${esc(L_("walk_limit"))}</th></tr>` +
          u.gaps.map((g) => `<tr><td>${esc(g.name)}</td><td class="num">${esc(g.distance_text)}</td><td class="num">${g.limit_m} m ${gradeSpan(g.grade, g.grade_name)}</td></tr>`).join("") + "</table>";
      } else {
        html += `<p class="muted">${esc(L_("life_circle_missing"))}</p>`;
      }
    }
    box.innerHTML = html;
  } catch (e) {
    box.dataset.unit = unitId;
    box.innerHTML = `<p class="muted">${esc(unitId)}: ${esc(L_("no_values"))}</p>`;
  }
}

async function drawTable() {
  const info = indicatorInfo();
  if (!info) { $("table").innerHTML = ""; $("summary").textContent = L_("no data"); return; }
  const t = await api(`/api/runs/${state.run}/table${q({ indicator: state.ind, level: state.level })}`);
  $("summary").innerHTML = `<b>${esc(info.id)} ${esc(info.name)}</b> (${esc(info.unit)})`;
  $("table").dataset.indicator = state.ind;
  $("table").innerHTML = `<tr><th>${esc(L_("unit_id"))}</th><th>${esc(L_("value"))}</th><th>${esc(L_("grade"))}</th></tr>` +
    (t.rows.length ? t.rows.map((r) => `<tr data-unit="${esc(r.unit_id)}"><td>${esc(r.unit_id)}</td><td class="num">${fmt(r.value)}</td><td>${gradeSpan(r.grade, r.grade_name)}</td></tr>`).join("")
      : `<tr><td colspan="3" class="muted">${esc(L_("no_values"))}</td></tr>`);
}

async function drawProblems() {
  const p = await api(`/api/runs/${state.run}/problems${q({})}`);
  $("problems").innerHTML = p.problems.map((x) => `<li data-indicator="${esc(x.id)}"><b>${esc(x.id)} ${esc(x.name)}</b>: ` +
    `${esc(x.value_text)} ${esc(x.unit)} (${esc(L_("threshold"))} ${esc(x.threshold)}, ${esc(L_("gap"))} ${esc(x.gap_text)})` +
    (x.worst_units.length ? `<br><span class="muted">${esc(L_("worst_units"))}: ${x.worst_units.map((u) => esc(u.unit_id + " = " + u.text)).join("; ")}</span>` : "") +
    "</li>").join("");
}

async function drawCompare() {
  const sec = $("compare-section");
  if (!state.compare) { sec.hidden = true; return; }
  const c = await api(`/api/compare${q({ a: state.run, b: state.compare })}`);
  sec.hidden = false;
  $("compare-table").innerHTML = `<tr><th>${esc(L_("indicator"))}</th><th>${esc(c.a)}</th><th>${esc(c.b)}</th><th>Δ</th></tr>` +
    c.rows.filter((r) => r.a !== null || r.b !== null).map((r) => `<tr data-indicator="${esc(r.id)}" class="${r.changed ? "changed" : ""}">` +
      `<td>${esc(r.id)} ${esc(r.name)}</td><td class="num">${esc(r.a_text)} <small>${esc(r.grade_a)}</small></td>` +
      `<td class="num">${esc(r.b_text)} <small>${esc(r.grade_b)}</small></td><td class="num">${esc(r.diff_text)}</td></tr>`).join("");
}

async function refresh(fit) {
  try {
    showError(state.badRuns || "");
    state.meta = await api(`/api/runs/${state.run}/meta${q({})}`);
    fillMenus();
    await Promise.all([drawMap(fit), drawTable(), drawProblems(), drawCompare()]);
    const infoUnit = $("info").dataset.unit;
    if (infoUnit) await showUnit(infoUnit); else $("info").textContent = L_("click_a_unit");
    document.body.dataset.ready = "1";
  } catch (e) {
    showError(String(e.message || e));
    document.body.dataset.ready = "error";
  }
}

async function setLang(lang) {
  state.lang = lang;
  state.labels = await api(`/api/labels?lang=${lang}`);
  applyLabels();
  await refresh(false);
}

async function main() {
  try {
    state.labels = await api(`/api/labels?lang=${state.lang}`);
    applyLabels();
    state.runs = await api("/api/runs");
  } catch (e) {
    showError(String(e.message || e));
    return;
  }
  const bad = state.runs.filter((r) => !r.ok);
  state.badRuns = bad.map((r) => `${L_("cannot_show")}: ${r.error}`).join("\n");
  const ok = state.runs.filter((r) => r.ok);
  if (!ok.length) { showError(state.badRuns || L_("no_runs")); document.body.dataset.ready = "error"; return; }
  state.run = ok[0].id;
  $("run").onchange = (e) => { state.run = e.target.value; state.facilities && state.facilities.remove();
    state.facilities = null; state.base && state.base.remove(); state.base = null; $("info").dataset.unit = ""; if (state.compare === state.run) state.compare = ""; refresh(true); };
  $("compare").onchange = (e) => { state.compare = e.target.value; refresh(false); };
  $("dimension").onchange = (e) => { state.dim = e.target.value; state.ind = null; refresh(false); };
  $("indicator").onchange = (e) => { state.ind = e.target.value; refresh(false); };
  $("level").onchange = (e) => { state.level = e.target.value; $("info").dataset.unit = ""; refresh(false); };
  $("lang-zh").onclick = () => setLang("zh");
  $("lang-en").onclick = () => setLang("en");
  await refresh(true);
}

main();
