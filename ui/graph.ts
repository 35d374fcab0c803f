/**
 * The live topology graph (SVG) from Nimbus's visualization route: components as nodes (spouts
 * blue, bolts coloured by capacity so the bottleneck stands out), subscriptions as edges labelled
 * with stream, grouping and current rate, their width growing with the rate. The layout is computed again only when the topology's
 * shape changes; a refresh only rewrites labels, colours and widths.
 */
import { s, setAttr, setText } from './dom';
import { capacityLevel, fmtCapacity, fmtMs, fmtRate, num } from './lib/format';
import { edgeKey, layoutGraph, NODE_H, NODE_W, type GraphEdge, type GraphNode } from './lib/graph-layout';
import { routeHref } from './lib/routes';
import { edgeWidth } from './lib/stats';
import type { Visualization } from './types';

interface NodeView {
  g: SVGGElement;
  detail: SVGTextElement;
  title: SVGTitleElement;
}

interface EdgeView {
  path: SVGPathElement;
  label: SVGTextElement;
  title: SVGTitleElement;
}

export class TopologyGraph {
  readonly el: SVGSVGElement;
  private shape = '';
  private nodes = new Map<string, NodeView>();
  private edges = new Map<string, EdgeView>();

  constructor(private readonly topologyId: string) {
    this.el = s('svg', { class: 'graph', role: 'img', 'aria-label': 'Topology graph' });
  }

  update(vis: Visualization): void {
    const graphNodes: GraphNode[] = Object.entries(vis.components).map(([id, c]) => ({ id, type: c.type }));
    const graphEdges: GraphEdge[] = Object.entries(vis.components).flatMap(([id, c]) => c.inputs.map((i) => ({ from: i.component, to: id, stream: i.stream, grouping: i.grouping })));
    const shape = JSON.stringify([graphNodes.map((n) => [n.id, n.type]).sort(), graphEdges.map((e) => [edgeKey(e), e.grouping]).sort()]);
    if (shape !== this.shape) {
      this.shape = shape;
      this.build(graphNodes, graphEdges);
    }
    for (const [id, c] of Object.entries(vis.components)) {
      const view = this.nodes.get(id);
      if (!view) continue;
      const capacity = num(c.capacity);
      const level = c.type === 'spout' ? 'spout' : `cap-${capacityLevel(capacity)}`;
      setAttr(view.g, 'class', `node ${c.type} ${level}`);
      setAttr(view.g, 'data-capacity', Number.isFinite(capacity) ? capacity.toFixed(3) : '');
      const rate = c.emittedPerSec;
      const detail = c.type === 'spout' ? `×${c.parallelism} · ${fmtRate(rate)}/s` : `×${c.parallelism} · cap ${fmtCapacity(Number.isFinite(capacity) ? capacity : null)}`;
      setText(view.detail, detail);
      const latency = c.latency;
      setText(
        view.title,
        `${id} (${c.type}), ${c.parallelism} executor${c.parallelism === 1 ? '' : 's'}` +
          (c.type === 'bolt' ? `, capacity ${fmtCapacity(Number.isFinite(capacity) ? capacity : null)}, execute latency ${fmtMs(latency)} ms` : `, complete latency ${fmtMs(latency)} ms`) +
          `, emitting ${fmtRate(rate)}/s`,
      );
    }
    for (const [to, c] of Object.entries(vis.components)) {
      for (const input of c.inputs) {
        const key = edgeKey({ from: input.component, to, stream: input.stream });
        const view = this.edges.get(key);
        if (!view) continue;
        const rate = input.tuplesPerSec;
        setAttr(view.path, 'stroke-width', edgeWidth(rate).toFixed(2));
        setAttr(view.path, 'data-rate', rate.toFixed(1));
        setText(view.label, `${input.stream} · ${input.grouping} · ${fmtRate(rate)}/s`);
        setText(view.title, `${input.component} → ${to}: stream ${input.stream}, ${input.grouping} grouping, ${fmtRate(rate)} tuples/s (last ${vis.rateWindowSecs} s)`);
      }
    }
  }

  private build(nodes: GraphNode[], edges: GraphEdge[]): void {
    const layout = layoutGraph(nodes, edges);
    this.el.replaceChildren();
    this.nodes.clear();
    this.edges.clear();
    setAttr(this.el, 'width', String(layout.width));
    setAttr(this.el, 'height', String(layout.height));
    setAttr(this.el, 'viewBox', `0 0 ${layout.width} ${layout.height}`);
    this.el.append(
      s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' }, s('path', { d: 'M0,0 L10,5 L0,10 z' }))),
    );
    const edgeLayer = s('g', { class: 'edges' });
    const nodeLayer = s('g', { class: 'nodes' });
    this.el.append(edgeLayer, nodeLayer);
    for (const e of layout.edges) {
      const path = s('path', { d: e.d, 'marker-end': 'url(#arrow)', 'stroke-width': '1.2' });
      const title = s('title');
      const label = s('text', { x: e.labelX.toFixed(1), y: e.labelY.toFixed(1), 'text-anchor': 'middle' });
      edgeLayer.append(s('g', { class: 'edge', 'data-edge': e.key, 'data-from': e.from, 'data-to': e.to, 'data-stream': e.stream, 'data-grouping': e.grouping }, title, path, label));
      this.edges.set(e.key, { path, label, title });
    }
    for (const n of layout.nodes) {
      const title = s('title');
      const name = s('text', { class: 'name', x: (n.x + NODE_W / 2).toFixed(1), y: (n.y + 22).toFixed(1), 'text-anchor': 'middle' }, clip(n.id));
      const detail = s('text', { class: 'detail', x: (n.x + NODE_W / 2).toFixed(1), y: (n.y + 40).toFixed(1), 'text-anchor': 'middle' });
      const rect = s('rect', { x: n.x.toFixed(1), y: n.y.toFixed(1), width: NODE_W, height: NODE_H, rx: n.type === 'spout' ? 27 : 8 });
      const link = s('a', { href: routeHref({ page: 'component', id: this.topologyId, component: n.id }) }, rect, name, detail);
      const g = s('g', { class: `node ${n.type}`, 'data-component': n.id }, title, link);
      nodeLayer.append(g);
      this.nodes.set(n.id, { g, detail, title });
    }
  }
}

function clip(id: string): string {
  return id.length > 20 ? `${id.slice(0, 19)}…` : id;
}
