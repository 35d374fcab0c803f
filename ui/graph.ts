/**
 * The live topology graph (SVG): components as nodes (spouts blue, bolts coloured by capacity so
 * the bottleneck stands out), subscriptions as edges labelled with stream, grouping and current
 * rate, their width growing with the rate. The layout is computed again only when the topology's
 * shape changes; a refresh only rewrites labels, colours and widths.
 */
import { s, setAttr, setText } from './dom';
import { capacityLevel, fmtCapacity, fmtMs, fmtRate, num } from './lib/format';
import { edgeKey, layoutGraph, NODE_H, NODE_W, type GraphEdge, type GraphNode } from './lib/graph-layout';
import { routeHref } from './lib/routes';
import { edgeWidth, RateTracker } from './lib/stats';
import type { Topology, Visualization } from './types';

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
  private readonly rates = new RateTracker();

  constructor(private readonly topologyId: string) {
    this.el = s('svg', { class: 'graph', role: 'img', 'aria-label': 'Topology graph' });
  }

  update(vis: Visualization, topo: Topology, nowMs: number): void {
    const graphNodes: GraphNode[] = Object.entries(vis.components).map(([id, c]) => ({ id, type: c.type }));
    const graphEdges: GraphEdge[] = Object.entries(vis.components).flatMap(([id, c]) => c.inputs.map((i) => ({ from: i.component, to: id, stream: i.stream, grouping: i.grouping })));
    const shape = JSON.stringify([graphNodes.map((n) => [n.id, n.type]).sort(), graphEdges.map((e) => [edgeKey(e), e.grouping]).sort()]);
    if (shape !== this.shape) {
      this.shape = shape;
      this.build(graphNodes, graphEdges);
    }
    const fallback = this.fallbackRates(topo, graphEdges, nowMs);
    for (const [id, c] of Object.entries(vis.components)) {
      const view = this.nodes.get(id);
      if (!view) continue;
      const bolt = topo.bolts.find((b) => b.boltId === id);
      const spout = topo.spouts.find((sp) => sp.spoutId === id);
      const capacity = num(c.capacity ?? bolt?.capacity);
      const level = c.type === 'spout' ? 'spout' : `cap-${capacityLevel(capacity)}`;
      setAttr(view.g, 'class', `node ${c.type} ${level}`);
      setAttr(view.g, 'data-capacity', Number.isFinite(capacity) ? capacity.toFixed(3) : '');
      const rate = c.emittedPerSec ?? fallback.emitted.get(id) ?? null;
      const detail = c.type === 'spout' ? `×${c.parallelism} · ${rate === null ? '-' : `${fmtRate(rate)}/s`}` : `×${c.parallelism} · cap ${fmtCapacity(Number.isFinite(capacity) ? capacity : null)}`;
      setText(view.detail, detail);
      const latency = c.latency ?? (c.type === 'spout' ? spout?.completeLatency : bolt?.executeLatency);
      setText(
        view.title,
        `${id} (${c.type}), ${c.parallelism} executor${c.parallelism === 1 ? '' : 's'}` +
          (c.type === 'bolt' ? `, capacity ${fmtCapacity(Number.isFinite(capacity) ? capacity : null)}, execute latency ${fmtMs(latency)} ms` : `, complete latency ${fmtMs(latency)} ms`) +
          (rate === null ? '' : `, emitting ${fmtRate(rate)}/s`),
      );
    }
    for (const [to, c] of Object.entries(vis.components)) {
      for (const input of c.inputs) {
        const key = edgeKey({ from: input.component, to, stream: input.stream });
        const view = this.edges.get(key);
        if (!view) continue;
        const rate = input.tuplesPerSec ?? fallback.edges.get(key) ?? null;
        setAttr(view.path, 'stroke-width', edgeWidth(rate).toFixed(2));
        setAttr(view.path, 'data-rate', rate === null ? '' : rate.toFixed(1));
        setText(view.label, `${input.stream} · ${input.grouping}${rate === null ? '' : ` · ${fmtRate(rate)}/s`}`);
        setText(view.title, `${input.component} → ${to}: stream ${input.stream}, ${input.grouping} grouping${rate === null ? '' : `, ${fmtRate(rate)} tuples/s`}`);
      }
    }
  }

  /**
   * Rates when Nimbus sends none: worked out from two polls of the topology page. An edge gets its
   * target's executed rate when that bolt has one input, else its source's transferred rate when
   * the source feeds one edge; otherwise none.
   */
  private fallbackRates(topo: Topology, edges: GraphEdge[], nowMs: number): { emitted: Map<string, number>; edges: Map<string, number> } {
    const emitted = new Map<string, number>();
    const transferred = new Map<string, number>();
    const executed = new Map<string, number>();
    const keep = new Set<string>();
    const track = (key: string, value: number, into: Map<string, number>, id: string): void => {
      keep.add(key);
      const r = this.rates.sample(key, value, nowMs);
      if (r !== null) into.set(id, r);
    };
    for (const sp of topo.spouts) {
      track(`e:${sp.spoutId}`, sp.emitted, emitted, sp.spoutId);
      track(`t:${sp.spoutId}`, sp.transferred, transferred, sp.spoutId);
    }
    for (const b of topo.bolts) {
      track(`e:${b.boltId}`, b.emitted, emitted, b.boltId);
      track(`t:${b.boltId}`, b.transferred, transferred, b.boltId);
      track(`x:${b.boltId}`, b.executed, executed, b.boltId);
    }
    this.rates.retain(keep);
    const edgeRates = new Map<string, number>();
    for (const e of edges) {
      const intoTarget = edges.filter((x) => x.to === e.to).length;
      const outOfSource = edges.filter((x) => x.from === e.from).length;
      const r = intoTarget === 1 ? executed.get(e.to) : outOfSource === 1 ? transferred.get(e.from) : undefined;
      if (r !== undefined) edgeRates.set(edgeKey(e), r);
    }
    return { emitted, edges: edgeRates };
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
