// The SPARQL editor (/editor): YASGUI from our own static files, a tab per competency question.
// Nothing here, nor in YASGUI as configured, loads anything from another host: the LOV class and
// property completers (which call lov.linkeddata.es) are left out, prefix completion uses our
// prefixes and YASQE's bundled list (never prefix.cc), and the only endpoint offered is ours.
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
// /editor?tab=cq-NN-name opens on that question (the picture pages link here); otherwise on the first.
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
