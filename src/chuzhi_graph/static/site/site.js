/* chuzhi-graph dataset site: the zh/en switch. Both languages are in every page; this sets
   <html lang> (kept across pages in localStorage) and the CSS shows the chosen one. */
(function () {
  "use strict";
  var KEY = "chuzhi-site-lang";
  var root = document.documentElement;
  function saved() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function choose(lang) {
    root.lang = lang;
    try { window.localStorage.setItem(KEY, lang); } catch (e) { /* file:// without storage */ }
    var button = document.getElementById("lang-switch");
    if (button) { button.setAttribute("aria-pressed", lang === "en" ? "true" : "false"); }
  }
  var first = saved();
  if (first === "en" || first === "zh") { root.lang = first; }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("lang-switch");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { choose(root.lang === "en" ? "zh" : "en"); });
    choose(root.lang === "en" ? "en" : "zh");
  });
}());
/* The search box: the index (search/*.js, written by publish) is read as scripts, a few small
   files per query: fetch() of file:// URLs is refused by browsers, and the site works from disk.
   Results are built as text, never as HTML. */
(function () {
  "use strict";
  var S = window.chuzhiSearch = { info: null, g: {}, e: {}, pending: {} };
  var root = "";
  function load(name, done) {
    if (S.pending[name]) { S.pending[name].push(done); return; }
    S.pending[name] = [done];
    var tag = document.createElement("script");
    tag.src = root + "search/" + name + ".js";
    function finish() { var list = S.pending[name] || []; S.pending[name] = null; list.forEach(function (f) { f(); }); }
    tag.onload = finish;
    tag.onerror = finish;
    document.head.appendChild(tag);
  }
  S.meta = function (m) { S.info = m; };
  S.grams = function (h, table) { S.g[h] = table; };
  S.entries = function (k, rows) { S.e[k] = rows; };
  function need(names, done) {
    var left = names.length;
    if (!left) { done(); return; }
    names.forEach(function (n) { load(n, function () { if (--left === 0) { done(); } }); });
  }
  function shardOf(gram, shards) {
    var h = 0;
    Array.from(gram).forEach(function (ch) { h = (h * 31 + ch.codePointAt(0)) % 1000003; });
    return h % shards;
  }
  function bigrams(text) {
    var cs = Array.from(text), out = [];
    for (var i = 0; i + 1 < cs.length; i++) { var g = cs[i] + cs[i + 1]; if (out.indexOf(g) < 0) { out.push(g); } }
    return out;
  }
  function decode(coded) {
    var out = [], last = 0;
    (coded || "").split(",").forEach(function (d) { if (d) { last += parseInt(d, 36); out.push(last); } });
    return out;
  }
  function intersect(a, b) {
    var out = [], i = 0, j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) { out.push(a[i]); i++; j++; } else if (a[i] < b[j]) { i++; } else { j++; }
    }
    return out;
  }
  var MAX_CHECKED = 400, MAX_SHOWN = 30;
  function query(text, done) {
    var q = text.trim().toLowerCase();
    if (Array.from(q).length < 2) { done(null, q); return; }
    need(["meta"], function () {
      if (!S.info) { done([], q, 0); return; }
      var grams = bigrams(q), shards = grams.map(function (g) { return shardOf(g, S.info.shards); });
      need(shards.filter(function (h, i) { return shards.indexOf(h) === i && !S.g[h]; })
                 .map(function (h) { return "g" + h; }), function () {
        var ids = null;
        grams.forEach(function (g, i) {
          var list = decode((S.g[shards[i]] || {})[g]);
          ids = ids === null ? list : intersect(ids, list);
        });
        var candidates = ids || [];
        var checked = candidates.slice(0, MAX_CHECKED), chunks = [];
        checked.forEach(function (n) {
          var k = Math.floor(n / S.info.chunk);
          if (chunks.indexOf(k) < 0 && !S.e[k]) { chunks.push(k); }
        });
        need(chunks.map(function (k) { return "e" + k; }), function () {
          var hits = [];
          checked.forEach(function (n) {
            var row = S.e[Math.floor(n / S.info.chunk)][n % S.info.chunk];
            var names = [row[2]].concat(row[3]), rank = 9, alias = null;
            names.forEach(function (name, i) {
              var l = name.toLowerCase(), r = l === q ? 0 : l.indexOf(q) === 0 ? 1 : l.indexOf(q) > 0 ? 2 : 9;
              if (r < rank) { rank = r; alias = i ? name : null; }
            });
            if (rank < 9) { hits.push({ rank: rank, n: n, row: row, alias: alias }); }
          });
          hits.sort(function (a, b) { return a.rank - b.rank || a.n - b.n; });
          done(hits, q, candidates.length);
        });
      });
    });
  }
  S.query = query;
  function show(hits, q, total) {
    var pop = document.getElementById("site-search-pop"), list = document.getElementById("site-search-results");
    var status = document.getElementById("site-search-status");
    list.textContent = "";
    pop.hidden = !q;
    if (hits === null) { status.textContent = "请输入至少两个字 / type two characters or more"; return; }
    if (!hits.length) { status.textContent = "未找到 / nothing found: " + q; return; }
    status.textContent = hits.length > MAX_SHOWN || total > MAX_CHECKED ?
      "前 " + MAX_SHOWN + " 个结果 / first " + MAX_SHOWN + " results" : hits.length + " 个结果 / results";
    hits.slice(0, MAX_SHOWN).forEach(function (h) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = root + h.row[1];
      a.textContent = h.row[2];
      li.appendChild(a);
      if (h.alias) { var s = document.createElement("span"); s.className = "alias"; s.textContent = "（" + h.alias + "）"; li.appendChild(s); }
      var k = document.createElement("span");
      k.className = "kind";
      k.textContent = h.row[0] === "u" ? "单位 / unit" : "案例 / case";
      li.appendChild(k);
      list.appendChild(li);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("site-search-box"), holder = document.getElementById("site-search");
    if (!box || !holder) { return; }
    root = holder.getAttribute("data-root") || "";
    var timer = null, asked = 0;
    function run() {
      var mine = ++asked, text = box.value, started = performance.now();
      query(text, function (hits, q, total) {
        if (mine !== asked) { return; }
        show(hits, q, total);
        S.took = performance.now() - started;  /* from the query to the results in the page */
        document.body.setAttribute("data-search-done", String(mine));
      });
    }
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 120); });
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { clearTimeout(timer); run(); }
      if (ev.key === "ArrowDown") {
        var first = document.querySelector("#site-search-results a");
        if (first) { first.focus(); ev.preventDefault(); }
      }
      if (ev.key === "Escape") { document.getElementById("site-search-pop").hidden = true; }
    });
  });
}());

/* Lists: a filter box over the rows and sortable columns (numbers as numbers), on this page. */
(function () {
  "use strict";
  function cellKey(row, i) {
    var t = (row.cells[i] ? row.cells[i].textContent : "").trim();
    var n = Number(t.replace(/,/g, ""));
    return t !== "" && !isNaN(n) ? [0, n, t] : [1, 0, t];
  }
  function enhance(table, index) {
    var body = table.tBodies[0], head = table.tHead;
    if (!body || !head || body.rows.length < 2) { return; }
    var wrap = document.createElement("p"), label = document.createElement("label"), input = document.createElement("input");
    wrap.className = "list-filter";
    input.type = "search";
    input.id = "list-filter-" + index;
    label.htmlFor = input.id;
    label.textContent = "筛选本页 / filter this page ";
    wrap.appendChild(label);
    wrap.appendChild(input);
    var count = document.createElement("span");
    count.className = "count";
    count.setAttribute("role", "status");
    wrap.appendChild(count);
    table.parentNode.insertBefore(wrap, table);
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase(), shown = 0;
      Array.prototype.forEach.call(body.rows, function (r) {
        var keep = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
        r.hidden = !keep;
        shown += keep ? 1 : 0;
      });
      count.textContent = q ? " " + shown + " / " + body.rows.length : "";
    });
    Array.prototype.forEach.call(head.rows[0].cells, function (th, i) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var down = th.getAttribute("aria-sort") === "ascending";
        Array.prototype.forEach.call(head.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        var rows = Array.prototype.slice.call(body.rows).map(function (r, k) { return [cellKey(r, i), k, r]; });
        rows.sort(function (a, b) {
          var x = a[0], y = b[0], c = x[0] - y[0] || (x[0] === 0 ? x[1] - y[1] : x[2].localeCompare(y[2], "zh"));
          return (down ? -c : c) || a[1] - b[1];
        });
        rows.forEach(function (r) { body.appendChild(r[2]); });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.list"), enhance);
  });
}());
