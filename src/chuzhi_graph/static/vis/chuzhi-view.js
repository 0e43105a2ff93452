/* chuzhi-graph page script: builds the vis-network graph from the JSON data block,
   with tooltips built as text (never HTML), a legend, search, neighbour highlighting and
   award-category / domain filters. Licence: MIT (chuzhi-graph). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var byId = {};
  var state = { category: "", domain: "", hiddenGroups: {}, hiddenEdgeKinds: {}, visible: null };

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  /* A tooltip element from [key, value] pairs; values may be lists. Text only. */
  function tip(lines) {
    var box = el("div", null, "chz-tip");
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
    return box;
  }

  data.nodes.forEach(function (n) {
    n.title = tip(n.tip);
    n.baseColor = n.color;
    byId[n.id] = n;
  });
  data.edges.forEach(function (e) { if (e.tip) { e.title = tip(e.tip); } });

  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);

  function nodePasses(n) {
    if (state.hiddenGroups[n.group]) { return false; }
    if (state.category && n.categories.length && n.categories.indexOf(state.category) < 0) { return false; }
    if (state.domain && n.domains.length && n.domains.indexOf(state.domain) < 0) { return false; }
    return true;
  }
  var nodeView = new vis.DataView(nodes, { filter: function (n) { return nodePasses(n); } });
  var edgeView = new vis.DataView(edges, {
    filter: function (e) {
      if (state.hiddenEdgeKinds[e.kind]) { return false; }
      return nodePasses(byId[e.from]) && nodePasses(byId[e.to]);
    }
  });

  var container = document.getElementById("graph");
  var network = new vis.Network(container, { nodes: nodeView, edges: edgeView }, data.options);
  var status = document.getElementById("status");

  function say(text) { status.textContent = text; }

  var highlighted = false;
  function highlight(id) {
    var keep = {};
    keep[id] = true;
    network.getConnectedNodes(id).forEach(function (other) { keep[other] = true; });
    var updates = [];
    data.nodes.forEach(function (n) {
      var color = keep[n.id] ? n.baseColor : "rgba(190,190,190,0.35)";
      updates.push({ id: n.id, color: color, font: { color: keep[n.id] ? "#222" : "rgba(120,120,120,0.4)" } });
    });
    nodes.update(updates);
    highlighted = true;
  }
  function unhighlight() {
    if (!highlighted) { return; }
    nodes.update(data.nodes.map(function (n) { return { id: n.id, color: n.baseColor, font: { color: "#222" } }; }));
    highlighted = false;
  }
  network.on("click", function (params) {
    if (params.nodes.length) { highlight(params.nodes[0]); } else { unhighlight(); }
  });

  /* Search over names and aliases: exact match first, then the first name containing the text. */
  function find(text) {
    var q = text.trim().toLowerCase();
    if (!q) { return null; }
    var i, n, partial = null;
    for (i = 0; i < data.nodes.length; i++) {
      n = data.nodes[i];
      if (n.names.some(function (name) { return name.toLowerCase() === q; })) { return n; }
      if (partial === null && n.names.some(function (name) { return name.toLowerCase().indexOf(q) >= 0; })) { partial = n; }
    }
    return partial;
  }
  function search(text) {
    var n = find(text);
    if (!n) { say("未找到 / not found: " + text); return null; }
    if (!nodePasses(n)) { resetFilters(); }
    network.selectNodes([n.id]);
    network.focus(n.id, { scale: 1.2, animation: false });
    highlight(n.id);
    say("找到 / found: " + n.label);
    return n.id;
  }
  var box = document.getElementById("search");
  box.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { search(box.value); } });
  box.addEventListener("change", function () { search(box.value); });
  var names = document.getElementById("names");
  var seen = {};
  data.nodes.forEach(function (n) {
    n.names.forEach(function (name) {
      if (seen[name]) { return; }
      seen[name] = true;
      var opt = el("option");
      opt.value = name;
      names.appendChild(opt);
    });
  });

  /* Filters: award category and domain selects, legend check boxes. */
  function refresh() { nodeView.refresh(); edgeView.refresh(); }
  function fillSelect(id, values, key) {
    var select = document.getElementById(id);
    if (!values.length) { select.parentNode.style.display = "none"; return; }
    values.forEach(function (v) { var o = el("option", v); o.value = v; select.appendChild(o); });
    select.addEventListener("change", function () { state[key] = select.value; refresh(); });
  }
  fillSelect("filter-category", data.facets.categories, "category");
  fillSelect("filter-domain", data.facets.domains, "domain");
  function resetFilters() {
    state.category = ""; state.domain = ""; state.hiddenGroups = {};
    document.getElementById("filter-category").value = "";
    document.getElementById("filter-domain").value = "";
    Array.prototype.forEach.call(document.querySelectorAll("#legend input[data-group]"), function (c) { c.checked = true; });
    refresh();
  }

  var legend = document.getElementById("legend-items");
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
    });
    var swatch = el("span", null, isEdge ? "chz-swatch-edge" : "chz-swatch");
    if (isEdge) {
      swatch.style.borderTopColor = entry.color;
      swatch.style.borderTopStyle = entry.dashes ? "dashed" : "solid";
    } else {
      swatch.style.backgroundColor = entry.color;
    }
    row.appendChild(check);
    row.appendChild(swatch);
    row.appendChild(el("span", entry.label + " (" + entry.count + ")", "chz-legend-label"));
    return row;
  }
  data.legend.nodes.forEach(function (entry) { legend.appendChild(legendRow(entry, false)); });
  data.legend.edges.forEach(function (entry) { legend.appendChild(legendRow(entry, true)); });

  window.chuzhi = { network: network, nodes: nodes, edges: edges, data: data, search: search, ready: false };
  network.once("afterDrawing", function () {
    window.chuzhi.ready = true;
    window.chuzhi.readyAt = performance.now();
    document.body.setAttribute("data-ready", "1");
  });
}());
