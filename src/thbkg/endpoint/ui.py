"""The query page: YASGUI from our own static files, one tab per competency question, our prefixes."""

from __future__ import annotations

import json
from pathlib import Path

from thbkg.namespaces import BASE, PREFIXES
from thbkg.queries import NamedQuery

__all__ = ["STATIC_DIR", "render_ui", "tab_name"]

#: Served at ``/static``: the vendored YASGUI build (see ``static/yasgui/README.md``).
STATIC_DIR = Path(__file__).resolve().parent / "static"

_TAB_NAME_LENGTH = 60

# Runs after yasgui.min.js. Nothing here, nor in YASGUI as configured, loads anything from another
# host: the LOV class and property completers (which call lov.linkeddata.es) are left out, prefix
# completion uses our prefixes and YASQE's bundled list (never prefix.cc), and the only endpoint
# offered is ours.
_SCRIPT = """
const config = JSON.parse(document.getElementById('thbkg-config').textContent);
const endpoint = new URL(config.endpoint, location.href).href;
const Yasqe = Yasgui.Yasqe;
const ours = Object.entries(config.prefixes).map(([prefix, iri]) => `${prefix}: <${iri}>`);
// Ours first; YASQE's bundled prefixes after, except those we define differently.
Yasqe.forkAutocompleter('prefixes', {
  name: 'thbkgPrefixes',
  persistenceId: null,
  get: yasqe => Yasqe.Autocompleters.prefixes.get(yasqe).then(
    bundled => ours.concat(bundled.filter(line => !(line.split(':')[0] in config.prefixes)))),
}, false);
Yasqe.defaults.autocompleters = ['thbkgPrefixes', 'variables'];
Yasgui.defaults.yasqe.autocompleters = Yasqe.defaults.autocompleters;
const yasgui = new Yasgui(document.getElementById('yasgui'), {
  persistenceId: null,  // the tabs always match queries/; nothing is kept in localStorage
  autoAddOnInit: false,
  tabName: 'New query',
  requestConfig: {endpoint: endpoint, method: 'POST'},
  endpointCatalogueOptions: {getData: () => [{endpoint: endpoint}]},
  yasr: {prefixes: config.prefixes},
});
// /?tab=cq-NN-name opens on that question (the picture pages link here); otherwise on the first.
const wanted = new URLSearchParams(location.search).get('tab');
const opened = config.tabs.some(tab => tab.id === wanted) ? wanted : config.tabs.length && config.tabs[0].id;
config.tabs.forEach(tab => {
  yasgui.addTab(tab.id === opened, {id: tab.id, name: tab.name, yasqe: {value: tab.query},
                          requestConfig: {endpoint: endpoint, method: 'POST'}});
  const link = document.getElementById('tab-' + tab.id);
  if (link) link.title = tab.question;
});
// Our IRIs open on this server, which answers for them, rather than on w3id.org.
document.addEventListener('click', event => {
  const link = event.target.closest && event.target.closest('a[href]');
  if (!link) return;
  for (const local of config.localPaths) {
    if (link.href.startsWith(config.base + local)) {
      link.href = '/' + link.href.slice(config.base.length);
      return;
    }
  }
}, true);
window.thbkgYasgui = yasgui;
"""


def tab_name(question: str, limit: int = _TAB_NAME_LENGTH) -> str:
    """A question short enough for a tab: cut at a word boundary, with an ellipsis."""
    if len(question) <= limit:
        return question
    cut = question[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def render_ui(queries: list[NamedQuery]) -> str:
    """The page at ``/``: YASGUI with a tab per competency question, run against ``/sparql``."""
    config = {
        "endpoint": "/sparql",
        "base": BASE,
        "localPaths": ["id/", "ontology"],
        "prefixes": PREFIXES,
        "tabs": [{"id": q.name, "name": tab_name(q.question), "question": q.question, "query": q.text}
                 for q in queries],
    }
    embedded = json.dumps(config).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>THB-KG SPARQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/yasgui/yasgui.min.css">
<style>
body{{font-family:system-ui,sans-serif;margin:0 auto;padding:0 1rem 2rem;color:#222;max-width:110rem}}
header h1{{font-size:1.4rem;margin:1rem 0 .25rem}}header p{{margin:0 0 .75rem}}
.yasgui .tabsList .tab a{{font-size:13px;min-width:0;min-height:28px;padding:0 22px 0 10px}}
.yasgui .tabsList{{max-height:12.5rem;overflow-y:auto;border-bottom:1px solid #ddd}}
</style></head><body>
<header><h1>THB-KG: France's fight against trafficking in human beings</h1>
<p>Read-only SPARQL 1.1 endpoint at <code>/sparql</code> · <a href="/docs">API</a> ·
<a href="/ontology">ontology</a> · <a href="/graph">graph view</a> ·
<a href="/timeline">timeline</a> · <a href="/charts">charts</a> ·
<a href="/sparql">service description</a> ·
each tab is a competency question; hover a tab for the whole question.</p></header>
<noscript><p>The query editor needs JavaScript. Without it, any SPARQL client can query
<code>/sparql</code> (GET with <code>?query=</code>, or POST), for example
<code>curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * WHERE {{ ?s ?p ?o }} LIMIT 10' …/sparql</code>;
the competency questions are the <code>queries/cq-*.rq</code> files.</p></noscript>
<div id="yasgui"></div>
<script type="application/json" id="thbkg-config">{embedded}</script>
<script src="/static/yasgui/yasgui.min.js"></script>
<script>{_SCRIPT}</script>
</body></html>"""
