/* chuzhi-graph map page: draws the regions of the JSON block #map-data as SVG paths,
   colours them by the counts of the current filters (quantile classes over the regions
   shown), drills into a prefecture's counties, places the labels so that none overlaps
   another, keeps its state in the URL (#r=…&s=…&edition=…), and lists a region's cases
   and units (embedded, capped, or loaded from map-data/KEY.js in a published site).
   Names only ever reach the page through textContent and attribute values; no network
   requests but those scripts, no eval. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("map");
  var tip = document.getElementById("tip");
  var stage = document.getElementById("stage");
  var FILTERS = ["edition", "track", "category", "domain", "unitType"];
  var F = data.facets;
  var ND = (F.domain || []).length, NT = (F.unitType || []).length;
  var NTR = (F.track || []).length, NE = (F.edition || []).length, NC = (F.category || []).length;
  var NCOL = 1 + ND + NT;
  var state = { colourBy: data.colourBy, region: "", selected: null, filters: {} };
  FILTERS.forEach(function (k) { state.filters[k] = -1; });
  var regions = {}, paths = {}, labels = {}, areas = {};
  data.regions.forEach(function (r) { regions[r.code] = r; });

  function el(tag, text, attrs, ns) {
    var node = ns ? document.createElementNS(NS, tag) : document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  // ------------------------------------------------------------ counting
  /* counts travel run-length coded: -k stands for k zeros */
  function decode(rle, n) {
    var out = new Int32Array(n), i = 0;
    rle.forEach(function (v) { if (v < 0) { i -= v; } else { out[i++] = v; } });
    return out;
  }
  var CASES = {}, UNITS = {}, NSCOPE = 1 + NTR + NE + NC;
  Object.keys(data.counts).forEach(function (k) {
    CASES[k] = decode(data.counts[k][0], NC * NCOL);
    UNITS[k] = decode(data.counts[k][1], NSCOPE * NCOL);
  });
  /* the categories and the unit-count scope of the edition/track/category filters; null when
     they contradict each other (a category of another edition) */
  function scope() {
    var f = state.filters, cats = [], c;
    if (f.category >= 0) {
      var ce = data.catEdition[f.category];
      if ((f.edition >= 0 && ce !== f.edition) || (f.track >= 0 && data.editionTrack[ce] !== f.track)) { return null; }
      return { cats: [f.category], s: 1 + NTR + NE + f.category };
    }
    if (f.edition >= 0) {
      if (f.track >= 0 && data.editionTrack[f.edition] !== f.track) { return null; }
      for (c = 0; c < NC; c++) { if (data.catEdition[c] === f.edition) { cats.push(c); } }
      return { cats: cats, s: 1 + NTR + f.edition };
    }
    for (c = 0; c < NC; c++) { if (f.track < 0 || data.editionTrack[data.catEdition[c]] === f.track) { cats.push(c); } }
    return { cats: cats, s: f.track >= 0 ? 1 + f.track : 0 };
  }
  function column() {
    var f = state.filters;
    return f.domain >= 0 ? 1 + f.domain : f.unitType >= 0 ? 1 + ND + f.unitType : 0;
  }
  var sc = null, col = 0;
  function nCases(key) {
    var a = CASES[key], n = 0;
    if (!a || !sc) { return 0; }
    for (var i = 0; i < sc.cats.length; i++) { n += a[sc.cats[i] * NCOL + col]; }
    return n;
  }
  function nUnits(key) { var a = UNITS[key]; return a && sc ? a[sc.s * NCOL + col] : 0; }
  function measure(key) { return state.colourBy === "units" ? nUnits(key) : nCases(key); }
  function amount(v, w) {  /* a value, or the range v–w, with its unit */
    if (state.colourBy === "share") {
      var t = nCases("*");
      function pc(x) { return (t ? (100 * x / t).toFixed(1) : "0.0") + "%"; }
      return w === undefined || w === v ? pc(v) : pc(v) + "–" + pc(w);
    }
    return (w === undefined || w === v ? v : v + "–" + w) + (state.colourBy === "units" ? " 个单位" : " 个案例");
  }

  /* quantile classes of the non-zero values, ties in one class (as mapcounts.quantile_classes) */
  function classes(values) {
    var k = data.palette.length, vals = values.filter(function (v) { return v > 0; }).sort(function (a, b) { return a - b; });
    var distinct = vals.filter(function (v, i) { return i === 0 || v !== vals[i - 1]; }), out = [], i;
    if (!vals.length) { return out; }
    if (distinct.length <= k) { return distinct.map(function (v) { return [v, v]; }); }
    var low = vals[0];
    for (i = 1; i <= k; i++) {
      var high = vals[Math.min(vals.length - 1, Math.ceil(i * vals.length / k) - 1)];
      if (high < low) { continue; }
      out.push([low, high]);
      var above = distinct.filter(function (v) { return v > high; });
      if (!above.length) { break; }
      low = above[0];
    }
    return out;
  }
  function colour(n, cls) {
    for (var i = 0; i < cls.length; i++) {
      if (n >= cls[i][0] && n <= cls[i][1]) {
        var p = data.palette.length;
        return cls.length > 1 ? data.palette[Math.round(i * (p - 1) / (cls.length - 1))] : data.palette[Math.floor(p / 2)];
      }
    }
    return data.empty;
  }

  // ------------------------------------------------------------ drawing
  var layerTop = el("g", null, { id: "layer-top" }, true);
  var layerCounty = el("g", null, { id: "layer-county" }, true);
  var layerLeaders = el("g", null, { id: "layer-leaders", "aria-hidden": "true" }, true);
  var layerLabels = el("g", null, { id: "layer-labels", "aria-hidden": "true" }, true);
  svg.appendChild(layerTop); svg.appendChild(layerCounty); svg.appendChild(layerLeaders); svg.appendChild(layerLabels);
  var full = [0, 0, data.size[0], data.size[1]];
  var box = full;
  svg.setAttribute("viewBox", full.join(" "));
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  var drillable = {};
  data.regions.forEach(function (r) {
    if (r.level === "county" && CASES[r.code]) { drillable[r.parent] = true; }
  });

  data.regions.forEach(function (r) {
    var p = el("path", null, { d: r.d, "data-code": r.code, "data-level": r.level, tabindex: "0", role: "button" }, true);
    (r.level === "county" ? layerCounty : layerTop).appendChild(p);
    paths[r.code] = p;
    var t = el("text", r.name, { x: r.x, y: r.y, "data-code": r.code }, true);
    layerLabels.appendChild(t);
    labels[r.code] = t;
    p.addEventListener("mousemove", function (ev) { showTip(r, ev); });
    p.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    p.addEventListener("click", function () { clickRegion(r); });
    p.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); clickRegion(r); }
    });
    p.addEventListener("focus", function () { var b = p.getBoundingClientRect(); showTip(r, { clientX: b.left + b.width / 2, clientY: b.top + b.height / 2 }); });
    p.addEventListener("blur", function () { tip.style.display = "none"; });
  });

  /* boxes and areas while every path is drawn (a hidden path has none) */
  var bboxes = {};
  data.regions.forEach(function (r) {
    var b = paths[r.code].getBBox();
    bboxes[r.code] = { x: b.x, y: b.y, width: b.width, height: b.height };
    areas[r.code] = b.width * b.height;
  });

  function shown(r) {
    return state.region ? (r.level === "county" && r.parent === state.region) : r.level !== "county";
  }
  function shortName(r) { return r.name.length > 6 && /自治州$/.test(r.name) ? r.name.slice(0, 2) + "州" : r.name; }
  function valueText(n) {
    if (state.colourBy === "share") { var t = nCases("*"); return t ? (100 * n / t).toFixed(1) + "%" : "0%"; }
    return String(n);
  }

  function redraw() {
    sc = scope(); col = column();
    var visible = data.regions.filter(shown);
    var cls = classes(visible.map(function (r) { return measure(r.code); }));
    data.regions.forEach(function (r) {
      var p = paths[r.code], vis = shown(r);
      var nc = nCases(r.code), nu = nUnits(r.code), n = measure(r.code);
      p.setAttribute("data-cases", nc); p.setAttribute("data-units", nu);
      if (r.level === "county") {
        p.style.display = vis ? "" : "none";
      } else if (state.region) {
        p.style.display = r.code === state.region ? "none" : "";
        p.style.opacity = "0.35";
      } else {
        p.style.display = ""; p.style.opacity = "1";
      }
      p.setAttribute("tabindex", vis ? "0" : "-1");
      p.setAttribute("aria-label", r.name + "：" + nc + " 个案例，" + nu + " 个单位" +
                     (vis && r.level !== "county" && drillable[r.code] ? "（回车查看区县 / Enter: counties）" : ""));
      p.style.fill = vis ? colour(n, cls) : "#f7f7f7";
      p.classList.toggle("chz-selected", state.selected === r.code);
      labels[r.code].textContent = n ? shortName(r) + " " + valueText(n) : shortName(r);
    });
    placeLabels(visible);
    drawLegend(cls);
    drawTable(visible);
    drawGroups();
    var tc = nCases("*"), tu = nUnits("*");
    document.getElementById("status").textContent = "显示 " + tc + " 个案例、" + tu + " 个申报单位 / "
      + tc + " cases, " + tu + " units" + (sc ? "" : "（届次、赛道与类别不一致 / edition, track and category disagree）");
    if (state.selected !== null) { drawDetail(state.selected); } else { clearDetail(); }
  }

  /* Labels: biggest region first, at its centre if free, else on rings around it with a
     leader line; a label that fits nowhere in the view is left out (the table has it). */
  function placeLabels(visible) {
    clear(layerLeaders);
    /* map units per screen pixel: labels keep their size on screen at every zoom and width */
    var rect = svg.getBoundingClientRect(), px = rect.width < 600 ? 11 : 13;
    var scale = rect.width && rect.height ? Math.max(box[2] / rect.width, box[3] / rect.height) * px / 13 : 1;
    var placed = [], order = [];
    data.regions.forEach(function (r) {
      if (!shown(r)) { labels[r.code].style.display = "none"; labels[r.code].setAttribute("data-placed", "0"); }
    });
    visible.forEach(function (r) {
      var t = labels[r.code];
      t.style.fontSize = (13 * scale) + "px";
      t.style.strokeWidth = (3 * scale) + "px";
      t.style.display = "";
      order.push(r);
    });
    order.sort(function (a, b) { return areas[b.code] - areas[a.code] || (a.code < b.code ? -1 : 1); });
    var gap = 2 * scale, angles = 12;
    order.forEach(function (r) {
      var t = labels[r.code];
      t.setAttribute("x", r.x); t.setAttribute("y", r.y);
      var bb = t.getBBox(), w = bb.width, h = bb.height, dy = bb.y + h / 2 - r.y;
      var spot = null;
      for (var ring = 0; ring <= 7 && !spot; ring++) {
        for (var a = 0; a < (ring ? angles : 1) && !spot; a++) {
          var ang = 2 * Math.PI * a / angles - Math.PI / 2, rad = ring * h * 1.15;
          var cx = r.x + rad * Math.cos(ang) * 1.6, cy = r.y + rad * Math.sin(ang);
          var b2 = [cx - w / 2 - gap, cy - h / 2 - gap, cx + w / 2 + gap, cy + h / 2 + gap];
          if (b2[0] < box[0] || b2[1] < box[1] || b2[2] > box[0] + box[2] || b2[3] > box[1] + box[3]) { continue; }
          var free = placed.every(function (o) { return b2[2] <= o[0] || o[2] <= b2[0] || b2[3] <= o[1] || o[3] <= b2[1]; });
          if (free) { spot = [cx, cy, b2]; }
        }
      }
      if (!spot) { t.style.display = "none"; t.setAttribute("data-placed", "0"); return; }
      placed.push(spot[2]);
      t.setAttribute("x", spot[0]); t.setAttribute("y", spot[1] - dy);
      t.setAttribute("data-placed", "1");
      if (spot[0] !== r.x || spot[1] !== r.y) {
        var ex = Math.max(spot[2][0], Math.min(r.x, spot[2][2])), ey = Math.max(spot[2][1], Math.min(r.y, spot[2][3]));
        layerLeaders.appendChild(el("line", null, { x1: r.x, y1: r.y, x2: ex, y2: ey, "stroke-width": scale }, true));
        layerLeaders.appendChild(el("circle", null, { cx: r.x, cy: r.y, r: 2 * scale }, true));
      }
    });
  }

  function drawLegend(cls) {
    var lbox = document.getElementById("legend");
    clear(lbox);
    lbox.appendChild(el("div", state.colourBy === "share" ? "占全部案例的比例 / share of the cases shown（" + nCases("*") + "）"
      : state.colourBy === "units" ? "申报单位数 / applicant units" : "案例数 / cases", { "class": "chz-note" }));
    [[0, 0]].concat(cls).forEach(function (c) {
      var row = el("div", null, { "class": "chz-legend-row" });
      row.appendChild(el("span", null, { "class": "chz-swatch", style: "background:" + (c[1] ? colour(c[0], cls) : data.empty) }));
      row.appendChild(el("span", amount(c[0], c[1])));
      lbox.appendChild(row);
    });
    lbox.appendChild(el("div", "分级：按显示地区的分位数 / classes: quantiles of the regions shown", { "class": "chz-note" }));
  }

  function keyRow(tr, action) {
    tr.setAttribute("tabindex", "0");
    tr.addEventListener("click", action);
    tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); action(); } });
  }
  function drawTable(visible) {
    var body = document.querySelector("#regions tbody");
    clear(body);
    document.getElementById("regions-title").textContent = state.region
      ? regions[state.region].name + " 各区县 / by county" : data.province.name + " 各市州 / by prefecture";
    var rows = visible.map(function (r) {
      return { r: r, cases: nCases(r.code), units: nUnits(r.code), n: measure(r.code) };
    }).filter(function (x) { return x.cases > 0; });
    rows.sort(function (a, b) { return (b.n - a.n) || (a.r.code < b.r.code ? -1 : 1); });
    rows.forEach(function (x) {
      var tr = el("tr", null, { "data-code": x.r.code });
      tr.appendChild(el("td", x.r.name));
      tr.appendChild(el("td", x.r.code));
      tr.appendChild(el("td", x.cases, { "class": "n" }));
      tr.appendChild(el("td", x.units, { "class": "n" }));
      keyRow(tr, function () { clickRegion(x.r); });
      body.appendChild(tr);
    });
    if (state.region) {  // units of the prefecture itself, in no county: listed, not dropped
      var key = "own:" + state.region, n = nCases(key);
      if (n) {
        var tr = el("tr", null, { "data-group": "prefecture-level" });
        tr.appendChild(el("td", "市级单位（不在区县）"));
        tr.appendChild(el("td", state.region));
        tr.appendChild(el("td", n, { "class": "n" }));
        tr.appendChild(el("td", nUnits(key), { "class": "n" }));
        keyRow(tr, function () { select(key); });
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
      tr.appendChild(el("td", nCases(g.key), { "class": "n" }));
      tr.appendChild(el("td", nUnits(g.key), { "class": "n" }));
      keyRow(tr, function () { select(g.key); });
      body.appendChild(tr);
    });
    var tr = el("tr", null, { "data-group": "outside" });
    tr.appendChild(el("td", "不在湖北任何市州的案例 / cases outside any prefecture"));
    tr.appendChild(el("td", nCases("outside"), { "class": "n", id: "outside-count" }));
    tr.appendChild(el("td", ""));
    keyRow(tr, function () { select("outside"); });
    body.appendChild(tr);
    var miss = document.getElementById("missing");
    clear(miss);
    if (data.missing.length) {
      miss.appendChild(el("p", "无边界的地区代码 / codes without a boundary: " + data.missing.map(function (m) {
        return m[0] + " " + m[1];
      }).join("、"), { "class": "chz-note" }));
    }
  }

  // ------------------------------------------------------------ lists of a region
  var loaded = {}, pending = {}, PAGE = 100;
  /* a published site: a region's lists come in parts of 1,000 rows (map-data/KEY.js, KEY.1.js, …) */
  window.chuzhiMapList = function (key, part) {
    var have = loaded[key];
    if (!have) {
      loaded[key] = { cases: part.cases, units: part.units, parts: part.parts, got: 1, nCases: part.nCases, nUnits: part.nUnits };
    } else {
      have.cases = have.cases.concat(part.cases); have.units = have.units.concat(part.units); have.got += 1;
    }
    delete pending[key];
    if (state.selected === key) { drawDetail(key); }
  };
  function loadPart(key, i) {
    if (pending[key]) { return; }
    pending[key] = true;
    var s = document.createElement("script");
    s.src = data.listDir + "/" + ({ "*": "all" }[key] || key.replace(":", "-")) + (i ? "." + i : "") + ".js";
    s.onerror = function () { delete pending[key]; document.getElementById("detail").textContent = "列表未能载入 / the list could not be loaded"; };
    document.head.appendChild(s);
  }
  function lists(key) {
    if (!data.listDir) { return data.lists[key] || { cases: [], units: [], nCases: 0, nUnits: 0 }; }
    if (loaded[key]) { return loaded[key]; }
    loadPart(key, 0);
    return null;
  }
  function caseOk(row) {
    var f = state.filters;
    return sc && sc.cats.indexOf(row[2]) >= 0 && (f.domain < 0 || row[3].indexOf(f.domain) >= 0) &&
      row[4].indexOf(f.unitType < 0 ? -1 : f.unitType) >= 0;
  }
  function unitOk(row) {
    var f = state.filters;
    return sc && (f.unitType < 0 || row[2] === f.unitType) && row[4].some(function (k) {
      return sc.cats.indexOf(k[0]) >= 0 && (f.domain < 0 || k[1].indexOf(f.domain) >= 0);
    });
  }
  function link(text, href) { return el("a", text, { href: href }); }
  function listBox(id, rows, ok, item) {
    var ul = el("ul", null, { id: id }), kept = rows.filter(ok), shownN = 0;
    function more() {
      kept.slice(shownN, shownN + PAGE).forEach(function (row) { ul.appendChild(item(row)); });
      shownN = Math.min(kept.length, shownN + PAGE);
      if (btn) { btn.style.display = shownN < kept.length ? "" : "none"; btn.textContent = "显示更多 / show more（" + (kept.length - shownN) + "）"; }
    }
    var btn = kept.length > PAGE ? el("button", "", { type: "button", "class": "chz-more" }) : null;
    more();
    var wrap = el("div");
    wrap.appendChild(ul);
    if (btn) { btn.addEventListener("click", more); wrap.appendChild(btn); }
    return wrap;
  }
  function clearDetail() {
    document.getElementById("detail-title").textContent = "点击地区查看案例 / click a region";
    clear(document.getElementById("detail"));
  }
  function drawDetail(key) {
    var title = document.getElementById("detail-title"), dbox = document.getElementById("detail");
    clear(dbox);
    var r = regions[key], g = data.groups.filter(function (x) { return x.key === key; })[0];
    var own = key.indexOf("own:") === 0 ? regions[key.slice(4)] : null;
    title.textContent = r ? r.name + "（" + r.code + "）" : own ? own.name + " 市级单位（不在区县）" :
      key === "outside" ? "不在湖北任何市州的案例 / cases outside any prefecture" :
      g ? data.groupKinds[g.kind] + " · " + g.label : key;
    var L = lists(key);
    var nc = nCases(key), nu = nUnits(key);
    dbox.appendChild(el("h3", "案例 / cases（" + nc + "）"));
    if (!L) { dbox.appendChild(el("p", "载入中… / loading…", { "class": "chz-note", id: "detail-loading" })); return; }
    dbox.appendChild(listBox("detail-cases", L.cases, caseOk, function (row) {
      var li = el("li"); li.appendChild(link(row[0], row[1])); return li;
    }));
    if (key !== "outside") {
      dbox.appendChild(el("h3", "申报单位 / units（" + nu + "）"));
      dbox.appendChild(listBox("detail-units", L.units, unitOk, function (row) {
        var li = el("li");
        li.appendChild(link(row[0], row[1]));
        li.appendChild(document.createTextNode(" · " + (row[2] >= 0 ? F.unitType[row[2]][1] : "") + (row[3] ? " · " + row[3] : "")));
        return li;
      }));
    }
    if (L.parts && L.got < L.parts) {  // the next part of a long list, on request
      var next = el("button", "载入更多 / load more（已载入 " + L.got + " / " + L.parts + " 部分 / parts loaded）",
                    { type: "button", id: "detail-next-part" });
      next.addEventListener("click", function () { loadPart(key, L.got); });
      dbox.appendChild(next);
    } else if (!L.parts && (L.nCases > L.cases.length || L.nUnits > L.units.length)) {  // a capped list: say so, and where the rest is
      var note = el("p", "此页只列出前 " + data.cap + " 个案例和单位（共 " + L.nCases + " 个案例、" + L.nUnits +
                    " 个单位），再按筛选显示 / this page lists only the first " + data.cap + " of each. ", { "class": "chz-note", id: "detail-capped" });
      var code = r ? r.code : own ? own.code : g && g.code;
      if (code && data.regionLinks[code]) { note.appendChild(link("完整列表 / full list: " + code, data.regionLinks[code])); }
      dbox.appendChild(note);
    }
  }

  function showTip(r, ev) {
    clear(tip);
    tip.appendChild(el("div", r.name, { style: "font-weight:bold" }));
    tip.appendChild(el("div", "代码 / code " + r.code));
    tip.appendChild(el("div", "案例 / cases " + nCases(r.code)));
    tip.appendChild(el("div", "单位 / units " + nUnits(r.code)));
    if (state.colourBy === "share") { tip.appendChild(el("div", "占比 / share " + valueText(nCases(r.code)))); }
    var b = stage.getBoundingClientRect();
    tip.style.display = "block";
    tip.style.left = Math.min(ev.clientX - b.left + 14, b.width - tip.offsetWidth - 4) + "px";
    tip.style.top = (ev.clientY - b.top + 14) + "px";
  }

  // ------------------------------------------------------------ actions and the URL
  function clickRegion(r) {
    if (r.level !== "county" && drillable[r.code] && state.region !== r.code) {
      state.region = r.code; state.selected = r.code;
    } else {
      state.selected = r.code;
    }
    apply(); commit();
  }
  function select(key) { state.selected = key; apply(); commit(); }
  function zoom() {
    document.getElementById("back").style.display = state.region ? "block" : "none";
    if (state.region && paths[state.region]) {
      var b = bboxes[state.region], pad = Math.max(b.width, b.height) * 0.06;
      box = [b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad];
    } else {
      box = full;
    }
    svg.setAttribute("viewBox", box.join(" "));
  }
  function apply() {
    zoom();
    FILTERS.forEach(function (name) {
      var v = state.filters[name];
      document.getElementById("filter-" + name).value = v >= 0 ? F[name][v][0] : "";
    });
    document.getElementById("colour-by").value = state.colourBy;
    redraw();
  }
  function toHash() {
    var parts = [];
    if (state.region) { parts.push("r=" + state.region); }
    if (state.selected) { parts.push("s=" + encodeURIComponent(state.selected)); }
    FILTERS.forEach(function (name) {
      var v = state.filters[name];
      if (v >= 0) { parts.push(name + "=" + encodeURIComponent(F[name][v][0])); }
    });
    if (state.colourBy !== data.colourBy) { parts.push("by=" + state.colourBy); }
    return parts.join("&");
  }
  function commit() {
    var h = toHash();
    if (location.hash.replace(/^#/, "") !== h) { location.hash = h; }  /* a history entry: Back undoes it */
  }
  function fromHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (p) {
      var i = p.indexOf("=");
      if (i > 0) { params[p.slice(0, i)] = decodeURIComponent(p.slice(i + 1)); }
    });
    var has = location.hash.length > 1;  /* no hash: the page as written (render map --region) */
    state.region = has ? (params.r && drillable[params.r] ? params.r : "") : (drillable[data.region] ? data.region : "");
    state.selected = has ? (params.s || null) : (state.region || null);
    FILTERS.forEach(function (name) {
      state.filters[name] = -1;
      (F[name] || []).forEach(function (opt, i) { if (opt[0] === params[name]) { state.filters[name] = i; } });
    });
    state.colourBy = ["cases", "units", "share"].indexOf(params.by) >= 0 ? params.by : data.colourBy;
  }
  window.addEventListener("hashchange", function () {  /* Back, Forward, an edited URL; not our own commit() */
    if (location.hash.replace(/^#/, "") === toHash()) { return; }
    fromHash(); apply();
  });
  document.getElementById("back").addEventListener("click", function () { state.region = ""; state.selected = null; apply(); commit(); });

  // ------------------------------------------------------------ filters
  FILTERS.forEach(function (name) {
    var sel = document.getElementById("filter-" + name);
    (F[name] || []).forEach(function (opt) { sel.appendChild(el("option", opt[1], { value: opt[0] })); });
    sel.disabled = !(F[name] || []).length;
    sel.addEventListener("change", function () {
      state.filters[name] = -1;
      (F[name] || []).forEach(function (opt, i) { if (opt[0] === sel.value) { state.filters[name] = i; } });
      /* domain and unit type one at a time: the page holds their counts, not their joint counts
         (docs/map.md); choosing one clears the other, and the page says so */
      var cleared = "";
      if (name === "domain" && state.filters.domain >= 0 && state.filters.unitType >= 0) {
        state.filters.unitType = -1; cleared = "已取消“单位类型”筛选 / the unit-type filter was cleared";
      }
      if (name === "unitType" && state.filters.unitType >= 0 && state.filters.domain >= 0) {
        state.filters.domain = -1; cleared = "已取消“治理领域”筛选 / the domain filter was cleared";
      }
      apply(); commit();
      if (cleared) {
        document.getElementById("status").textContent += "；" + cleared + "：治理领域与单位类型一次只用一个 / "
          + "domain and unit type apply one at a time";
      }
    });
  });
  var colourBy = document.getElementById("colour-by");
  colourBy.addEventListener("change", function () { state.colourBy = colourBy.value; apply(); commit(); });

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { placeLabels(data.regions.filter(shown)); }, 100);
  });

  fromHash();
  apply();
  window.chuzhiMap = { state: state, nCases: nCases, nUnits: nUnits };
  document.body.setAttribute("data-ready", "1");
}());
