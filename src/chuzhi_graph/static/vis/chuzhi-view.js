/* chuzhi-graph page script. The JSON data block holds every node and edge with the cases
   behind it; this script decides what is visible (filters, legend, isolates, degree,
   clusters), hands only that to vis-network, and draws the labels itself so that they
   keep a readable size on screen and never overlap. Everything shown is built as text
   (textContent), never as HTML. Positions come from the data and never move.
   Licence: MIT (chuzhi-graph). */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("graph-data").textContent);
  /* nodes and edges travel as one list per key; rows again here */
  /* a column travels plain, as a dictionary and codes, as IRI prefixes, codes and the rest,
     or as numbered lines (lists of lines) */
  function column(col) {
    if (Array.isArray(col)) { return col; }
    var out = new Array(col.codes.length), i;
    for (i = 0; i < out.length; i++) {
      var c = col.codes[i];
      out[i] = c === null ? null : col.lines ? c.map(function (k) { return col.lines[k]; }) :
               col.dict ? col.dict[c] : (col.rest[i] === null ? null : col.prefix[c] + col.rest[i]);
    }
    return out;
  }
  function rowsOf(table) {
    var keys = table.keys, cols = {}, out;
    keys.forEach(function (k) { cols[k] = column(table.cols[k]); });
    var n = keys.length ? cols[keys[0]].length : 0;
    out = new Array(n);
    for (var i = 0; i < n; i++) {
      var row = {};
      for (var k = 0; k < keys.length; k++) { var v = cols[keys[k]][i]; if (v !== null) { row[keys[k]] = v; } }
      out[i] = row;
    }
    return out;
  }
  D.nodes = rowsOf(D.nodes);
  D.edges = rowsOf(D.edges);
  D.nodes.forEach(function (n) { if (!n.names) { n.names = [n.label]; } });
  var N = D.nodes, E = D.edges, C = D.cases;
  var byId = {};
  var groups = {}, edgeKinds = {};
  D.legend.nodes.forEach(function (g) { groups[g.key] = g; });
  D.legend.edges.forEach(function (k) { edgeKinds[k.key] = k; });
  var parentEdges = [];
  var commSize = {};
  N.forEach(function (n, i) {
    n.i = i;
    byId[n.id] = n;
    if (n.comm !== undefined) { commSize[n.comm] = (commSize[n.comm] || 0) + 1; }
  });
  E.forEach(function (e, i) { e.i = i; if (e.kind === "parent") { parentEdges.push(e); } });

  var state = {
    edition: -1, category: -1, domain: -1, hiddenGroups: {}, hiddenEdgeKinds: {},
    hideIsolates: D.large, minDegree: 0, minWeight: 0, clusterBy: D.large ? "comm" : "", colourBy: D.large ? "comm" : "group",
    expanded: {}, revealed: {}, selected: null
  };

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function $(id) { return document.getElementById(id); }

  /* ------------------------------------------------------------ what is visible */
  var view = null;  /* the last computed visibility */

  var computedFor = null;
  function compute() {
    /* visibility depends on these alone: opening a cluster or revealing a search hit reuses it */
    var key = JSON.stringify([state.edition, state.category, state.domain, state.hiddenGroups, state.hiddenEdgeKinds,
                              state.hideIsolates, state.minDegree, state.minWeight]);
    if (view && key === computedFor) { return view; }
    computedFor = key;
    var filtering = state.edition >= 0 || state.category >= 0 || state.domain >= 0;
    var act = new Uint8Array(C.length), i, j, n, e;
    for (i = 0; i < C.length; i++) {
      act[i] = (state.edition < 0 || C[i][3] === state.edition) &&
               (state.category < 0 || C[i][1] === state.category) &&
               (state.domain < 0 || C[i][2].indexOf(state.domain) >= 0) ? 1 : 0;
    }
    var vis = new Uint8Array(N.length), count = new Int32Array(N.length);
    var agg = D.agg ? aggregated() : null;
    for (i = 0; i < N.length; i++) {
      n = N[i];
      var k = 0;
      if (agg) {
        k = agg.nodes[i];
        vis[i] = filtering ? (k > 0 ? 1 : 0) : 1;
      } else if (n.cases.length) {
        for (j = 0; j < n.cases.length; j++) { k += act[n.cases[j]]; }
        vis[i] = filtering ? (k > 0 ? 1 : 0) : 1;
      } else {
        vis[i] = filtering ? 0 : 1;
      }
      /* cases of its sub-units count for the panel; visibility stays with its own cases and
         the parent rule below (a hidden sub-unit does not keep its parent) */
      if (n.via && !agg) { k = countVia(n, act, k); }
      count[i] = k;
      if (state.hiddenGroups[n.group]) { vis[i] = 0; }
    }
    /* a parent organisation stays when a visible unit hangs under it */
    for (var round = 0, changed = true; changed && round < 20; round++) {
      changed = false;
      parentEdges.forEach(function (pe) {
        if (vis[pe.from] && !vis[pe.to] && !state.hiddenGroups[N[pe.to].group]) { vis[pe.to] = 1; changed = true; }
      });
    }
    var weight = new Int32Array(E.length), evis = new Uint8Array(E.length), degree = new Int32Array(N.length);
    var topWeight = 0, topCount = 0;  /* the domains view scales to what the filters leave */
    for (i = 0; i < N.length; i++) { if (vis[i] && count[i] > topCount) { topCount = count[i]; } }
    for (i = 0; i < E.length; i++) {
      e = E[i];
      if (!vis[e.from] || !vis[e.to] || state.hiddenEdgeKinds[e.kind]) { continue; }
      if (agg) {
        if (agg.edges[i] > topWeight) { topWeight = agg.edges[i]; }
        if (!agg.edges[i] || agg.edges[i] < state.minWeight) { continue; }
        weight[i] = agg.edges[i];
      } else if (e.cases.length) {
        var w = 0;
        for (j = 0; j < e.cases.length; j++) { w += act[e.cases[j]]; }
        if (!w) { continue; }
        weight[i] = w;
      } else {
        weight[i] = 1;
      }
      evis[i] = 1;
      degree[e.from]++; degree[e.to]++;
    }
    var passed = vis.slice();  /* before isolates and min links: to say why a unit is hidden */
    if (state.hideIsolates || state.minDegree > 0) {
      var least = Math.max(state.minDegree, state.hideIsolates ? 1 : 0);
      for (i = 0; i < N.length; i++) { if (vis[i] && degree[i] < least) { vis[i] = 0; } }
      for (i = 0; i < E.length; i++) { if (evis[i] && (!vis[E[i].from] || !vis[E[i].to])) { evis[i] = 0; } }
    }
    view = { act: act, vis: vis, count: count, weight: weight, evis: evis, filtering: filtering,
             passed: passed, degree: degree, topCount: topCount, topWeight: topWeight };
    return view;
  }

  /* a node's own active cases (k) plus those of its sub-units not among them */
  function countVia(n, act, k) {
    var own = {}, j;
    for (j = 0; j < n.cases.length; j++) { own[n.cases[j]] = 1; }
    for (j = 0; j < n.via.length; j += 2) {
      if (act[n.via[j]] && !own[n.via[j]]) { k++; own[n.via[j]] = 1; }
    }
    return k;
  }
  /* every case of a node: [case, sub-unit node or -1 (its own)], its own first */
  function allCases(n) {
    var out = n.cases.map(function (c) { return [c, -1]; });
    for (var j = 0; n.via && j < n.via.length; j += 2) { out.push([n.via[j], n.via[j + 1]]); }
    return out;
  }
  function totalCases(n) {
    var seen = {};
    allCases(n).forEach(function (p) { seen[p[0]] = 1; });
    return Object.keys(seen).length;
  }
  /* The domains view travels without its cases: counts per award category (they add up) and
     per domain filter (D.agg, run-length coded: -k is k zeros), decoded at first use. */
  var aggRows = null;
  function aggregated() {
    function decode(rle, len) {
      var out = new Int32Array(len), k = 0;
      rle.forEach(function (v) { if (v < 0) { k -= v; } else { out[k++] = v; } });
      return out;
    }
    var nn = N.length, ne = E.length, opts = D.domains.length + 1;
    if (!aggRows) {
      aggRows = D.agg.nodes.map(function (rle, c) { return [decode(rle, opts * nn), decode(D.agg.edges[c], opts * ne)]; });
    }
    var o = state.domain + 1, out = { nodes: new Int32Array(nn), edges: new Int32Array(ne) }, c, k;
    for (c = 0; c < aggRows.length; c++) {
      if (state.category >= 0 && c !== state.category) { continue; }
      if (state.edition >= 0 && D.categories[c].edition !== state.edition) { continue; }
      for (k = 0; k < nn; k++) { out.nodes[k] += aggRows[c][0][o * nn + k]; }
      for (k = 0; k < ne; k++) { out.edges[k] += aggRows[c][1][o * ne + k]; }
    }
    return out;
  }

  function clusterKey(n) {
    if (!state.clusterBy) { return null; }
    var key = state.clusterBy === "group" ? n.group : n[state.clusterBy];
    return key === undefined || key === "" ? null : String(key);
  }

  /* ------------------------------------------------------------ vis items */
  var nodes = new vis.DataSet([]);
  var edges = new vis.DataSet([]);
  var shown = [];       /* displayed nodes, label priority first */
  var display = {};     /* display id -> {x, y, size, label, kind, members} */
  var shownEdges = {};  /* display edge id -> {edges: [edge index], weight} */
  var neighbours = {};

  function nodeColour(n) {
    if (state.colourBy === "comm" && n.comm !== undefined) {
      var rank = n.comm - 1;
      return rank < D.communityColours.length && commSize[n.comm] > 1 ? D.communityColours[rank] : "#BBBBBB";
    }
    return groups[n.group] ? groups[n.group].color : "#999999";
  }
  /* The domains view: area and width from zero, in proportion to the largest count and the
     heaviest link the filters leave (an edition's picture reads as well as the whole one's). */
  function width(w) {
    if (D.agg && D.keys.width_range) { return 1 + 11 * w / Math.max(view.topWeight, 1); }
    return Math.min(1 + 1.5 * (w - 1), 8);
  }

  function areaSize(k, top) { return Math.round(10 * Math.max(3, 30 * Math.sqrt(k / Math.max(top, 1)))) / 10; }

  function refresh() {
    var v = compute(), i, n, e;
    var rep = new Array(N.length), members = {}, key;
    for (i = 0; i < N.length; i++) {
      if (!v.vis[i]) { continue; }
      key = clusterKey(N[i]);
      if (key !== null && !state.expanded[key] && !state.revealed[N[i].id]) { (members[key] = members[key] || []).push(i); }
    }
    /* clusters of fewer than D.smallGroup members (and units alone in theirs) become one
       "N small groups" entry instead of a grid of tiny clusters; its panel lists them */
    smallGroups = [];
    var small = {};
    if (state.clusterBy && !state.expanded[SMALL]) {
      Object.keys(members).forEach(function (k) {
        if (members[k].length < D.smallGroup) { small[k] = true; smallGroups.push(k); }
      });
    }
    if (smallGroups.length < 2) { small = {}; smallGroups = []; }
    display = {};
    for (i = 0; i < N.length; i++) {
      if (!v.vis[i]) { continue; }
      n = N[i];
      key = clusterKey(n);
      if (key !== null && small[key] && !state.revealed[n.id]) {
        rep[i] = "cluster:" + SMALL;
      } else if (key !== null && members[key] && members[key].length > 1 && !state.revealed[n.id]) {
        rep[i] = "cluster:" + key;
      } else {
        rep[i] = n.id;
        var place = key !== null && D.clusters[state.clusterBy] && D.clusters[state.clusterBy][key];
        var x = place ? place[0] + n.x - place[2] : n.x, y = place ? place[1] + n.y - place[3] : n.y;
        if (place && state.revealed[n.id] && !state.expanded[key] && members[key] && members[key].length > 1) {
          /* a search hit taken out of a collapsed cluster sits on its rim, not under it */
          var dx = n.x - place[2], dy = n.y - place[3], len = Math.sqrt(dx * dx + dy * dy) || 1;
          var rim = Math.min(12 + 6 * Math.sqrt(members[key].length), 90) + n.size + 6;
          if (len < rim) { x = place[0] + (len > 1 ? dx / len : 0) * rim; y = place[1] + (len > 1 ? dy / len : -1) * rim; }
        }
        display[n.id] = { id: n.id, node: n, size: D.agg ? areaSize(v.count[i], v.topCount) : n.size, label: n.label, kind: n.kind, x: x, y: y,
                          colour: nodeColour(n), shape: (groups[n.group] || {}).shape || "dot" };
      }
    }
    if (smallGroups.length) { addSmallGroups(members, small); }
    Object.keys(members).forEach(function (k) {
      var list = members[k];
      if (list.length < 2 || small[k]) { return; }
      var sx = 0, sy = 0, best = list[0], place = (D.clusters[state.clusterBy] || {})[k];
      list.forEach(function (m) { sx += N[m].x; sy += N[m].y; if (N[m].size > N[best].size) { best = m; } });
      if (place) { sx = place[0] * list.length; sy = place[1] * list.length; }
      var name = state.clusterBy === "comm" ? "社区 " + k + "：" + N[best].label + " 等" :
                 state.clusterBy === "group" ? (groups[k] ? groups[k].label : k) : k;
      display["cluster:" + k] = { id: "cluster:" + k, cluster: k, x: sx / list.length, y: sy / list.length,
                                  size: Math.min(12 + 6 * Math.sqrt(list.length), 90),
                                  label: name + "（" + list.length + "）", kind: "cluster", members: list,
                                  colour: nodeColour(N[best]), shape: "dot" };
    });
    makeRoom();
    shownEdges = {};
    for (i = 0; i < E.length; i++) {
      if (!v.evis[i]) { continue; }
      e = E[i];
      var a = rep[e.from], b = rep[e.to];
      if (a === b) { continue; }
      var plain = a === N[e.from].id && b === N[e.to].id;
      var id = plain ? "e" + i : (a < b ? a + "|" + b : b + "|" + a);
      var s = shownEdges[id] || (shownEdges[id] = { id: id, from: a, to: b, edges: [], weight: 0, kind: plain ? e.kind : "cluster" });
      s.edges.push(i);
      s.weight += v.weight[i];
    }
    if (state.selected && !display[state.selected]) { state.selected = null; closePanel(); }
    findNeighbours();
    var nodeItems = [], edgeItems = [];
    Object.keys(display).forEach(function (id) {
      var d = display[id];
      nodeItems.push({ id: id, x: d.x, y: d.y, size: d.size, shape: d.shape,
                       color: { background: d.colour, border: "#333",
                                highlight: { background: d.colour, border: "#000" },
                                hover: { background: d.colour, border: "#000" } },
                       borderWidth: d.kind === "cluster" ? 3 : 1 });
    });
    Object.keys(shownEdges).forEach(function (id) {
      var s = shownEdges[id];
      var style = edgeKinds[s.kind] || { color: "#999999", dashes: false, arrows: "" };
      s.width = s.kind === "cluster" ? Math.min(1 + Math.log(s.weight), 8) : width(s.weight);
      s.style = style;
      edgeItems.push({ id: id, from: s.from, to: s.to, width: s.width,
                       dashes: !!style.dashes, arrows: style.arrows || "",
                       color: { color: style.color, opacity: s.kind === "cluster" ? 0.35 : 0.85,
                                highlight: style.color, hover: style.color } });
    });
    sync(nodes, nodeItems);
    sync(edges, edgeItems);
    shown = Object.keys(display).map(function (id) { return display[id]; });
    shown.sort(function (p, q) { return q.size - p.size || (p.label < q.label ? -1 : p.label > q.label ? 1 : 0); });
    updateLegend(v);
  }

  var SMALL = "~small", smallGroups = [];
  function placeOf(k) { return (D.clusters[state.clusterBy] || {})[k]; }
  function addSmallGroups(members, small) {
    var sx = 0, sy = 0, k = 0, units = 0, all = [];
    smallGroups.forEach(function (g) {
      var place = placeOf(g);
      units += members[g].length;
      all = all.concat(members[g]);
      if (place) { sx += place[0]; sy += place[1]; k++; }
    });
    if (!k) { all.forEach(function (m) { sx += N[m].x; sy += N[m].y; }); k = all.length; }
    smallGroups.sort(function (a, b) { return members[b].length - members[a].length || (a < b ? -1 : 1); });
    display["cluster:" + SMALL] = {
      id: "cluster:" + SMALL, cluster: SMALL, x: sx / k, y: sy / k, kind: "cluster", members: all, small: true,
      size: Math.min(14 + 3 * Math.sqrt(smallGroups.length), 60), colour: "#DDDDDD", shape: "dot",
      groups: smallGroups.map(function (g) { return [g, members[g]]; }),
      label: smallGroups.length + " 个小团体 / small groups", units: units
    };
  }
  /* An expanded cluster shows its members as they lie in the full layout, around the cluster's
     place; everything else moves out radially by the room they take, so nothing is covered. */
  function makeRoom() {
    if (!state.clusterBy) { return; }
    Object.keys(state.expanded).sort().forEach(function (k) {
      var place = placeOf(k);
      if (!place) { return; }
      var cx = place[0], cy = place[1], r = 0, own = {};
      Object.keys(display).forEach(function (id) {
        var d = display[id];
        if (d.node && clusterKey(d.node) === k) {
          own[id] = true;
          r = Math.max(r, Math.sqrt((d.x - cx) * (d.x - cx) + (d.y - cy) * (d.y - cy)) + d.size);
        }
      });
      var shift = Math.max(0, r - Math.min(12 + 6 * Math.sqrt(place[4]), 90)) + 30;
      if (!r) { return; }
      Object.keys(display).forEach(function (id) {
        if (own[id]) { return; }
        var d = display[id], dx = d.x - cx, dy = d.y - cy, dist = Math.sqrt(dx * dx + dy * dy);
        if (dist < 1e-6) { dx = 1; dy = 0; dist = 1; }
        var f = (dist + shift) / dist;
        d.x = cx + dx * f;
        d.y = cy + dy * f;
      });
    });
  }

  function findNeighbours() {
    neighbours = {};
    if (!state.selected) { return; }
    neighbours[state.selected] = true;
    Object.keys(shownEdges).forEach(function (id) {
      var s = shownEdges[id];
      if (s.from === state.selected) { neighbours[s.to] = true; }
      if (s.to === state.selected) { neighbours[s.from] = true; }
    });
  }

  /* Hand vis-network only what changed: re-sending an unchanged edge costs it as much as a new one. */
  function sync(set, items) {
    var want = {}, changed = [], last = set.chzLast || (set.chzLast = {});
    items.forEach(function (it) {
      var text = JSON.stringify(it);
      want[it.id] = text;
      if (last[it.id] !== text) { changed.push(it); }
    });
    var gone = Object.keys(last).filter(function (id) { return want[id] === undefined; });
    if (gone.length) { set.remove(gone); }
    if (changed.length) { set.update(changed); }
    set.chzLast = want;
  }

  /* ------------------------------------------------------------ the network */
  var container = $("graph");
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, D.options);
  var status = $("status");
  function say(text) { status.textContent = text; }

  /* Labels: drawn on top, at a fixed size on screen, biggest node first; a label that would
     overlap one already drawn waits until the reader zooms in. */
  var widths = {}, LABEL_TRIES = 600;
  var labels = [];
  var highlighted = { nodes: [], edges: [] };
  function shortLabel(d) {
    var limit = d.kind === "case" ? 12 : d.kind === "cluster" ? 24 : 16;
    return d.label.length > limit ? d.label.slice(0, limit - 1) + "…" : d.label;
  }
  /* a cluster's shorter names: "社区 3（782）" (or its name and size), then its number alone
     (inside its disc, else beside it) */
  function clusterShort(d) {
    if (d.small) { return [smallGroups.length + " 组", String(smallGroups.length)]; }
    var n = d.members.length;
    if (state.clusterBy === "comm") { return ["社区 " + d.cluster + "（" + n + "）", String(d.cluster)]; }
    var name = d.label.replace(/（\d+）$/, "");
    return [(name.length > 6 ? name.slice(0, 5) + "…" : name) + "（" + n + "）", String(n)];
  }
  network.on("afterDrawing", function (ctx) {
    var scale = network.getScale();
    var tl = network.DOMtoCanvas({ x: 0, y: 0 });
    var br = network.DOMtoCanvas({ x: container.clientWidth, y: container.clientHeight });
    var placed = [], cell = 48 / scale, grid = {};  /* 48 px cells: dense clusters stay cheap */
    labels = [];
    function cellsOf(b) {
      var out = [];
      for (var gx = Math.floor(b[0] / cell); gx <= Math.floor(b[2] / cell); gx++) {
        for (var gy = Math.floor(b[1] / cell); gy <= Math.floor(b[3] / cell); gy++) { out.push(gx + "," + gy); }
      }
      return out;
    }
    /* Highlight: everything is veiled, then the selected node, its links and its neighbours
       are drawn again on top. No item changes, so it costs the same at 30 nodes or 30,000. */
    highlighted = { nodes: [], edges: [] };
    if (state.selected && display[state.selected]) {
      ctx.fillStyle = "rgba(255,255,255,0.72)";
      ctx.fillRect(tl.x, tl.y, br.x - tl.x, br.y - tl.y);
      Object.keys(shownEdges).forEach(function (id) {
        var s = shownEdges[id];
        if (s.from !== state.selected && s.to !== state.selected) { return; }
        var a = display[s.from], b = display[s.to];
        ctx.strokeStyle = s.style.color;
        ctx.lineWidth = Math.max(s.width, 1.5) / Math.max(scale, 0.3);
        ctx.setLineDash(s.style.dashes ? [6 / scale, 4 / scale] : []);
        ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); ctx.stroke();
        highlighted.edges.push(id);
      });
      ctx.setLineDash([]);
      Object.keys(neighbours).filter(function (id) { return id !== state.selected; }).concat([state.selected])
            .forEach(function (id) {
        var d = display[id];
        ctx.fillStyle = d.colour;
        ctx.strokeStyle = id === state.selected ? "#000" : "#333";
        ctx.lineWidth = (id === state.selected ? 3 : 1) / scale;
        ctx.beginPath();
        if (d.shape === "square") { ctx.rect(d.x - d.size, d.y - d.size, 2 * d.size, 2 * d.size); }
        else if (d.shape === "diamond") {
          ctx.moveTo(d.x, d.y - d.size); ctx.lineTo(d.x + d.size, d.y); ctx.lineTo(d.x, d.y + d.size); ctx.lineTo(d.x - d.size, d.y);
          ctx.closePath();
        } else { ctx.arc(d.x, d.y, d.size, 0, 2 * Math.PI); }
        ctx.fill(); ctx.stroke();
        highlighted.nodes.push(id);
      });
    }
    function put(b) { cellsOf(b).forEach(function (key) { (grid[key] = grid[key] || []).push(b); }); }
    /* nodes first: a label never covers a node, a cluster's neither */
    shown.forEach(function (d) {
      if (d.x < tl.x - 200 / scale || d.x > br.x + 200 / scale || d.y < tl.y - 200 / scale || d.y > br.y + 200 / scale) { return; }
      var b = [d.x - d.size, d.y - d.size, d.x + d.size, d.y + d.size];
      b.owner = d.id;
      put(b);
    });
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.lineJoin = "round";
    function clashes(box, d) {
      if (box[0] < tl.x || box[2] > br.x || box[1] < tl.y || box[3] > br.y) { return true; }  /* cut off by the edge */
      var cells = cellsOf(box);
      for (var c = 0; c < cells.length; c++) {
        var list = grid[cells[c]] || [];
        for (var k = 0; k < list.length; k++) {
          var o = list[k];
          if (o.owner !== d.id && box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3]) { return true; }
        }
      }
      return false;
    }
    /* Spots tried in turn: below the node, above, right, left, then the four corners. */
    function spots(d, w, h) {
      var g = 2 / scale, r = d.size + g, cx = d.x - w / 2, cy = d.y - h / 2;
      return [[cx, d.y + r], [cx, d.y - r - h], [d.x + r, cy], [d.x - r - w, cy],
              [d.x + r * 0.7, d.y + r * 0.7], [d.x - r * 0.7 - w, d.y + r * 0.7],
              [d.x + r * 0.7, d.y - r * 0.7 - h], [d.x - r * 0.7 - w, d.y - r * 0.7 - h]];
    }
    /* the selection's label first, drawn even where it would touch its cluster */
    var order = state.selected && display[state.selected] ?
      [display[state.selected]].concat(shown.filter(function (x) { return x.id !== state.selected; })) : shown;
    /* at most LABEL_TRIES nodes on screen are tried, biggest first: with every node of a
       100,000-case view on screen, trying all 33,000 cost seconds per redraw for ~20 labels */
    for (var i = 0, tried = 0; i < order.length && labels.length < 400 && tried < LABEL_TRIES; i++) {
      var d = order[i];
      if (d.x < tl.x - 200 / scale || d.x > br.x + 200 / scale || d.y < tl.y - 200 / scale || d.y > br.y + 200 / scale) { continue; }
      tried++;
      var px = d.kind === "case" ? D.labelPx["case"] : D.labelPx["default"];
      /* a cluster whose name finds no room gets a shorter one, then its number inside its own
         disc: every cluster on screen can be told apart (its tooltip and the legend name it) */
      var texts = [shortLabel(d)].concat(d.kind === "cluster" ? clusterShort(d) : []);
      if (texts.length > 2) { texts.push(texts[2]); }  /* the number beside the disc when it does not fit in */
      var box = null, text = "", w = 0, h = px * 1.3 / scale, inside = false, tries = [];
      ctx.font = px + "px sans-serif";
      for (var v = 0; v < texts.length && !box; v++) {
        text = texts[v];
        var wkey = px + "|" + text;
        if (widths[wkey] === undefined) { widths[wkey] = ctx.measureText(text).width; }
        w = widths[wkey] / scale;
        inside = v === 2;
        tries = inside ? (Math.max(w, h) <= 1.7 * d.size ? [[d.x - w / 2, d.y - h / 2]] : []) : spots(d, w, h);
        for (var t = 0; t < tries.length && !box; t++) {
          var b = [tries[t][0], tries[t][1], tries[t][0] + w, tries[t][1] + h];
          if (!clashes(b, d)) { box = b; }
        }
        if (!box && d.id === state.selected) { box = [tries[0][0], tries[0][1], tries[0][0] + w, tries[0][1] + h]; }
      }
      if (!box) { continue; }
      put(box);
      placed.push(box);
      var keep = !state.selected || neighbours[d.id];
      ctx.font = (px / scale) + "px sans-serif";
      ctx.lineWidth = 3 / scale;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.strokeText(text, box[0], box[1] + 0.15 * px / scale);
      ctx.fillStyle = keep ? "#1a1a1a" : "rgba(120,120,120,0.5)";
      ctx.fillText(text, box[0], box[1] + 0.15 * px / scale);
      labels.push({ id: d.id, text: text, px: px, inside: inside, fontSize: px / scale, scale: scale,
                    left: (box[0] - tl.x) * scale, top: (box[1] - tl.y) * scale,
                    right: (box[2] - tl.x) * scale, bottom: (box[3] - tl.y) * scale });
    }
  });

  /* ------------------------------------------------------------ tooltips and the panel */
  var tooltip = $("tooltip");
  function rows(box, lines) {
    lines.forEach(function (line) {
      var row = el("div", null, "chz-tip-row");
      if (line[0]) { row.appendChild(el("b", line[0] + "：")); }
      if (Array.isArray(line[1])) {
        var list = el("ul");
        line[1].forEach(function (item) { list.appendChild(el("li", item)); });
        row.appendChild(list);
      } else {
        row.appendChild(el("span", line[1]));
      }
      box.appendChild(row);
    });
  }
  function caseTitles(list, max) {
    var active = list.filter(function (c) { return !view.filtering || view.act[c]; });
    var out = active.slice(0, max).map(function (c) { return C[c][0]; });
    if (active.length > max) { out.push("… 另 " + (active.length - max) + " 个 / more"); }
    return out;
  }
  function nodeLines(d) {
    if (d.kind === "cluster") {
      if (d.small) {
        return [["", d.label + "（" + d.units + " 个单位 / units）"], ["", "点击列出 / click to list them"]];
      }
      return [["", d.label], ["", "点击展开 / click to expand"]];
    }
    var n = d.node, lines = [["", n.label]].concat(n.tip);
    if (D.agg) { lines.push(["案例 / cases", (view.filtering ? view.count[n.i] + " / " : "") + n.total]); }
    if ((n.cases.length || n.via) && n.kind !== "case") {
      lines.push(["案例 / cases（" + (view.filtering ? view.count[n.i] + " / " : "") + totalCases(n) + "）",
                  caseTitles(allCases(n).map(function (p) { return p[0]; }).filter(function (c, k, all) {
                    return all.indexOf(c) === k; }), 8)]);
    }
    return lines;
  }
  function edgeLines(s) {
    if (s.kind === "cluster") { return [["", s.edges.length + " 条连接 / links, " + s.weight + " 个案例 / cases"]]; }
    var e = E[s.edges[0]];
    var label = e.label || (edgeKinds[e.kind] || {}).label || e.kind;
    var lines = [["", N[e.from].label + " — " + N[e.to].label], ["", label]];
    if (e.cases.length && (e.kind === "co-applicant" || e.kind === "co-occurrence")) {
      lines.push([s.weight + " 个案例 / cases", caseTitles(e.cases, 10)]);
    } else if (e.cases.length) {
      lines.push(["案例 / case", caseTitles(e.cases, 10)]);
    } else if (D.agg) {
      lines.push(["", s.weight + " 个案例 / cases"]);
    }
    return lines;
  }
  function showTip(lines, pointer) {
    tooltip.textContent = "";
    rows(tooltip, lines);
    tooltip.style.display = "block";
    var r = container.getBoundingClientRect();
    var x = Math.min(r.left + pointer.x + 14, r.right - tooltip.offsetWidth - 4);
    var y = Math.min(r.top + pointer.y + 14, r.bottom - tooltip.offsetHeight - 4);
    tooltip.style.left = Math.max(r.left, x) + "px";
    tooltip.style.top = Math.max(r.top, y) + "px";
  }
  function hideTip() { tooltip.style.display = "none"; }
  network.on("hoverNode", function (p) { if (display[p.node]) { showTip(nodeLines(display[p.node]), p.pointer.DOM); } });
  network.on("hoverEdge", function (p) { if (shownEdges[p.edge]) { showTip(edgeLines(shownEdges[p.edge]), p.pointer.DOM); } });
  network.on("blurNode", hideTip);
  network.on("blurEdge", hideTip);
  network.on("dragStart", hideTip);

  var panel = $("panel");
  function closePanel() { panel.hidden = true; panel.textContent = ""; }
  function openPanel(d) {
    panel.textContent = "";
    var n = d.node;
    panel.appendChild(el("h2", n.label));
    rows(panel, n.tip);
    if (D.agg) { panel.appendChild(el("b", "案例 / cases：" + (view.filtering ? view.count[n.i] + " / " : "") + n.total)); }
    var every = allCases(n);
    if (every.length) {
      panel.appendChild(el("b", "案例 / cases（" + (view.filtering ? view.count[n.i] + " / " : "") + totalCases(n) + "）："));
      var list = el("ul");
      list.id = "panel-cases";
      every.slice(0, 200).forEach(function (p) {
        var item = el("li", C[p[0]][0], view.filtering && !view.act[p[0]] ? "chz-hidden-case" : null);
        item.tabIndex = 0;
        if (n.via) {  /* a parent organisation: each case says how it is the unit's */
          item.appendChild(el("span", p[1] < 0 ? "（直接 / direct）" : "（经 / through " + N[p[1]].label + "）", "chz-via"));
        }
        list.appendChild(item);
      });
      if (every.length > 200) { list.appendChild(el("li", "… " + (every.length - 200))); }
      panel.appendChild(list);
    }
    var where = el("div", null, "chz-tip-row");
    if (n.href) {
      var a = el("a", "资源页面 / resource page");
      a.href = n.href;
      a.id = "resource-link";
      where.appendChild(a);
    } else {
      where.appendChild(el("b", "IRI："));
      where.appendChild(el("code", n.id, "chz-iri"));
    }
    panel.appendChild(where);
    panel.hidden = false;
  }
  /* the "N small groups" entry: a list of the groups; one opens in place, or all of them */
  function openSmallGroups(d) {
    panel.textContent = "";
    panel.appendChild(el("h2", d.label));
    var all = el("button", "全部展开 / expand all");
    all.type = "button";
    all.id = "expand-small";
    all.addEventListener("click", function () { state.expanded[SMALL] = true; closePanel(); refresh(); remember(); });
    panel.appendChild(all);
    var list = el("ul");
    list.id = "small-groups";
    d.groups.slice(0, 300).forEach(function (g) {
      var best = g[1][0];
      g[1].forEach(function (m) { if (N[m].size > N[best].size) { best = m; } });
      var item = el("li"), open = el("button", N[best].label + (g[1].length > 1 ? " 等" : "") + "（" + g[1].length + "）");
      open.type = "button";
      open.setAttribute("data-group", g[0]);
      open.addEventListener("click", function () {
        state.expanded[g[0]] = true;
        closePanel();
        refresh();
        remember();
        network.fit({ nodes: g[1].map(function (m) { return N[m].id; }).filter(function (id) { return display[id]; }),
                      animation: false, maxZoomLevel: 1.6 });
      });
      item.appendChild(open);
      list.appendChild(item);
    });
    if (d.groups.length > 300) { list.appendChild(el("li", "… " + (d.groups.length - 300))); }
    panel.appendChild(list);
    panel.hidden = false;
  }
  function redrawSoon() { network.body.emitter.emit("_requestRedraw"); }
  function select(id) {
    if (!display[id]) { return; }
    state.selected = id;
    findNeighbours();
    network.selectNodes([id]);
    openPanel(display[id]);
    redrawSoon();
  }
  function unselect() {
    if (!state.selected) { return; }
    state.selected = null;
    findNeighbours();
    network.unselectAll();
    closePanel();
    redrawSoon();
  }
  network.on("click", function (p) {
    hideTip();
    if (!p.nodes.length) { unselect(); remember(); return; }
    var d = display[p.nodes[0]];
    if (d && d.small) { openSmallGroups(d); return; }
    if (d && d.kind === "cluster") {
      state.expanded[d.cluster] = true;
      say("已展开 / expanded: " + d.label);
      refresh();
      remember();
      return;
    }
    select(p.nodes[0]);
    remember();
  });

  /* ------------------------------------------------------------ fit, search */
  function fit() {
    network.fit({ animation: false, maxZoomLevel: 1.6 });
    unselect();
    remember();
  }
  $("fit").addEventListener("click", fit);
  /* arrows pan by a fifth of the canvas, + and - zoom around its centre */
  function pan(dx, dy) {
    var at = network.getViewPosition(), scale = network.getScale();
    network.moveTo({ position: { x: at.x + dx * container.clientWidth / 5 / scale,
                                 y: at.y + dy * container.clientHeight / 5 / scale }, animation: false });
  }
  function zoom(factor) {
    network.moveTo({ scale: Math.min(Math.max(network.getScale() * factor, 0.02), 20), animation: false });
  }
  var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  document.addEventListener("keydown", function (ev) {
    var t = ev.target && ev.target.tagName;
    if (t === "INPUT" || t === "SELECT" || t === "TEXTAREA" || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (ev.key === "f" || ev.key === "F" || ev.key === "0") { fit(); ev.preventDefault(); }
    else if (ev.key === "Escape") { unselect(); remember(); }
    else if (moves[ev.key]) { pan(moves[ev.key][0], moves[ev.key][1]); ev.preventDefault(); }
    else if (ev.key === "+" || ev.key === "=") { zoom(1.25); ev.preventDefault(); }
    else if (ev.key === "-" || ev.key === "_") { zoom(0.8); ev.preventDefault(); }
  });

  /* Exact name or alias first, then names that contain the text; visible hits before hidden. */
  var lowered = false;  /* names in lower case, made at the first search (not before the first drawing) */
  function find(text) {
    var q = text.trim().toLowerCase();
    if (!q) { return null; }
    if (!lowered) {
      N.forEach(function (n) { n.lnames = n.names.map(function (s) { return s.toLowerCase(); }); });
      lowered = true;
    }
    var best = null, bestRank = 9, i, n, rank;
    for (i = 0; i < N.length; i++) {
      n = N[i];
      rank = n.lnames.indexOf(q) >= 0 ? 0 : (n.lnames.some(function (s) { return s.indexOf(q) >= 0; }) ? 2 : 9);
      if (rank === 9) { continue; }
      if (!view.vis[i]) { rank += 1; }
      if (rank < bestRank) { best = n; bestRank = rank; if (rank === 0) { break; } }
    }
    return best;
  }
  function search(text) {
    lastSearch = text.trim();
    var n = find(text);
    if (!n) { say("未找到 / not found: " + text); return null; }
    if (!view.vis[n.i]) {
      if (view.passed[n.i] && state.hideIsolates && view.degree[n.i] === 0) {
        say("找到 / found: " + n.label + "，但被“隐藏孤立点”隐藏 / hidden by hide isolates");
      } else if (view.passed[n.i]) {
        say("找到 / found: " + n.label + "，但被“最小连接数”隐藏 / hidden by min links");
      } else {
        say("找到 / found: " + n.label + "，但被当前筛选隐藏 / hidden by the current filters");
      }
      return null;
    }
    var key = clusterKey(n);
    /* a hit inside a collapsed cluster is taken out of it (the cluster stays): one node to add */
    if (!display[n.id] && key !== null && !state.expanded[key]) { state.revealed[n.id] = true; refresh(); }
    select(n.id);
    network.focus(n.id, { scale: Math.max(network.getScale() * 1.5, 1.5), animation: false });
    say("找到 / found: " + n.label);
    remember();
    return n.id;
  }
  var box = $("search"), lastSearch = "";
  box.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { search(box.value); } });
  box.addEventListener("change", function () { search(box.value); });
  function fillNames() {  /* the search box's suggestions: after the first drawing */
    var names = $("names");
    N.slice().sort(function (p, q) { return q.size - p.size; }).slice(0, 3000).forEach(function (n) {
      n.names.forEach(function (name) { var opt = el("option"); opt.value = name; names.appendChild(opt); });
    });
  }

  /* ------------------------------------------------------------ filters and legend */
  /* group(v) names the <optgroup> of an option (categories: their edition), or null */
  function fillSelect(id, values, key, text, group) {
    var sel = $(id), groupsSeen = {};
    if (!values.length) { sel.parentNode.style.display = "none"; return; }
    values.forEach(function (v, i) {
      var o = el("option", text(v)), parent = sel, g = group ? group(v) : null;
      o.value = String(i);
      if (g !== null) {
        parent = groupsSeen[g] || (groupsSeen[g] = sel.appendChild(el("optgroup")));
        parent.label = g;
      }
      parent.appendChild(o);
    });
    sel.addEventListener("change", function () { state[key] = parseInt(sel.value, 10); autoWeight(); refresh(); remember(); });
  }
  function depth(d) { var k = 0; while (d.parent >= 0 && k < 10) { d = D.domains[d.parent]; k++; } return k; }
  fillSelect("filter-edition", D.editions, "edition", function (e) { return e.label; });
  fillSelect("filter-category", D.categories, "category", function (c) { return c.label; },
             function (c) { return D.editions[c.edition].label; });
  fillSelect("filter-domain", D.domains, "domain", function (d) {
    var k = depth(d);
    return (k ? "\u3000".repeat(k) + "└ " : "") + d.label;
  });
  var iso = $("hide-isolates");
  iso.checked = state.hideIsolates;
  iso.addEventListener("change", function () { state.hideIsolates = iso.checked; refresh(); remember(); });
  var deg = $("min-degree");
  deg.addEventListener("input", function () {
    state.minDegree = parseInt(deg.value, 10);
    $("min-degree-value").textContent = deg.value;
    refresh();
    remember(true);
  });
  /* The domains view's link threshold starts at the weight of the 3n-th heaviest link (n
     domains) and, until the reader moves it, follows the filters the same way: an edition's
     links are lighter than the whole corpus's, and a fixed threshold would hide most of them. */
  function autoWeight() {
    if (!$("min-weight") || state.weightSet) { return; }
    var w = Array.prototype.filter.call(aggregated().edges, function (x) { return x > 0; });
    w.sort(function (a, b) { return b - a; });
    state.minWeight = w.length > 3 * N.length ? w[3 * N.length - 1] : 1;
    $("min-weight").value = String(state.minWeight);
    $("min-weight-value").textContent = String(state.minWeight);
  }
  if ($("min-weight")) {
    state.minWeight = parseInt($("min-weight").value, 10);
    state.weightSet = false;
    $("min-weight").addEventListener("input", function () {
      state.weightSet = true;
      state.minWeight = parseInt(this.value, 10);
      $("min-weight-value").textContent = this.value;
      refresh();
      remember(true);
    });
  }
  if ($("cluster-by")) {
    $("cluster-by").value = state.clusterBy;
    $("cluster-by").addEventListener("change", function () {
      state.clusterBy = this.value; state.expanded = {}; state.revealed = {}; refresh(); remember();
    });
    $("colour-by").value = state.colourBy;
    $("colour-by").addEventListener("change", function () { state.colourBy = this.value; legendColours(); refresh(); remember(); });
  }

  var legend = $("legend-items");
  var countSpans = { node: {}, edge: {} };
  function legendRow(entry, isEdge) {
    var row = el("label", null, "chz-legend-row");
    var check = el("input");
    check.type = "checkbox";
    check.checked = true;
    check.setAttribute(isEdge ? "data-edge-kind" : "data-group", entry.key);
    check.addEventListener("change", function () {
      var table = isEdge ? state.hiddenEdgeKinds : state.hiddenGroups;
      if (check.checked) { delete table[entry.key]; } else { table[entry.key] = true; }
      refresh();
      remember();
    });
    var swatch = el("span", null, isEdge ? "chz-swatch-edge" : "chz-swatch " + entry.shape);
    if (isEdge) {
      swatch.style.borderTopColor = entry.color;
      swatch.style.borderTopStyle = entry.dashes ? "dashed" : "solid";
    } else {
      swatch.style.backgroundColor = entry.color;
    }
    row.appendChild(check);
    row.appendChild(swatch);
    row.appendChild(el("span", entry.label, "chz-legend-label"));
    var count = el("span", "(" + entry.count + ")", "chz-legend-count");
    row.appendChild(count);
    countSpans[isEdge ? "edge" : "node"][entry.key] = count;
    return row;
  }
  D.legend.nodes.forEach(function (entry) { legend.appendChild(legendRow(entry, false)); });
  D.legend.edges.forEach(function (entry) { legend.appendChild(legendRow(entry, true)); });
  var keys = $("keys");
  var sizeKey = keys.appendChild(el("div", D.keys.size + "（" + D.keys.size_range[0] + "–" + D.keys.size_range[1] + "）", "chz-key"));
  var widthKey = D.keys.width ?
    keys.appendChild(el("div", D.keys.width + "（" + D.keys.width_range[0] + "–" + D.keys.width_range[1] + "）", "chz-key")) : null;
  function updateKeys(v) {  /* the domains view: the ranges of what is shown */
    if (!D.agg) { return; }
    var low = -1, lowW = -1, i;
    for (i = 0; i < N.length; i++) { if (v.vis[i] && (low < 0 || v.count[i] < low)) { low = v.count[i]; } }
    for (i = 0; i < E.length; i++) { if (v.evis[i] && (lowW < 0 || v.weight[i] < lowW)) { lowW = v.weight[i]; } }
    sizeKey.textContent = D.keys.size + "（" + Math.max(low, 0) + "–" + v.topCount + "）";
    if (widthKey) { widthKey.textContent = D.keys.width + "（" + Math.max(lowW, 0) + "–" + v.topWeight + "）"; }
  }

  /* The legend follows the colour mode: by community it lists the coloured communities (and
     grey for the others) and the unit types keep their shapes but not their colours. */
  var commLegend = el("div");
  commLegend.id = "legend-communities";
  legend.parentNode.insertBefore(commLegend, legend);
  function legendColours() {
    var byComm = state.colourBy === "comm" && D.large;
    Array.prototype.forEach.call(document.querySelectorAll("#legend-items .chz-swatch"), function (sw) {
      var key = sw.parentNode.querySelector("input").getAttribute("data-group");
      sw.style.backgroundColor = byComm ? "#FFFFFF" : groups[key].color;
    });
    commLegend.textContent = "";
    if (!byComm) { return; }
    commLegend.appendChild(el("div", "颜色 = 社区 / colour = community", "chz-key"));
    var best = {};
    N.forEach(function (n) { if (n.comm !== undefined && (!best[n.comm] || n.size > best[n.comm].size)) { best[n.comm] = n; } });
    D.communityColours.forEach(function (colour, rank) {
      var c = rank + 1;
      if (!best[c] || commSize[c] < 2) { return; }
      var row = el("div", null, "chz-legend-row"), sw = el("span", null, "chz-swatch dot");
      sw.style.backgroundColor = colour;
      row.appendChild(sw);
      row.appendChild(el("span", "社区 " + c + "：" + best[c].label + " 等（" + commSize[c] + "）"));
      commLegend.appendChild(row);
    });
    var rest = el("div", null, "chz-legend-row"), grey = el("span", null, "chz-swatch dot");
    grey.style.backgroundColor = "#BBBBBB";
    rest.appendChild(grey);
    rest.appendChild(el("span", "其他社区 / other communities"));
    commLegend.appendChild(rest);
  }

  function updateLegend(v) {
    var ng = {}, ek = {}, nn = 0, ne = 0, i;
    for (i = 0; i < N.length; i++) { if (v.vis[i]) { ng[N[i].group] = (ng[N[i].group] || 0) + 1; nn++; } }
    for (i = 0; i < E.length; i++) { if (v.evis[i]) { ek[E[i].kind] = (ek[E[i].kind] || 0) + 1; ne++; } }
    Object.keys(countSpans.node).forEach(function (k) {
      var g = groups[k];
      countSpans.node[k].textContent = "(" + (ng[k] || 0) + (ng[k] === g.count ? "" : " / " + g.count) + ")";
    });
    Object.keys(countSpans.edge).forEach(function (k) {
      var g = edgeKinds[k];
      countSpans.edge[k].textContent = "(" + (ek[k] || 0) + (ek[k] === g.count ? "" : " / " + g.count) + ")";
    });
    var text = nn + " / " + N.length + " nodes, " + ne + " / " + E.length + " edges shown";
    var clusters = shown.filter(function (d) { return d.kind === "cluster"; }).length;
    if (clusters) { text += "; " + clusters + " clusters"; }
    $("counts").textContent = text;
    updateKeys(v);
  }

  /* ------------------------------------------------------------ state in the URL */
  /* The fragment holds what is shown (filters by name, legend, isolates, clusters opened,
     the selection, the search text): each change is a history entry, Back and Forward and a
     copied link restore it. */
  var restoring = false;
  function stateParams() {
    var p = new URLSearchParams();
    if (state.edition >= 0) { p.set("edition", D.editions[state.edition].id); }
    if (state.category >= 0) { p.set("category", D.categories[state.category].label); }
    if (state.domain >= 0) { p.set("domain", D.domains[state.domain].label); }
    Object.keys(state.hiddenGroups).sort().forEach(function (k) { p.append("hide", k); });
    Object.keys(state.hiddenEdgeKinds).sort().forEach(function (k) { p.append("hide-links", k); });
    if (state.hideIsolates !== D.large) { p.set("isolates", state.hideIsolates ? "hide" : "show"); }
    if (state.minDegree) { p.set("min", String(state.minDegree)); }
    if ($("min-weight") && state.weightSet) { p.set("weight", String(state.minWeight)); }
    if ($("cluster-by") && state.clusterBy !== "comm") { p.set("cluster", state.clusterBy || "none"); }
    if ($("cluster-by") && state.colourBy !== "comm") { p.set("colour", state.colourBy); }
    Object.keys(state.expanded).sort().forEach(function (k) { p.append("open", k); });
    Object.keys(state.revealed).sort().forEach(function (k) { p.append("show", k); });
    if (lastSearch) { p.set("q", lastSearch); }
    if (state.selected) { p.set("sel", state.selected); }
    return p.toString();
  }
  function remember(replace) {
    if (restoring) { return; }
    var text = stateParams(), url = location.href.split("#")[0] + (text ? "#" + text : "");
    if (url === location.href) { return; }
    if (replace) { history.replaceState(null, "", url); } else { history.pushState(null, "", url); }
  }
  function indexOf(list, name, value) {
    for (var i = 0; i < list.length; i++) { if (list[i][name] === value) { return i; } }
    return -1;
  }
  function restore() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    restoring = true;
    state.edition = p.has("edition") ? indexOf(D.editions, "id", p.get("edition")) : -1;
    state.category = p.has("category") ? indexOf(D.categories, "label", p.get("category")) : -1;
    state.domain = p.has("domain") ? indexOf(D.domains, "label", p.get("domain")) : -1;
    [["filter-edition", "edition"], ["filter-category", "category"], ["filter-domain", "domain"]].forEach(function (f) {
      $(f[0]).value = String(state[f[1]]);
    });
    state.hiddenGroups = {}; state.hiddenEdgeKinds = {};
    p.getAll("hide").forEach(function (k) { state.hiddenGroups[k] = true; });
    p.getAll("hide-links").forEach(function (k) { state.hiddenEdgeKinds[k] = true; });
    Array.prototype.forEach.call(document.querySelectorAll("#legend-items input"), function (c) {
      var g = c.getAttribute("data-group"), k = c.getAttribute("data-edge-kind");
      c.checked = g !== null ? !state.hiddenGroups[g] : !state.hiddenEdgeKinds[k];
    });
    state.hideIsolates = p.has("isolates") ? p.get("isolates") === "hide" : D.large;
    iso.checked = state.hideIsolates;
    state.minDegree = parseInt(p.get("min") || "0", 10) || 0;
    deg.value = String(state.minDegree);
    $("min-degree-value").textContent = String(state.minDegree);
    if ($("min-weight")) {
      state.weightSet = p.has("weight");
      state.minWeight = parseInt(p.get("weight"), 10) || 0;
      autoWeight();
      $("min-weight").value = String(state.minWeight);
      $("min-weight-value").textContent = String(state.minWeight);
    }
    if ($("cluster-by")) {
      state.clusterBy = p.has("cluster") ? (p.get("cluster") === "none" ? "" : p.get("cluster")) : "comm";
      state.colourBy = p.get("colour") || "comm";
      $("cluster-by").value = state.clusterBy;
      $("colour-by").value = state.colourBy;
      legendColours();
    }
    state.expanded = {}; state.revealed = {};
    p.getAll("open").forEach(function (k) { state.expanded[k] = true; });
    p.getAll("show").forEach(function (k) { state.revealed[k] = true; });
    lastSearch = p.get("q") || "";
    box.value = lastSearch;
    refresh();
    var sel = p.get("sel");
    if (sel && display[sel]) { select(sel); } else { unselect(); }
    restoring = false;
  }
  window.addEventListener("popstate", restore);

  legendColours();
  refresh();
  if (location.hash.length > 1) { restore(); }
  network.fit({ animation: false, maxZoomLevel: 1.6 });

  window.chuzhi = {
    network: network, nodes: nodes, edges: edges, data: D, search: search, fit: fit, ready: false,
    state: state, refresh: refresh, stateParams: stateParams,
    labels: function () { return labels; },
    highlighted: function () { return highlighted; },
    visible: function () {
      return {
        nodes: nodes.getIds().slice().sort(),
        edges: edges.get().map(function (e) { return [e.from, e.to]; })
      };
    },
    visibleEdges: function () {
      var out = [];
      Object.keys(shownEdges).forEach(function (id) {
        var s = shownEdges[id];
        out.push({ from: s.from, to: s.to, kind: s.kind, weight: s.weight });
      });
      return out;
    }
  };
  network.once("afterDrawing", function () {
    setTimeout(fillNames, 0);
    window.chuzhi.ready = true;
    window.chuzhi.readyAt = performance.now();
    window.chuzhi.initialScale = network.getScale();
    document.body.setAttribute("data-ready", "1");
  });
  network.redraw();
}());
