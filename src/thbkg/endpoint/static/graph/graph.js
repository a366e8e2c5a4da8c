// The graph view at /graph: find a resource, draw its neighbourhood, expand nodes by clicking them,
// draw the whole graph or what a CONSTRUCT query builds. Cytoscape.js with the fCoSE layout, all
// served from /static/graph/; every request goes to this server, its JSON API under config.api. Text from the graph is only ever
// set with textContent, never parsed as markup.
(function () {
  'use strict';

  const config = JSON.parse(document.getElementById('thbkg-graph-config').textContent);
  const byId = id => document.getElementById(id);
  const statusLine = byId('status');
  // Attributes the details panel shows in its own lines, or that only the drawing uses.
  const SHOWN_APART = new Set(['id', 'name', 'label', 'label_en', 'label_fr', 'class', 'class_label', 'class_iri',
                               'iri', 'colour', 'short', 'expanded']);
  const SHORT_LABEL = 40;
  // Drawings up to this many nodes are laid out on the page, animated; larger ones in a worker.
  const ANIMATE_UP_TO = 150;
  const LAYOUT = {name: 'fcose', quality: 'default', nodeDimensionsIncludeLabels: false, uniformNodeDimensions: true,
                  packComponents: true, nodeRepulsion: 40000, edgeElasticity: 0.45, numIter: 2500, nodeSize: 16};

  // Edges at a hub are longer, so that its many neighbours have room around it.
  function edgeLength(edge) {
    return 50 + 20 * Math.sqrt(Math.max(edge.source().degree(), edge.target().degree()));
  }

  // -- Colours by class: the most frequent classes of the whole graph get the most distinct hues ---
  const classOrder = new Map(config.classes.map((entry, i) => [entry.class, i]));
  const classNames = new Map(config.classes.map(entry => [entry.class, entry.label]));

  function colourFor(cls) {
    if (!cls) return '#9e9e9e';
    if (!classOrder.has(cls)) classOrder.set(cls, classOrder.size);
    const i = classOrder.get(cls);
    return `hsl(${Math.round((i * 137.508) % 360)}, ${i % 3 === 2 ? 45 : 65}%, ${i % 2 ? 60 : 42}%)`;
  }

  function className(cls) {
    return cls ? classNames.get(cls) || cls : 'no class';
  }

  // -- The drawing -------------------------------------------------------------------------------
  const cy = cytoscape({
    container: byId('cy'),
    minZoom: 0.05,
    maxZoom: 4,
    boxSelectionEnabled: false,
    style: [
      // Labels show once zoomed in enough to read them; the centre, the selection and the node
      // under the pointer always show theirs.
      {selector: 'node', style: {
        'background-color': 'data(colour)', 'label': 'data(short)', 'width': LAYOUT.nodeSize,
        'height': LAYOUT.nodeSize, 'font-size': 10, 'min-zoomed-font-size': 9, 'color': '#222',
        'text-valign': 'bottom', 'text-margin-y': 2, 'text-outline-color': '#fff', 'text-outline-width': 1.5}},
      {selector: 'node.centre', style: {'width': 26, 'height': 26, 'font-weight': 'bold', 'font-size': 12}},
      {selector: 'node.centre, node:selected, node.hover', style: {
        'min-zoomed-font-size': 0, 'z-index': 10, 'text-background-color': '#fff', 'text-background-opacity': 0.85,
        'text-background-padding': 2}},
      {selector: 'node.opened', style: {'border-width': 2, 'border-color': '#333'}},
      {selector: 'node:selected', style: {'border-width': 4, 'border-color': '#0b57d0'}},
      {selector: 'edge', style: {
        'width': 1, 'line-color': '#b9b9b9', 'target-arrow-color': '#b9b9b9', 'target-arrow-shape': 'triangle',
        'arrow-scale': 0.7, 'curve-style': 'bezier', 'label': 'data(label)', 'font-size': 8,
        'min-zoomed-font-size': 9, 'text-rotation': 'autorotate', 'color': '#555',
        'text-background-color': '#fff', 'text-background-opacity': 0.8}},
      {selector: 'edge:selected', style: {'line-color': '#0b57d0', 'target-arrow-color': '#0b57d0', 'width': 2}},
      {selector: '.faded', style: {'opacity': 0.15}},
    ],
  });
  window.thbkgGraph = cy;

  let layoutRuns = 0;
  let layoutToken = 0;  // the latest layout asked for; an older one's result is dropped
  let running = null;
  let worker = null;  // started on the first large layout

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle('error', Boolean(isError));
  }

  function describeDrawing() {
    const nodes = cy.nodes().length;
    return `${nodes} node${nodes === 1 ? '' : 's'}, ${cy.edges().length} edges drawn`;
  }

  function laidOut(started, where) {
    const ms = Math.round(performance.now() - started);
    layoutRuns += 1;
    window.thbkgLastLayout = {run: layoutRuns, ms: ms, nodes: cy.nodes().length, edges: cy.edges().length,
                              where: where};
    setStatus(`${describeDrawing()} · laid out in ${ms} ms`);
  }

  function layOut(randomize) {
    const token = ++layoutToken;
    if (running) running.stop();
    const nodes = cy.nodes().length;
    if (!nodes) {
      setStatus('Nothing drawn.');
      return Promise.resolve();
    }
    const started = performance.now();
    if (nodes > ANIMATE_UP_TO && window.Worker) return layOutInWorker(randomize, token, started);
    const layout = cy.layout(Object.assign({}, LAYOUT, {randomize: randomize, animate: true, animationDuration: 400,
                                                        fit: true, padding: 30, idealEdgeLength: edgeLength}));
    running = layout;
    const done = layout.promiseOn('layoutstop').then(() => {
      if (running === layout) running = null;
      if (token === layoutToken) laidOut(started, 'page');
    });
    layout.run();
    return done;
  }

  function layOutInWorker(randomize, token, started) {
    if (!worker) worker = new Worker('/static/graph/layout-worker.js');
    setStatus(`${describeDrawing()} · laying out…`);
    if (randomize) cy.layout({name: 'random', fit: true, padding: 30}).run();  // a cloud to look at meanwhile
    const elements = {
      nodes: cy.nodes().map(node => ({data: {id: node.id()}, position: Object.assign({}, node.position())})),
      edges: cy.edges().map(edge => ({data: {id: edge.id(), source: edge.source().id(), target: edge.target().id(),
                                             length: edgeLength(edge)}})),
    };
    return new Promise((resolve, reject) => {
      const stop = () => {
        worker.removeEventListener('message', answered);
        worker.removeEventListener('error', failed);
      };
      const answered = event => {
        if (event.data.run !== token) return;
        stop();
        if (token === layoutToken) {
          const positions = event.data.positions;
          cy.nodes().positions(node => positions[node.id()] || node.position());
          cy.fit(undefined, 30);
          laidOut(started, 'worker');
        }
        resolve();
      };
      const failed = event => {
        stop();
        worker.terminate();
        worker = null;
        reject(new Error('the layout failed: ' + (event.message || 'worker error')));
      };
      worker.addEventListener('message', answered);
      worker.addEventListener('error', failed);
      worker.postMessage({run: token, elements: elements, options: Object.assign({}, LAYOUT, {randomize: randomize})});
    });
  }

  function prepare(elements) {
    for (const node of elements.nodes) {
      const data = node.data;
      data.colour = colourFor(data.class);
      data.short = data.label.length > SHORT_LABEL ? data.label.slice(0, SHORT_LABEL - 1) + '…' : data.label;
    }
    return elements;
  }

  // Adds what is not drawn yet; new nodes start in a ring around ``near`` (the node expanded).
  function addElements(elements, near) {
    prepare(elements);
    const nodes = elements.nodes.filter(node => cy.getElementById(node.data.id).empty());
    if (near) {
      nodes.forEach((node, i) => {
        const angle = 2 * Math.PI * i / nodes.length;
        node.position = {x: near.x + 80 * Math.cos(angle), y: near.y + 80 * Math.sin(angle)};
      });
    }
    const edges = elements.edges.filter(edge => cy.getElementById(edge.data.id).empty());
    let added = cy.collection();
    cy.batch(() => { added = cy.add({nodes: nodes, edges: edges}); });
    return added;
  }

  function clearDrawing() {
    layoutToken += 1;
    if (running) running.stop();
    cy.elements().remove();
    clearHighlight();
    byId('details').hidden = true;
  }

  // -- Talking to the server: JSON in, errors as text ----------------------------------------------
  async function getJSON(url, init) {
    const response = await fetch(url, init);
    let payload = null;
    try {
      payload = await response.json();
    } catch (error) {
      payload = null;
    }
    if (!response.ok) throw new Error((payload && payload.error) || `${response.status} ${response.statusText}`);
    return payload;
  }

  // Drawing operations run one after the other, never interleaved.
  let queue = Promise.resolve();
  function serially(task) {
    queue = queue.then(task).catch(error => setStatus(error.message, true));
    return queue;
  }

  function nodeQuery(data) {
    return data.iri ? {iri: data.iri} : {id: data.id};
  }

  async function drawNeighbourhood(which, fresh) {
    setStatus('Loading…');
    const result = await getJSON(config.api + '/neighbourhood?' + new URLSearchParams(which));
    const existing = cy.getElementById(result.centre);
    const near = !fresh && existing.nonempty() ? Object.assign({}, existing.position()) : null;
    if (fresh) clearDrawing();
    const added = addElements(result.elements, near);
    const centre = cy.getElementById(result.centre);
    centre.data('expanded', true);
    centre.addClass('opened');
    if (fresh) {
      cy.nodes('.centre').removeClass('centre');
      centre.addClass('centre');
    }
    refreshLegend();
    if (added.nonempty()) {
      await layOut(fresh || !near);
    } else {
      setStatus(`${describeDrawing()} · nothing new around ${centre.data('label')}`);
    }
    cy.$(':selected').unselect();
    centre.select();
    showDetails(centre);
  }

  function expand(node) {
    if (node.data('expanded')) {
      setStatus(`${describeDrawing()} · every neighbour of ${node.data('label')} is drawn`);
      return;
    }
    node.data('expanded', true);  // at once: the second tap of a double-click must not expand again
    serially(() => drawNeighbourhood(nodeQuery(node.data()), false).catch(error => {
      node.data('expanded', false);
      throw error;
    }));
  }

  function drawWhole() {
    return serially(async () => {
      setStatus('Loading the whole graph…');
      const result = await getJSON(config.api + '/elements');
      clearDrawing();
      for (const node of result.elements.nodes) node.data.expanded = true;
      addElements(result.elements, null);
      refreshLegend();
      await layOut(true);
    });
  }

  function drawConstruct(query) {
    return serially(async () => {
      setStatus('Running the query…');
      const result = await getJSON(config.api + '/construct', {method: 'POST', body: new URLSearchParams({query: query})});
      if (!byId('keep').checked) clearDrawing();
      addElements(result.elements, null);
      refreshLegend();
      if (!result.elements.nodes.length) {
        setStatus('The query built no resource to draw (' + result.triples + ' triples).');
        return;
      }
      await layOut(true);
    });
  }

  // -- Details of the selected node ----------------------------------------------------------------
  // Every IRI of ours answers on this server, at its path (https://w3id.org/thbkg/id/x -> /id/x).
  function pageOf(iri) {
    if (iri.startsWith(config.base)) return '/' + iri.slice(config.base.length);
    return /^https?:\/\//i.test(iri) ? iri : null;
  }

  // An attribute's name for a reader: the label of its property, with the language of the value
  // (thb_publisherName_fr -> "publisher name (fr)"); the attribute's key as it is otherwise.
  function attributeLabel(name) {
    if (config.attributes[name]) return config.attributes[name];
    for (let cut = name.lastIndexOf('_'); cut > 0; cut = name.lastIndexOf('_', cut - 1)) {
      const label = config.attributes[name.slice(0, cut)];
      if (label) return `${label} (${name.slice(cut + 1).replace(/_/g, '-')})`;
    }
    return name;
  }

  let shown = null;
  function showDetails(node) {
    const data = node.data();
    shown = node;
    byId('details').hidden = false;
    byId('details-label').textContent = data.label;
    byId('details-label-fr').textContent = data.label_fr && data.label_fr !== data.label ? data.label_fr : '';
    byId('details-class').textContent = 'Class: ' + (data.class_label || className(data.class));
    const link = byId('details-page');
    const page = data.iri ? pageOf(data.iri) : null;
    link.hidden = !page;
    if (page) {
      link.href = page;
      link.textContent = page.startsWith('/') ? 'Open its linked-data page' : 'Open its IRI';
    }
    byId('details-iri').textContent = data.iri || '(a blank node: no IRI)';
    byId('details-expand').disabled = Boolean(data.expanded);
    const table = byId('details-attributes');
    table.replaceChildren();
    const names = Object.keys(data).filter(name => !SHOWN_APART.has(name))
      .map(name => [attributeLabel(name), name]).sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
    for (const [label, name] of names) {
      const row = table.insertRow();
      const key = document.createElement('th');
      key.scope = 'row';
      key.textContent = label;
      key.title = name;
      row.append(key);
      row.insertCell().textContent = String(data[name]);
    }
  }

  function openPage(node) {
    const page = node.data('iri') ? pageOf(node.data('iri')) : null;
    if (page) window.open(page, '_blank', 'noopener');
  }

  // -- Legend: the classes drawn, with their colours; a click highlights a class --------------------
  let highlighted = null;
  function clearHighlight() {
    highlighted = null;
    cy.elements('.faded').removeClass('faded');
  }

  function highlight(cls) {
    clearHighlight();
    highlighted = cls;
    const members = cy.nodes().filter(node => (node.data('class') || '') === cls);
    cy.elements().not(members).not(members.edgesWith(members)).addClass('faded');
  }

  function refreshLegend() {
    const counts = new Map();
    cy.nodes().forEach(node => {
      const cls = node.data('class') || '';
      counts.set(cls, (counts.get(cls) || 0) + 1);
    });
    const list = byId('legend-list');
    list.replaceChildren();
    const entries = [...counts].sort((a, b) => b[1] - a[1] || className(a[0]).localeCompare(className(b[0])));
    for (const [cls, count] of entries) {
      const button = document.createElement('button');
      button.type = 'button';
      button.title = cls ? `${cls}: click to highlight` : 'resources without a class';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.backgroundColor = colourFor(cls);
      button.append(swatch, `${className(cls)} (${count})`);
      button.addEventListener('click', () => (highlighted === cls ? clearHighlight() : highlight(cls)));
      const item = document.createElement('li');
      item.append(button);
      list.append(item);
    }
  }

  // -- Search --------------------------------------------------------------------------------------
  const searchBox = byId('search');
  const resultsList = byId('results');
  let searchRun = 0;
  let searchTimer = null;

  function pick(result) {
    resultsList.replaceChildren();
    if (result.iri) history.replaceState(null, '', '/graph?iri=' + encodeURIComponent(result.iri));
    return serially(() => drawNeighbourhood(nodeQuery(result), !byId('keep').checked));
  }

  function showResults(results) {
    resultsList.replaceChildren();
    for (const result of results) {
      const button = document.createElement('button');
      button.type = 'button';
      const title = document.createElement('span');
      title.textContent = result.label;
      const detail = document.createElement('span');
      detail.className = 'class';
      const french = result.label_fr && result.label_fr !== result.label ? ` · ${result.label_fr}` : '';
      detail.textContent = ` — ${result.class_label || 'no class'}${french}`;
      button.append(title, detail);
      button.addEventListener('click', () => pick(result));
      const item = document.createElement('li');
      item.append(button);
      resultsList.append(item);
    }
    if (!results.length && searchBox.value.trim()) {
      const item = document.createElement('li');
      item.className = 'muted';
      item.textContent = 'No resource has that in its label.';
      resultsList.append(item);
    }
  }

  async function search() {
    const text = searchBox.value.trim();
    const run = ++searchRun;
    if (!/[\p{L}\p{N}]/u.test(text)) {
      showResults([]);
      return [];
    }
    const found = await getJSON(config.api + '/search?q=' + encodeURIComponent(text));
    if (run === searchRun) showResults(found.results);
    return found.results;
  }

  searchBox.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search().catch(error => setStatus(error.message, true)), 180);
  });
  byId('search-form').addEventListener('submit', event => {
    event.preventDefault();
    clearTimeout(searchTimer);
    search().then(results => { if (results.length) pick(results[0]); })
      .catch(error => setStatus(error.message, true));
  });

  // -- Buttons and pointer -------------------------------------------------------------------------
  byId('whole').addEventListener('click', () => {
    history.replaceState(null, '', '/graph?whole');
    drawWhole();
  });
  byId('fit').addEventListener('click', () => cy.fit(undefined, 30));
  byId('relayout').addEventListener('click', () => serially(() => layOut(true)));
  byId('clear').addEventListener('click', () => {
    clearDrawing();
    refreshLegend();
    setStatus('Nothing drawn.');
  });
  byId('construct').value = config.example;
  byId('construct-form').addEventListener('submit', event => {
    event.preventDefault();
    drawConstruct(byId('construct').value);
  });
  byId('details-expand').addEventListener('click', () => { if (shown) expand(shown); });
  byId('details-focus').addEventListener('click', () => {
    if (shown) serially(() => drawNeighbourhood(nodeQuery(shown.data()), true));
  });

  cy.on('tap', 'node', event => {
    clearHighlight();
    expand(event.target);
    showDetails(event.target);
  });
  cy.on('dbltap', 'node', event => openPage(event.target));
  cy.on('mouseover', 'node', event => event.target.addClass('hover'));
  cy.on('mouseout', 'node', event => event.target.removeClass('hover'));
  cy.on('tap', event => {
    if (event.target === cy) {
      clearHighlight();
      byId('details').hidden = true;
    }
  });

  // -- Start: /graph?iri=<IRI> opens that resource, /graph?whole the whole graph -------------------
  const params = new URLSearchParams(location.search);
  if (params.get('iri')) {
    serially(() => drawNeighbourhood({iri: params.get('iri')}, true));
  } else if (params.has('whole')) {
    drawWhole();
  } else {
    setStatus(`Find a resource, or draw the whole graph (${config.nodes} nodes, ${config.edges} edges).`);
  }
}());
