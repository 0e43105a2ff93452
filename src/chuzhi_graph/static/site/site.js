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
