/* chuzhi-graph map page: draws the regions of the JSON block #map-data as SVG paths,
   colours them by cases or units after the page's filters, drills into a prefecture's
   counties, and lists a region's cases and units. Names only ever reach the page through
   textContent and attribute values; no network, no eval. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("map");
  var tip = document.getElementById("tip");
  var stage = document.getElementById("stage");
  var FILTERS = ["edition", "track", "category", "domain", "unitType"];
  var state = { colourBy: data.colourBy, region: "", selected: null, filters: {} };
  var regions = {}, paths = {}, labels = {};
  data.regions.forEach(function (r) { regions[r.code] = r; });

  function el(tag, text, attrs, ns) {
    var node = ns ? document.createElementNS(NS, tag) : document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  // ------------------------------------------------------------ counting
  function unitKeys(u) {
    if (u.kind === "map") { return u.county ? [u.top, u.county] : [u.top]; }
    return [u.group];
  }
  function compute() {
    var f = state.filters, out = { cases: {}, units: {}, outside: [], nCases: 0, nUnits: {} };
    data.cases.forEach(function (c, ci) {
      if (f.edition && c.edition !== f.edition) { return; }
      if (f.track && c.track !== f.track) { return; }
      if (f.category && c.category !== f.category) { return; }
      if (f.domain && c.domains.indexOf(f.domain) < 0) { return; }
      var kept = c.units.filter(function (ui) { return !f.unitType || data.units[ui].type === f.unitType; });
      if (!kept.length) { return; }
      out.nCases += 1;
      var onMap = false;
      kept.forEach(function (ui) {
        var u = data.units[ui];
        out.nUnits[ui] = true;
        if (u.kind === "map") { onMap = true; }
        unitKeys(u).forEach(function (k) {
          (out.cases[k] = out.cases[k] || {})[ci] = true;
          (out.units[k] = out.units[k] || {})[ui] = true;
        });
      });
      if (!onMap) { out.outside.push(ci); }
    });
    return out;
  }
  function count(res, key, what) { return Object.keys((what === "cases" ? res.cases : res.units)[key] || {}).length; }

  function classes(top) {
    var p = data.palette.length, out = [], low = 1, i;
    if (top <= p) { for (i = 1; i <= top; i++) { out.push([i, i]); } return out; }
    for (i = 0; i < p; i++) {
      var high = i === p - 1 ? top : Math.min(Math.pow(2, i), top);
      if (low > high) { break; }
      out.push([low, high]);
      low = high + 1;
    }
    return out;
  }
  function colour(n, cls) {
    for (var i = 0; i < cls.length; i++) {
      if (n >= cls[i][0] && n <= cls[i][1]) {
        var p = data.palette.length;
        return cls.length === p ? data.palette[i] : data.palette[Math.round(i * (p - 1) / Math.max(cls.length - 1, 1))];
      }
    }
    return data.empty;
  }

  // ------------------------------------------------------------ drawing
  var layerTop = el("g", null, { id: "layer-top" }, true);
  var layerCounty = el("g", null, { id: "layer-county" }, true);
  var layerLabels = el("g", null, { id: "layer-labels" }, true);
  svg.appendChild(layerTop); svg.appendChild(layerCounty); svg.appendChild(layerLabels);
  var full = "0 0 " + data.size[0] + " " + data.size[1];
  svg.setAttribute("viewBox", full);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  var drillable = {};
  data.units.forEach(function (u) { if (u.kind === "map" && u.county) { drillable[u.top] = true; } });

  data.regions.forEach(function (r) {
    var p = el("path", null, { d: r.d, "data-code": r.code, "data-level": r.level }, true);
    (r.level === "county" ? layerCounty : layerTop).appendChild(p);
    paths[r.code] = p;
    var t = el("text", r.name, { x: r.x, y: r.y, "data-code": r.code }, true);
    layerLabels.appendChild(t);
    labels[r.code] = t;
    p.addEventListener("mousemove", function (ev) { showTip(r, ev); });
    p.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    p.addEventListener("click", function () { clickRegion(r); });
  });

  function shown(r) {
    return state.region ? (r.level === "county" && r.parent === state.region) : r.level !== "county";
  }
  function shortName(r) { return r.name.length > 6 && /自治州$/.test(r.name) ? r.name.slice(0, 2) + "州" : r.name; }

  var result = null;
  function redraw() {
    result = compute();
    var what = state.colourBy, visible = data.regions.filter(shown);
    var top = 0;
    visible.forEach(function (r) { top = Math.max(top, count(result, r.code, what)); });
    var cls = classes(top);
    data.regions.forEach(function (r) {
      var p = paths[r.code], t = labels[r.code], vis = shown(r);
      var nc = count(result, r.code, "cases"), nu = count(result, r.code, "units"), n = what === "cases" ? nc : nu;
      p.setAttribute("data-cases", nc); p.setAttribute("data-units", nu);
      if (r.level === "county") {
        p.style.display = vis ? "" : "none";
      } else if (state.region) {
        p.style.display = r.code === state.region ? "none" : "";
        p.style.opacity = "0.35";
      } else {
        p.style.display = ""; p.style.opacity = "1";
      }
      p.style.fill = vis ? colour(n, cls) : "#f7f7f7";
      // small counties crowd each other: only those with something to show are named
      t.style.display = vis && (r.level !== "county" || n > 0) ? "" : "none";
      t.textContent = n ? shortName(r) + " " + n : shortName(r);
      p.classList.toggle("chz-selected", state.selected === r.code);
    });
    drawLegend(cls, what);
    drawTable(visible, what);
    drawGroups();
    var nu = Object.keys(result.nUnits).length;
    document.getElementById("status").textContent = "显示 " + result.nCases + " 个案例、" + nu + " 个申报单位 / "
      + result.nCases + " cases, " + nu + " units";
    if (state.selected !== null) { drawDetail(state.selected); }
  }

  function drawLegend(cls, what) {
    var box = document.getElementById("legend"), word = what === "cases" ? "个案例" : "个单位";
    clear(box);
    var rows = [[0, 0]].concat(cls);
    rows.forEach(function (c) {
      var row = el("div", null, { "class": "chz-legend-row" });
      row.appendChild(el("span", null, { "class": "chz-swatch", style: "background:" + (c[1] ? colour(c[0], cls) : data.empty) }));
      row.appendChild(el("span", (c[0] === c[1] ? c[0] : c[0] + "–" + c[1]) + " " + word));
      box.appendChild(row);
    });
  }

  function drawTable(visible, what) {
    var body = document.querySelector("#regions tbody");
    clear(body);
    document.getElementById("regions-title").textContent = state.region
      ? regions[state.region].name + " 各区县 / by county" : data.province.name + " 各市州 / by prefecture";
    var rows = visible.map(function (r) {
      return { r: r, cases: count(result, r.code, "cases"), units: count(result, r.code, "units") };
    }).filter(function (x) { return x.cases > 0; });
    rows.sort(function (a, b) { return (b[what] - a[what]) || (a.r.code < b.r.code ? -1 : 1); });
    rows.forEach(function (x) {
      var tr = el("tr", null, { "data-code": x.r.code });
      tr.appendChild(el("td", x.r.name));
      tr.appendChild(el("td", x.r.code));
      tr.appendChild(el("td", x.cases, { "class": "n" }));
      tr.appendChild(el("td", x.units, { "class": "n" }));
      tr.addEventListener("click", function () { clickRegion(x.r); });
      body.appendChild(tr);
    });
    if (state.region) {  // units of the prefecture itself, in no county: listed, not dropped
      var own = { cases: {}, units: {} };
      data.units.forEach(function (u, ui) {
        if (u.kind === "map" && u.top === state.region && !u.county && result.nUnits[ui]) { own.units[ui] = true; }
      });
      Object.keys(result.cases[state.region] || {}).forEach(function (ci) {
        if (data.cases[ci].units.some(function (ui) { return own.units[ui]; })) { own.cases[ci] = true; }
      });
      var n = Object.keys(own.cases).length;
      if (n) {
        var tr = el("tr", null, { "data-group": "prefecture-level" });
        tr.appendChild(el("td", "市级单位（不在区县）"));
        tr.appendChild(el("td", state.region));
        tr.appendChild(el("td", n, { "class": "n" }));
        tr.appendChild(el("td", Object.keys(own.units).length, { "class": "n" }));
        body.appendChild(tr);
      }
    }
  }

  function drawGroups() {
    var body = document.querySelector("#groups tbody");
    clear(body);
    data.groups.forEach(function (g) {
      var tr = el("tr", null, { "data-group": g.key, "data-kind": g.kind });
      tr.appendChild(el("td", data.groupKinds[g.kind] + " · " + g.label));
      tr.appendChild(el("td", count(result, g.key, "cases"), { "class": "n" }));
      tr.appendChild(el("td", count(result, g.key, "units"), { "class": "n" }));
      tr.style.cursor = "pointer";
      tr.addEventListener("click", function () { state.selected = g.key; drawDetail(g.key); });
      body.appendChild(tr);
    });
    var box = document.getElementById("outside");
    clear(box);
    box.appendChild(el("h2", "不在湖北任何市州的案例 / cases outside any prefecture（" + result.outside.length + "）"));
    var ul = el("ul", null, { id: "outside-cases" });
    result.outside.forEach(function (ci) { ul.appendChild(caseItem(data.cases[ci])); });
    box.appendChild(ul);
    var miss = document.getElementById("missing");
    clear(miss);
    if (data.missing.length) {
      miss.appendChild(el("p", "无边界的地区代码 / codes without a boundary: " + data.missing.map(function (m) {
        return m[0] + " " + m[1];
      }).join("、"), { "class": "chz-note" }));
    }
  }

  // a resource's page in the published site, else its IRI
  function link(text, item) { return el("a", text, { href: item.href || item.id }); }
  function caseItem(c) { var li = el("li"); li.appendChild(link(c.title, c)); return li; }

  function drawDetail(key) {
    var title = document.getElementById("detail-title"), box = document.getElementById("detail");
    clear(box);
    var r = regions[key], g = data.groups.filter(function (x) { return x.key === key; })[0];
    title.textContent = r ? r.name + "（" + r.code + "）" : (g ? data.groupKinds[g.kind] + " · " + g.label : key);
    var cs = Object.keys(result.cases[key] || {}).map(Number).sort(function (a, b) { return a - b; });
    var us = Object.keys(result.units[key] || {}).map(Number).sort(function (a, b) { return a - b; });
    box.appendChild(el("h2", "案例 / cases（" + cs.length + "）"));
    var ul = el("ul", null, { id: "detail-cases" });
    cs.forEach(function (ci) { ul.appendChild(caseItem(data.cases[ci])); });
    box.appendChild(ul);
    box.appendChild(el("h2", "申报单位 / units（" + us.length + "）"));
    ul = el("ul", null, { id: "detail-units" });
    us.forEach(function (ui) {
      var u = data.units[ui], li = el("li");
      li.appendChild(link(u.name, u));
      li.appendChild(document.createTextNode(" · " + (u.typeLabel || "") + (u.region ? " · " + u.region : "")));
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function showTip(r, ev) {
    clear(tip);
    tip.appendChild(el("div", r.name, { style: "font-weight:bold" }));
    tip.appendChild(el("div", "代码 / code " + r.code));
    tip.appendChild(el("div", "案例 / cases " + count(result, r.code, "cases")));
    tip.appendChild(el("div", "单位 / units " + count(result, r.code, "units")));
    var box = stage.getBoundingClientRect();
    tip.style.display = "block";
    tip.style.left = (ev.clientX - box.left + 14) + "px";
    tip.style.top = (ev.clientY - box.top + 14) + "px";
  }

  function clickRegion(r) {
    state.selected = r.code;
    if (r.level !== "county" && drillable[r.code] && state.region !== r.code) { drill(r.code); return; }
    redraw();
  }
  function drill(code) {
    state.region = code;
    document.getElementById("back").style.display = code ? "block" : "none";
    if (code) {
      var b = paths[code].getBBox(), pad = Math.max(b.width, b.height) * 0.06;
      svg.setAttribute("viewBox", [b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad].join(" "));
    } else {
      svg.setAttribute("viewBox", full);
    }
    var bb = code ? paths[code].getBBox() : null;  // labels keep their size on screen when zoomed
    var scale = code ? Math.max(bb.width / data.size[0], bb.height / data.size[1]) : 1;
    Object.keys(labels).forEach(function (k) {
      labels[k].style.fontSize = (13 * scale) + "px";
      labels[k].style.strokeWidth = (3 * scale) + "px";
    });
    redraw();
  }
  document.getElementById("back").addEventListener("click", function () { state.selected = null; drill(""); });

  // ------------------------------------------------------------ filters
  FILTERS.forEach(function (name) {
    var select = document.getElementById("filter-" + name);
    (data.facets[name] || []).forEach(function (opt) { select.appendChild(el("option", opt[1], { value: opt[0] })); });
    select.disabled = !(data.facets[name] || []).length;
    select.addEventListener("change", function () { state.filters[name] = select.value; redraw(); });
  });
  var colourBy = document.getElementById("colour-by");
  colourBy.value = state.colourBy;
  colourBy.addEventListener("change", function () { state.colourBy = colourBy.value; redraw(); });

  if (data.region && paths[data.region]) { state.selected = data.region; drill(data.region); } else { redraw(); }
  document.body.setAttribute("data-ready", "1");
}());
