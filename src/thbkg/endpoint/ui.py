"""The query page: a self-contained HTML form (no external assets) with every competency question."""

from __future__ import annotations

import json

from thbkg.queries import NamedQuery

__all__ = ["render_ui"]

_SCRIPT = """
const examples = JSON.parse(document.getElementById('examples').textContent);
const pick = document.getElementById('example'), box = document.getElementById('query');
const out = document.getElementById('results'), status = document.getElementById('status');
examples.forEach((e, i) => pick.add(new Option(e.question, i)));
pick.onchange = () => { box.value = examples[pick.value].query; };
if (examples.length) box.value = examples[0].query;
function cell(term) {
  const td = document.createElement('td');
  if (!term) return td;
  if (term.type === 'uri') {
    const a = document.createElement('a');
    a.textContent = term.value;
    a.href = term.value.startsWith('https://w3id.org/thbkg/') ? '/' + term.value.slice(23) : term.value;
    td.appendChild(a);
  } else {
    td.textContent = term.value + (term['xml:lang'] ? ' @' + term['xml:lang'] : '');
  }
  return td;
}
document.getElementById('run').onclick = async () => {
  status.textContent = 'Running…'; out.replaceChildren();
  const started = performance.now();
  const response = await fetch('/sparql', {method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'application/sparql-results+json, text/turtle;q=0.9'},
    body: new URLSearchParams({query: box.value})});
  const text = await response.text();
  const ms = Math.round(performance.now() - started);
  if (!response.ok) { status.textContent = text; return; }
  if (!(response.headers.get('content-type') || '').includes('json')) {
    const pre = document.createElement('pre'); pre.textContent = text; out.appendChild(pre);
    status.textContent = `Graph result in ${ms} ms`; return;
  }
  const data = JSON.parse(text);
  if ('boolean' in data) { status.textContent = `Answer: ${data.boolean} (${ms} ms)`; return; }
  const table = document.createElement('table'), head = table.insertRow();
  data.head.vars.forEach(v => { const th = document.createElement('th'); th.textContent = v; head.appendChild(th); });
  data.results.bindings.forEach(b => { const tr = table.insertRow(); data.head.vars.forEach(v => tr.appendChild(cell(b[v]))); });
  out.appendChild(table);
  const cut = response.headers.get('X-THBKG-Truncated') ? ' (truncated)' : '';
  status.textContent = `${data.results.bindings.length} row(s) in ${ms} ms${cut}`;
};
"""


def render_ui(queries: list[NamedQuery]) -> str:
    """The page at ``/``: pick a competency question or write a query, run it, see the rows."""
    examples = json.dumps([{"question": q.question, "query": q.text} for q in queries]).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>THB-KG SPARQL</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:80rem;margin:1.5rem auto;padding:0 1rem;color:#222}}
textarea{{width:100%;height:18rem;font-family:monospace}}select{{max-width:100%}}
table{{border-collapse:collapse;margin-top:1rem}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}}
</style></head><body>
<h1>THB-KG: France's fight against trafficking in human beings</h1>
<p>Read-only SPARQL 1.1 endpoint at <code>/sparql</code> · <a href="/docs">API</a> ·
<a href="/ontology">ontology</a> · <a href="/sparql">service description</a></p>
<label>Competency question: <select id="example"></select></label>
<textarea id="query" spellcheck="false" aria-label="SPARQL query"></textarea>
<p><button id="run">Run query</button> <span id="status" role="status"></span></p>
<div id="results"></div>
<script type="application/json" id="examples">{examples}</script>
<script>{_SCRIPT}</script>
</body></html>"""
