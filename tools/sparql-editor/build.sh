#!/bin/sh
# Bundle the query page's editor once: `cd tools/sparql-editor && npm ci && sh build.sh`.
# The output is committed (src/chuzhi_graph/static/sparql/editor.js), so nothing runs at install time
# and the page needs no network. Same inputs (package-lock.json), same bytes.
set -eu
cd "$(dirname "$0")"
out=../../src/chuzhi_graph/static/sparql/editor.js
node_modules/.bin/esbuild editor.mjs --bundle --minify --format=iife --target=es2020 \
    --legal-comments=none --charset=utf8 --outfile="$out.tmp"
{ echo "/* CodeMirror 6 (MIT, https://codemirror.net) with its SPARQL mode; bundled by tools/sparql-editor/build.sh */"
  cat "$out.tmp"; } > "$out"
rm "$out.tmp"
wc -c "$out"
