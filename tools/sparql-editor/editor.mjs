// The SPARQL editor of the query page: CodeMirror 6 with the SPARQL mode of @codemirror/legacy-modes,
// completion of the predeclared prefixes, of their terms and of SPARQL keywords. Bundled by build.sh
// into src/chuzhi_graph/static/sparql/editor.js (one file, no network), exposed as window.ChuzhiEditor.
import {EditorState} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
        placeholder} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching,
        indentOnInput} from "@codemirror/language";
import {autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap} from "@codemirror/autocomplete";
import {searchKeymap, highlightSelectionMatches} from "@codemirror/search";
import {sparql} from "@codemirror/legacy-modes/mode/sparql";

const KEYWORDS = ["SELECT", "DISTINCT", "WHERE", "OPTIONAL", "FILTER", "UNION", "MINUS", "GRAPH", "BIND",
  "VALUES", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "ASK", "CONSTRUCT", "DESCRIBE", "PREFIX",
  "COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT", "SEPARATOR", "STR", "LANG", "LANGMATCHES",
  "CONTAINS", "STRSTARTS", "REGEX", "EXISTS", "NOT EXISTS", "DESC", "ASC", "AS", "IN", "NOT IN", "COALESCE", "IF"];

function completions(getPrefixes, getTerms) {
  return (context) => {
    const prefixed = context.matchBefore(/[A-Za-z][\w-]*:[\w-]*/);
    if (prefixed) {
      const [prefix, local] = prefixed.text.split(":");
      const terms = getTerms()[prefix] || [];
      return {
        from: prefixed.from + prefix.length + 1,
        options: terms.map((t) => ({label: t.name, detail: t.label || "", type: t.kind || "property"})),
        validFor: /^[\w-]*$/,
      };
    }
    const variable = context.matchBefore(/[?$][\w]*/);
    if (variable) {
      const seen = new Set(context.state.doc.toString().match(/[?$][\w]+/g) || []);
      seen.delete(variable.text);
      return {from: variable.from, options: [...seen].map((v) => ({label: v, type: "variable"}))};
    }
    const word = context.matchBefore(/[A-Za-z_][\w]*/);
    if (!word && !context.explicit) return null;
    const prefixes = getPrefixes();
    return {
      from: word ? word.from : context.pos,
      options: [
        ...Object.entries(prefixes).map(([p, iri]) => ({label: p + ":", detail: iri, type: "namespace"})),
        ...KEYWORDS.map((k) => ({label: k, type: "keyword"})),
      ],
      validFor: /^[\w]*$/,
    };
  };
}

/** An editor in `parent`: {get value(), set value(text), focus()}; Ctrl+Enter calls onRun. */
function create(parent, {doc = "", prefixes = () => ({}), terms = () => ({}), onRun = () => {}, onChange = () => {}} = {}) {
  const run = () => { onRun(); return true; };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
        bracketMatching(), closeBrackets(), highlightActiveLine(), highlightSelectionMatches(),
        StreamLanguage.define(sparql), syntaxHighlighting(defaultHighlightStyle, {fallback: true}),
        autocompletion({override: [completions(prefixes, terms)], activateOnTyping: true}),
        placeholder("SELECT …"), EditorView.lineWrapping,
        keymap.of([{key: "Mod-Enter", run}, ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap,
                   ...historyKeymap, ...completionKeymap, indentWithTab]),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
      ],
    }),
  });
  return {
    view,
    get value() { return view.state.doc.toString(); },
    set value(text) { view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}}); },
    focus() { view.focus(); },
  };
}

window.ChuzhiEditor = {create};
