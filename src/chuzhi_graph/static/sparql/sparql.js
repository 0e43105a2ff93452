// The offline query page (served by `chuzhi-graph serve`): a SPARQL editor (editor.js, CodeMirror 6),
// the shipped questions with a form for their declared parameters, sortable and paged results with
// IRIs shown as labels, downloads, the query kept in the URL and a local history. No external resources.
"use strict";
const $ = (id) => document.getElementById(id);
const HISTORY_KEY = "chuzhi-sparql-history";
const HISTORY_MAX = 30;
const XSD = "http://www.w3.org/2001/XMLSchema#";
const NUMERIC = new Set(["integer", "decimal", "double", "float", "long", "int", "short", "byte",
  "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt",
  "unsignedLong", "unsignedShort", "unsignedByte"].map((t) => XSD + t));

const state = {
  prefixes: {}, terms: {}, queries: [], editor: null,
  name: "",            // the shipped question the text came from ("" for one's own query)
  result: null,        // {kind: "select"|"ask"|"graph", vars, rows, boolean, text}
  sort: {col: -1, dir: 1}, page: 0, labels: new Map(),
};

// ---------------------------------------------------------------- the query text and its header

function getText() { return state.editor ? state.editor.value : $("query").value; }
function setText(text) {
  $("query").value = text;
  if (state.editor) state.editor.value = text;
}

/** The `# param:` declarations of a query's header (the same syntax as chuzhi_graph.questions). */
function declaredParams(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    const m = line.match(/^#\s*param:\s*[?$]?(\w+)\s*\(([^)]*)\)\s*(.*)$/);
    if (!m) continue;
    const attrs = m[2].split(",").map((a) => a.trim()).filter(Boolean);
    const spec = {name: m[1], kind: attrs[0] || "text", required: false, example: "", help: m[3]};
    for (const a of attrs.slice(1)) {
      if (a === "required") spec.required = true;
      else if (a.startsWith("e.g.")) spec.example = a.slice(4).trim();
    }
    out.push(spec);
  }
  return out;
}

// ---------------------------------------------------------------- the parameter form

function buildForm(text, values = {}) {
  const form = $("params");
  const specs = declaredParams(text);
  const old = currentParams();
  form.replaceChildren();
  form.hidden = specs.length === 0;
  for (const spec of specs) {
    const id = "param-" + spec.name;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.className = spec.required ? "required" : "";
    label.textContent = `${spec.name} · ${spec.kind}`;
    const input = document.createElement("input");
    input.id = id; input.name = spec.name; input.dataset.kind = spec.kind; input.autocomplete = "off";
    input.required = spec.required;
    input.placeholder = spec.example ? "e.g. " + spec.example : "";
    input.value = values[spec.name] ?? old[spec.name] ?? spec.example;
    const list = document.createElement("datalist");
    list.id = id + "-choices";
    input.setAttribute("list", list.id);
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => complete(input, list), 150);
    });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); run(); } });
    const help = document.createElement("small");
    help.textContent = spec.help;
    form.append(label, input, list, help);
  }
}

async function complete(input, list) {
  const kind = input.dataset.kind;
  if (kind === "text" || !input.value.trim()) return;
  try {
    const url = "/complete.json?" + new URLSearchParams({kind, q: input.value});
    const found = await (await fetch(url)).json();
    list.replaceChildren(...found.map((f) => {
      const o = document.createElement("option");
      o.value = f.match === f.label ? f.label : f.match;
      o.label = (f.match === f.label ? "" : f.label + " · ") + shorten(f.iri);
      return o;
    }));
  } catch (err) { /* completion is a help, not a must */ }
}

function currentParams() {
  const out = {};
  for (const input of $("params").querySelectorAll("input")) if (input.value.trim()) out[input.name] = input.value.trim();
  return out;
}

// ---------------------------------------------------------------- running

function shorten(iri) {
  let best = null;
  for (const [p, ns] of Object.entries(state.prefixes)) {
    if (iri.startsWith(ns) && /^[\w.-]*$/.test(iri.slice(ns.length)) && (!best || ns.length > best[1].length)) best = [p, ns];
  }
  return best ? best[0] + ":" + iri.slice(best[1].length) : "<" + iri + ">";
}

function body(extra = {}) {
  // a shipped question left as shipped is asked by name: the server then checks its declared parameters
  const asked = state.name && shippedText(state.name) === getText() ? {question: state.name} : {query: getText()};
  const form = new URLSearchParams({...asked, ...extra});
  for (const [k, v] of Object.entries(currentParams())) form.append("param", `${k}=${v}`);
  return form;
}

function showError(text) {
  const e = $("error");
  e.textContent = text; e.hidden = !text;
}

function clearResults() {
  state.result = null;
  $("results").replaceChildren();
  $("graph").textContent = ""; $("graph").hidden = true;
  $("pager").hidden = true;
  setDownloads(null);
}

async function run() {
  showError("");
  $("status").textContent = "…";
  const started = performance.now();
  let response, text;
  try {
    response = await fetch("/sparql", {
      method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json, text/turtle;q=0.9"},
      body: body(),
    });
    text = await response.text();
  } catch (err) {
    clearResults(); showError(String(err)); $("status").textContent = ""; return;
  }
  clearResults();  // an error must not leave the previous answer on screen
  saveUrl();
  remember();  // failed runs too: the history is where one finds the query to fix
  if (!response.ok) { showError(text.trim()); $("status").textContent = ""; return; }
  const ms = Math.round(performance.now() - started);
  if ((response.headers.get("Content-Type") || "").startsWith("text/turtle")) {
    state.result = {kind: "graph", text};
    $("graph").textContent = text; $("graph").hidden = false;
    $("status").textContent = `${text.split("\n").filter((l) => l && !l.startsWith("@prefix")).length} 行 lines · ${ms} ms`;
  } else {
    const data = JSON.parse(text);
    if ("boolean" in data) {
      state.result = {kind: "ask", boolean: data.boolean};
      $("status").textContent = `${data.boolean} · ${ms} ms`;
    } else {
      const vars = data.head.vars;
      state.result = {kind: "select", vars, rows: data.results.bindings.map((b) => vars.map((v) => b[v] || null))};
      state.sort = {col: -1, dir: 1}; state.page = 0;
      renderTable();
      $("status").textContent = `${state.result.rows.length} 行 rows · ${ms} ms`;
    }
  }
  setDownloads(state.result.kind);
}

// ---------------------------------------------------------------- the result table

function compareTerms(a, b) {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  if (a.datatype && b.datatype && NUMERIC.has(a.datatype) && NUMERIC.has(b.datatype)) return Number(a.value) - Number(b.value);
  const la = a.type === "uri" ? (state.labels.get(a.value) || shorten(a.value)) : a.value;
  const lb = b.type === "uri" ? (state.labels.get(b.value) || shorten(b.value)) : b.value;
  return la.localeCompare(lb, "zh");
}

function pageSize() { return Number($("page-size").value); }

function renderTable() {
  const r = state.result;
  const table = $("results");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  r.vars.forEach((v, i) => {
    const th = document.createElement("th");
    th.textContent = v; th.scope = "col"; th.title = "排序 sort";
    if (state.sort.col === i) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
    th.addEventListener("click", () => sortBy(i));
    head.appendChild(th);
  });
  const size = pageSize();
  const pages = Math.max(1, Math.ceil(r.rows.length / size));
  state.page = Math.min(state.page, pages - 1);
  const start = state.page * size;
  const shown = r.rows.slice(start, start + size);
  const tbody = table.createTBody();
  for (const row of shown) {
    const tr = tbody.insertRow();
    for (const term of row) tr.appendChild(cell(term));
  }
  $("pager").hidden = r.rows.length <= size;
  $("page-info").textContent = `第 ${state.page + 1} / ${pages} 页 · page ${state.page + 1} of ${pages}`;
  $("prev").disabled = state.page === 0;
  $("next").disabled = state.page >= pages - 1;
  fetchLabels(shown);
}

function sortBy(col) {
  const r = state.result;
  state.sort = {col, dir: state.sort.col === col ? -state.sort.dir : 1};
  const dir = state.sort.dir;
  r.rows = r.rows.map((row, i) => [row, i])
    .sort((x, y) => compareTerms(x[0][col], y[0][col]) * dir || x[1] - y[1]).map((x) => x[0]);
  state.page = 0;
  renderTable();
}

/** A query showing everything about one resource: the page's resource view. */
function describeQuery(iri) {
  return `# 资源 ${shorten(iri)}\nSELECT ?property ?value ?direction WHERE {\n` +
    `  { <${iri}> ?property ?value . BIND("→" AS ?direction) }\n  UNION\n` +
    `  { ?value ?property <${iri}> . BIND("←" AS ?direction) }\n} ORDER BY ?direction STR(?property) LIMIT 2000\n`;
}

function cell(term) {
  const td = document.createElement("td");
  if (!term) return td;
  if (term.type === "uri") {
    const a = document.createElement("a");
    a.href = "#" + new URLSearchParams({query: describeQuery(term.value)});
    a.dataset.iri = term.value;
    a.textContent = state.labels.get(term.value) || shorten(term.value);
    td.title = term.value;
    td.appendChild(a);
  } else if (term.type === "bnode") td.textContent = "_:" + term.value;
  else {
    td.textContent = term.value;
    if (term.datatype && NUMERIC.has(term.datatype)) td.className = "num";
  }
  return td;
}

async function fetchLabels(rows) {
  const wanted = new Set();
  for (const row of rows) for (const t of row) if (t && t.type === "uri" && !state.labels.has(t.value)) wanted.add(t.value);
  if (!wanted.size) return;
  const values = [...wanted].map((i) => `<${i}>`).join(" ");
  const query = "SELECT ?x (SAMPLE(?l) AS ?label) WHERE { VALUES ?x { " + values + " } " +
    "?x <http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel>|<http://purl.org/dc/terms/title> ?l " +
    "FILTER(LANG(?l) = 'zh' || LANG(?l) = '') } GROUP BY ?x";
  try {
    const response = await fetch("/sparql", {method: "POST", body: new URLSearchParams({query}),
      headers: {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}});
    if (!response.ok) return;
    const data = await response.json();
    for (const b of data.results.bindings) if (b.label) state.labels.set(b.x.value, b.label.value);
    for (const iri of wanted) if (!state.labels.has(iri)) state.labels.set(iri, shorten(iri));
    for (const a of $("results").querySelectorAll("a[data-iri]")) a.textContent = state.labels.get(a.dataset.iri);
  } catch (err) { /* labels are a help; the short IRIs stay */ }
}

// ---------------------------------------------------------------- downloads

const DOWNLOADS = {csv: ["csv", "select"], tsv: ["tsv", "select"], json: ["json", "select"], turtle: ["ttl", "graph"]};

function setDownloads(kind) {
  for (const [fmt, [, needs]] of Object.entries(DOWNLOADS)) {
    $("download-" + fmt).disabled = !kind || (needs === "graph" ? kind !== "graph" : kind === "graph");
  }
}

async function download(fmt) {
  const response = await fetch("/sparql", {method: "POST", body: body({format: fmt, escape: "formulas"}),
    headers: {"Content-Type": "application/x-www-form-urlencoded"}});
  const text = await response.text();
  if (!response.ok) { showError(text.trim()); return; }
  // CSV with a byte-order mark, as `chuzhi-graph query --format csv` writes: Excel then shows Chinese
  const blob = new Blob([fmt === "csv" ? "\ufeff" + text : text], {type: response.headers.get("Content-Type") || "text/plain"});
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${state.name || "query"}.${DOWNLOADS[fmt][0]}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// ---------------------------------------------------------------- the URL and the history

function shippedText(name) { const q = state.queries.find((x) => x.name === name); return q ? q.text : null; }

function urlState() {
  const p = new URLSearchParams();
  if (state.name && shippedText(state.name) === getText()) p.set("example", state.name);
  else p.set("query", getText());
  for (const [k, v] of Object.entries(currentParams())) p.append("param", `${k}=${v}`);
  return p;
}

function saveUrl() { history.replaceState(null, "", "#" + urlState().toString()); }

function restore(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const example = p.get("example");
  const text = example ? shippedText(example) : p.get("query");
  if (text == null) return false;
  state.name = example && text != null ? example : "";
  $("examples").value = state.name;
  setText(text);
  showQuestion();
  const values = {};
  for (const pair of p.getAll("param")) { const i = pair.indexOf("="); if (i > 0) values[pair.slice(0, i)] = pair.slice(i + 1); }
  buildForm(text, values);
  return true;
}

function loadHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch (err) { return []; }
}

function remember() {
  const entry = {hash: urlState().toString(), name: state.name, first: getText().split("\n").find((l) => l && !l.startsWith("#") && !/^PREFIX/i.test(l)) || "",
                 at: new Date().toISOString()};
  const items = [entry, ...loadHistory().filter((h) => h.hash !== entry.hash)].slice(0, HISTORY_MAX);
  try { localStorage.setItem(HISTORY_KEY, JSON.stringify(items)); } catch (err) { /* private mode: no history */ }
  showHistory();
}

function showHistory() {
  const select = $("history");
  select.replaceChildren(select.options[0] || new Option("— 最近的查询 / recent queries —", ""));
  for (const h of loadHistory()) {
    const when = h.at.slice(0, 16).replace("T", " ");
    select.appendChild(new Option(`${when} · ${h.name || h.first.slice(0, 60)}`, h.hash));
  }
}

// ---------------------------------------------------------------- start

function showQuestion() {
  const q = state.queries.find((x) => x.name === state.name);
  $("question").textContent = q ? `${q.question_zh} / ${q.question_en}` : "";
}

function showPrefixes() {
  const table = $("prefixes");
  table.replaceChildren();
  for (const [p, iri] of Object.entries(state.prefixes)) {
    const row = table.insertRow();
    row.insertCell().textContent = p + ":";
    row.insertCell().textContent = iri;
  }
}

async function loadTerms() {
  // the ontology's classes and properties, for the completion after "chz:" and the other prefixes
  const query = "SELECT DISTINCT ?t ?k (SAMPLE(?l) AS ?label) WHERE { VALUES ?k { " +
    "<http://www.w3.org/2002/07/owl#Class> <http://www.w3.org/2002/07/owl#ObjectProperty> " +
    "<http://www.w3.org/2002/07/owl#DatatypeProperty> <http://www.w3.org/2002/07/owl#SymmetricProperty> " +
    "<http://www.w3.org/2002/07/owl#AnnotationProperty> } ?t a ?k . " +
    "OPTIONAL { ?t <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(LANG(?l) = 'zh') } } GROUP BY ?t ?k";
  try {
    const response = await fetch("/sparql", {method: "POST", body: new URLSearchParams({query}),
      headers: {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}});
    const data = await response.json();
    const terms = {};
    for (const b of data.results.bindings) {
      const short = shorten(b.t.value);
      if (short.startsWith("<")) continue;
      const [prefix, name] = short.split(":");
      const kind = b.k.value.endsWith("Class") ? "class" : "property";
      (terms[prefix] = terms[prefix] || []).push({name, label: b.label ? b.label.value : "", kind});
    }
    state.terms = terms;
  } catch (err) { /* completion of terms is a help */ }
}

async function start() {
  try {
    [state.prefixes, state.queries] = await Promise.all([
      fetch("/prefixes.json").then((r) => r.json()), fetch("/queries.json").then((r) => r.json())]);
  } catch (err) { showError("cannot load the example queries: " + err); }
  showPrefixes();
  for (const q of state.queries) {
    const o = new Option(q.name + " · " + q.question_zh, q.name);
    if (q.params.length) o.textContent += "  (" + q.params.map((p) => p.name).join(", ") + ")";
    $("examples").appendChild(o);
  }
  if (window.ChuzhiEditor) {
    state.editor = window.ChuzhiEditor.create($("editor"), {
      doc: $("query").value, prefixes: () => state.prefixes, terms: () => state.terms, onRun: run,
      onChange: (text) => {
        $("query").value = text;
        // the form follows the header of the text: rebuilt only when the declared names change
        const names = declaredParams(text).map((p) => p.name).join(",");
        const shown = [...$("params").querySelectorAll("input")].map((i) => i.name).join(",");
        if (names !== shown) buildForm(text);
      },
    });
    document.body.classList.add("has-editor");
  }
  showHistory();
  setDownloads(null);
  loadTerms();
  // a link fills the editor and the form; it runs only when the reader clicks Run (any page may
  // link here, and must not make the server work)
  if (location.hash.length > 1 && restore(location.hash)) $("status").textContent = "运行以查看结果 / press Run";
}

$("examples").addEventListener("change", (e) => {
  const q = state.queries.find((x) => x.name === e.target.value);
  if (!q) return;
  state.name = q.name;
  setText(q.text);
  showQuestion();
  buildForm(q.text, Object.fromEntries(q.params.map((p) => [p.name, p.example])));
});
$("history").addEventListener("change", (e) => {
  if (e.target.value && restore("#" + e.target.value)) run();
  e.target.value = "";
});
$("run").addEventListener("click", run);
$("query").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
$("query").addEventListener("change", () => buildForm($("query").value));
$("prev").addEventListener("click", () => { state.page -= 1; renderTable(); });
$("next").addEventListener("click", () => { state.page += 1; renderTable(); });
$("page-size").addEventListener("change", () => { state.page = 0; renderTable(); });
for (const fmt of Object.keys(DOWNLOADS)) $("download-" + fmt).addEventListener("click", () => download(fmt));
// a click on a link of this page (an IRI's view) runs what it asks; a hash set from outside only fills
let linkClicked = 0;
document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("a[href^='#']");
  if (a && e.isTrusted) linkClicked = performance.now();
});
window.addEventListener("hashchange", () => {
  if (urlState().toString() === location.hash.slice(1) || !restore(location.hash)) return;
  if (performance.now() - linkClicked < 2000) run();
  else $("status").textContent = "运行以查看结果 / press Run";
});
start();
