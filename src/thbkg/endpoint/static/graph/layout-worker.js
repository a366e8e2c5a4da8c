// Lays out large drawings off the page's main thread, so the page stays responsive meanwhile:
// a headless Cytoscape.js runs fCoSE on the node ids, start positions and edges (with their ideal
// lengths) it is sent, and answers with the positions found. Loads only the vendored files beside it.
/* global cytoscape */
importScripts('cytoscape.min.js', 'layout-base.js', 'cose-base.js', 'cytoscape-fcose.js');

self.onmessage = event => {
  const {run, elements, options} = event.data;
  const cy = cytoscape({headless: true, styleEnabled: true, elements: elements,
                        style: [{selector: 'node', style: {width: options.nodeSize, height: options.nodeSize}}]});
  const layout = cy.layout(Object.assign({}, options, {name: 'fcose', animate: false, fit: false,
                                                        idealEdgeLength: edge => edge.data('length')}));
  layout.one('layoutstop', () => {
    const positions = {};
    cy.nodes().forEach(node => { positions[node.id()] = node.position(); });
    self.postMessage({run: run, positions: positions});
    cy.destroy();
  });
  layout.run();
};
