/* citycheck dashboard: the what-if panel. Place a facility on the map (or remove / move an
   existing one) and see the coverage change computed by the server (POST /api/runs/{id}/whatif).
   Uses the map, state and helpers of app.js (loaded before this file). */
"use strict";

const wi = { run: null, lang: null, setup: null, actions: [], mode: null, version: 0,
  result: null, layers: { changed: null, sites: null, existing: null } };
const WL = (k) => (wi.setup && wi.setup.labels[k]) || k;

function wiPanel() {
  let sec = document.getElementById("whatif");
  if (sec) return sec;
  const css = document.createElement("style");
  css.textContent = "#map.wi-placing, #map.wi-placing path { cursor: crosshair; } " +
    "#whatif table { font-size: 0.85em; } #whatif .wi-controls button { margin: 0.2em 0.2em 0.2em 0; }";
  document.head.appendChild(css);
  sec = document.createElement("section");
  sec.id = "whatif";
  sec.innerHTML = `<h2 data-wl="wi_title"></h2><p class="muted small" data-wl="wi_intro"></p>
    <div class="wi-controls"><label><span data-wl="wi_category"></span> <select id="wi-category"></select></label>
    <button id="wi-place" type="button" data-wl="wi_place"></button>
    <button id="wi-reset" type="button" data-wl="wi_reset"></button><br>
    <label><input id="wi-existing" type="checkbox"> <span data-wl="wi_show_existing"></span></label></div>
    <p id="wi-status" class="muted"></p>
    <h3 data-wl="wi_actions"></h3><ol id="wi-actions"></ol>
    <div id="wi-result"></div>`;
  const aside = document.querySelector("aside");
  aside.insertBefore(sec, aside.firstChild);
  document.getElementById("wi-place").onclick = () => wiSetMode(wi.mode ? null : { op: "add" });
  document.getElementById("wi-reset").onclick = () => { wi.actions = []; wiSetMode(null); wiRecompute(); };
  document.getElementById("wi-existing").onchange = () => wiDrawExisting();
  return sec;
}

function wiSetMode(mode) {
  wi.mode = mode;
  document.getElementById("map").classList.toggle("wi-placing", !!mode);
  const st = document.getElementById("wi-status");
  st.textContent = !mode ? "" : WL(mode.op === "move" ? "wi_moving" : "wi_placing");
  document.getElementById("whatif").dataset.mode = mode ? mode.op : "";
}

function wiLabels() {
  document.querySelectorAll("#whatif [data-wl]").forEach((el) => { el.textContent = WL(el.dataset.wl); });
  const sel = document.getElementById("wi-category");
  const cur = sel.value;
  sel.innerHTML = wi.setup.categories.map((c) =>
    `<option value="${esc(c.id)}">${esc(c.name)} (${c.limit_m} m)</option>`).join("");
  if (wi.setup.categories.some((c) => c.id === cur)) sel.value = cur;
}

function wiCatName(id) {
  const c = wi.setup.categories.find((x) => x.id === id);
  return c ? c.name : id;
}

function wiFacility(fid) {
  return wi.setup.facilities.features.find((f) => String(f.properties.facility_id) === String(fid));
}

function wiActionText(a) {
  const op = WL("wi_op_" + a.op);
  if (a.op === "add") return `${op} ${wiCatName(a.category)} @ ${a.lat.toFixed(5)}, ${a.lon.toFixed(5)}`;
  const f = wiFacility(a.facility_id);
  const what = f ? `${wiCatName(f.properties.category)} ${f.properties.name || ""} (${a.facility_id})` : a.facility_id;
  return a.op === "move" ? `${op} ${what} → ${a.lat.toFixed(5)}, ${a.lon.toFixed(5)}` : `${op} ${what}`;
}

function wiDrawActions() {
  const ol = document.getElementById("wi-actions");
  ol.innerHTML = wi.actions.length ? wi.actions.map((a, i) =>
    `<li data-op="${esc(a.op)}" data-lon="${a.lon ?? ""}" data-lat="${a.lat ?? ""}" data-category="${esc(a.category || "")}"` +
    ` data-facility="${esc(a.facility_id ?? "")}">${esc(wiActionText(a))} ` +
    `<button type="button" class="wi-undo" data-i="${i}">${esc(WL("wi_undo"))}</button></li>`).join("")
    : `<li class="muted">${esc(WL("wi_no_actions"))}</li>`;
  ol.querySelectorAll("button.wi-undo").forEach((b) => {
    b.onclick = () => { wi.actions.splice(Number(b.dataset.i), 1); wiRecompute(); };
  });
  if (wi.layers.sites) wi.layers.sites.remove();
  wi.layers.sites = L.layerGroup(wi.actions.filter((a) => a.lat !== undefined).map((a) =>
    L.circleMarker([a.lat, a.lon], { radius: 7, color: "#000", weight: 2, fillColor: "#ff6f00",
      fillOpacity: 1, className: "wi-site", interactive: false }))).addTo(map);
}

function wiDrawExisting() {
  if (wi.layers.existing) { wi.layers.existing.remove(); wi.layers.existing = null; }
  if (!document.getElementById("wi-existing").checked || !wi.setup) return;
  const gone = new Set(wi.actions.filter((a) => a.op !== "add").map((a) => String(a.facility_id)));
  wi.layers.existing = L.geoJSON(wi.setup.facilities, {
    filter: (f) => !gone.has(String(f.properties.facility_id)),
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 6, color: "#0d47a1", weight: 2,
      fillColor: "#90caf9", fillOpacity: 0.9, className: "wi-facility" }),
    onEachFeature: (f, layer) => {
      const p = f.properties;
      layer.on("click", (e) => {
        L.DomEvent.stopPropagation(e);
        const div = document.createElement("div");
        div.className = "wi-popup";
        div.dataset.facility = String(p.facility_id);
        div.innerHTML = `<b>${esc(wiCatName(p.category))}</b> ${esc(p.name || "")} (${esc(p.facility_id)})<br>` +
          `<button type="button" class="wi-remove">${esc(WL("wi_remove"))}</button> ` +
          `<button type="button" class="wi-move">${esc(WL("wi_move"))}</button>`;
        div.querySelector(".wi-remove").onclick = () => {
          map.closePopup();
          wi.actions.push({ op: "remove", facility_id: p.facility_id });
          wiRecompute();
        };
        div.querySelector(".wi-move").onclick = () => {
          map.closePopup();
          wiSetMode({ op: "move", facility_id: p.facility_id });
        };
        L.popup().setLatLng(e.latlng).setContent(div).openOn(map);
      });
    },
  }).addTo(map);
}

function wiResidents(v) {
  return Math.round(v).toLocaleString("en-US");
}

function wiDrawResult() {
  const box = document.getElementById("wi-result");
  const r = wi.result;
  if (wi.layers.changed) { wi.layers.changed.remove(); wi.layers.changed = null; }
  if (!r) { box.innerHTML = ""; return; }
  wi.layers.changed = L.geoJSON(r.buildings, {
    style: (f) => ({ color: f.properties.change === "newly_served" ? "#1b5e20" : "#b71c1c", weight: 2,
      fillColor: f.properties.change === "newly_served" ? "#66bb6a" : "#ef5350", fillOpacity: 0.85,
      className: "wi-changed wi-" + f.properties.change }),
    interactive: false,
  }).addTo(map);
  let html = `<h3>${esc(WL("wi_coverage"))}</h3>`;
  if (!r.categories.length) {
    html += `<p class="muted" id="wi-no-change">${esc(WL("wi_no_change"))}</p>`;
  } else {
    html += `<table id="wi-coverage"><tr><th>${esc(WL("wi_category"))}</th><th>${esc(WL("wi_limit"))}</th>` +
      `<th>${esc(WL("wi_residents_new"))}</th><th>${esc(WL("wi_buildings_new"))}</th>` +
      `<th>${esc(WL("wi_residents_lost"))}</th><th>${esc(WL("wi_buildings_lost"))}</th></tr>` +
      r.categories.map((c) => `<tr data-category="${esc(c.id)}"><td>${esc(c.name)}</td><td class="num">${c.limit_m} m</td>` +
        `<td class="num">${wiResidents(c.residents_newly_served)}</td><td class="num">${c.buildings_newly_served}</td>` +
        `<td class="num">${wiResidents(c.residents_no_longer_served)}</td><td class="num">${c.buildings_no_longer_served}</td></tr>`).join("") +
      "</table>";
  }
  if (r.indicators.length) {
    html += `<h3>${esc(WL("wi_indicators"))}</h3><table id="wi-indicators"><tr><th>${esc(L_("indicator"))}</th>` +
      `<th>${esc(WL("wi_before"))}</th><th>${esc(WL("wi_after"))}</th></tr>` +
      r.indicators.map((i) => `<tr data-indicator="${esc(i.id)}"><td>${esc(i.id)} ${esc(i.name)}</td>` +
        `<td class="num">${fmt(i.before)} ${esc(i.unit)} ${gradeSpan(i.grade_before.grade, i.grade_before.name)}</td>` +
        `<td class="num">${fmt(i.after)} ${esc(i.unit)} ${gradeSpan(i.grade_after.grade, i.grade_after.name)}</td></tr>`).join("") +
      "</table>";
  }
  const other = Object.entries(r.units_changed);
  if (other.length) {
    html += `<p class="muted small">${esc(WL("wi_units_changed"))}: ` +
      other.map(([lv, n]) => `${esc(L_(lv))} ${n}`).join(", ") + "</p>";
  }
  box.innerHTML = html;
}

async function wiRecompute() {
  const sec = document.getElementById("whatif");
  wiDrawActions();
  wiDrawExisting();
  const version = ++wi.version;
  if (!wi.actions.length) {
    wi.result = null; wiDrawResult();
    sec.dataset.state = "ready"; sec.dataset.version = String(version);
    return;
  }
  sec.dataset.state = "computing";
  document.getElementById("wi-status").textContent = WL("wi_computing");
  try {
    const res = await fetch(`/api/runs/${wi.run}/whatif?lang=${wi.lang}`, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ actions: wi.actions }) });
    const body = await res.json();
    if (version !== wi.version) return;  // a newer scenario is on its way
    if (!res.ok) {
      wi.actions.pop();  // the last change was refused: say why and keep the scenario before it
      wiDrawActions(); wiDrawExisting();
      document.getElementById("wi-status").textContent = body.error || res.statusText;
      sec.dataset.state = "error";
      sec.dataset.version = String(version);
      return;
    }
    wi.result = body;
    document.getElementById("wi-status").textContent = "";
    wiDrawResult();
    sec.dataset.state = "ready";
    sec.dataset.version = String(version);
  } catch (e) {
    document.getElementById("wi-status").textContent = String(e.message || e);
    sec.dataset.state = "error";
  }
}

map.on("click", (e) => {
  if (!wi.mode || !wi.setup) return;
  const lon = e.latlng.lng, lat = e.latlng.lat;
  if (wi.mode.op === "add") {
    wi.actions.push({ op: "add", category: document.getElementById("wi-category").value, lon, lat });
  } else if (wi.mode.op === "move") {
    wi.actions.push({ op: "move", facility_id: wi.mode.facility_id, lon, lat });
  }
  wiSetMode(null);
  wiRecompute();
});

async function wiSync() {
  if (!state.run || document.body.dataset.ready !== "1") return;
  if (wi.run === state.run && wi.lang === state.lang) return;
  const sec = wiPanel();
  const newRun = wi.run !== state.run;
  wi.run = state.run; wi.lang = state.lang;
  sec.dataset.state = "loading";
  try {
    const s = await fetch(`/api/runs/${wi.run}/whatif/setup?lang=${wi.lang}`);
    const body = await s.json();
    if (!s.ok) throw new Error(body.error || s.statusText);
    wi.setup = body;
    wiLabels();
    if (newRun) { wi.actions = []; wiSetMode(null); }
    await wiRecompute();
  } catch (e) {
    sec.dataset.state = "unavailable";
    sec.querySelector("#wi-status").textContent = String(e.message || e);
  }
}

new MutationObserver(() => wiSync()).observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
