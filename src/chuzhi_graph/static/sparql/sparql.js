// The offline query page: shipped queries as examples, results as a table. No external resources.
"use strict";
const $ = (id) => document.getElementById(id);
const PREFIXES = {
  "https://w3id.org/chuzhi/def#": "chz:", "https://w3id.org/chuzhi/case/": "case:",
  "https://w3id.org/chuzhi/unit/": "unit:", "https://w3id.org/chuzhi/domain/": "domain:",
  "https://w3id.org/chuzhi/region/": "region:", "https://w3id.org/chuzhi/edition/": "edition:",
  "https://w3id.org/chuzhi/award-category/": "awcat:", "https://w3id.org/chuzhi/unit-type/": "utype:",
  "http://www.w3.org/2004/02/skos/core#": "skos:", "http://purl.org/dc/terms/": "dct:",
  "http://www.w3.org/ns/org#": "org:", "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
  "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
};

function shorten(iri) {
  for (const [ns, p] of Object.entries(PREFIXES)) if (iri.startsWith(ns)) return p + iri.slice(ns.length);
  return "<" + iri + ">";
}

function cell(term) {
  const td = document.createElement("td");
  if (!term) return td;
  if (term.type === "uri") { td.textContent = shorten(term.value); td.title = term.value; }
  else if (term.type === "bnode") td.textContent = "_:" + term.value;
  else {
    td.textContent = term.value;
    if (/^-?\d+(\.\d+)?$/.test(term.value) && term.datatype) td.className = "num";
  }
  return td;
}

function showError(text) { const e = $("error"); e.textContent = text; e.hidden = !text; }

function render(data) {
  const table = $("results");
  table.replaceChildren();
  if ("boolean" in data) { $("status").textContent = String(data.boolean); return; }
  const head = table.createTHead().insertRow();
  for (const v of data.head.vars) { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); }
  const body = table.createTBody();
  for (const b of data.results.bindings) {
    const row = body.insertRow();
    for (const v of data.head.vars) row.appendChild(cell(b[v]));
  }
  $("status").textContent = data.results.bindings.length + " 行 rows";
}

async function run() {
  showError(""); $("graph").hidden = true; $("status").textContent = "…";
  const started = performance.now();
  try {
    const response = await fetch("/sparql", {
      method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json, text/turtle;q=0.9"},
      body: new URLSearchParams({query: $("query").value}),
    });
    const text = await response.text();
    if (!response.ok) { showError(text); $("status").textContent = ""; return; }
    if ((response.headers.get("Content-Type") || "").startsWith("text/turtle")) {
      $("results").replaceChildren(); $("graph").textContent = text; $("graph").hidden = false;
      $("status").textContent = "";
      return;
    }
    render(JSON.parse(text));
    $("status").textContent += " · " + Math.round(performance.now() - started) + " ms";
  } catch (err) { showError(String(err)); $("status").textContent = ""; }
}

async function loadExamples() {
  try {
    const queries = await (await fetch("/queries.json")).json();
    const select = $("examples");
    for (const q of queries) {
      const o = document.createElement("option");
      o.value = q.name; o.textContent = q.name + " · " + q.question_zh;
      o.dataset.text = q.text; o.dataset.question = q.question_zh + " / " + q.question_en
        + (q.params.length ? "  (参数 parameters: " + q.params.map((p) => "?" + p).join(", ") + ")" : "");
      select.appendChild(o);
    }
  } catch (err) { showError("cannot load the example queries: " + err); }
}

$("examples").addEventListener("change", (e) => {
  const o = e.target.selectedOptions[0];
  if (o && o.dataset.text) { $("query").value = o.dataset.text; $("question").textContent = o.dataset.question; }
});
$("run").addEventListener("click", run);
$("query").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
$("csv").addEventListener("click", (e) => {
  e.currentTarget.href = "/sparql?format=csv&query=" + encodeURIComponent($("query").value);
});
loadExamples();
