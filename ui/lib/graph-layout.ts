/**
 * Places a topology's components for the SVG graph (pure; unit-tested): a layered drawing from
 * left to right, spouts first. Each component sits one layer after its furthest input (longest
 * path, back edges of a cycle ignored); within a layer, components are ordered by the mean
 * position of their neighbours (a few barycenter sweeps) so edges cross less. The same topology
 * always gets the same picture.
 */
export interface GraphNode {
  id: string;
  type: 'spout' | 'bolt';
}

export interface GraphEdge {
  from: string;
  to: string;
  stream: string;
  grouping: string;
}

export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  layer: number;
}

export interface PlacedEdge extends GraphEdge {
  /** `from→to:stream`, unique per edge. */
  key: string;
  /** SVG path data. */
  d: string;
  labelX: number;
  labelY: number;
}

export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_W = 150;
export const NODE_H = 54;
const GAP_X = 130;
const GAP_Y = 34;
const MARGIN = 24;
const SWEEPS = 4;

export function edgeKey(e: Pick<GraphEdge, 'from' | 'to' | 'stream'>): string {
  return `${e.from}→${e.to}:${e.stream}`;
}

/** Edges that close a cycle (found by a depth-first walk from the spouts, in id order). */
function backEdges(nodes: readonly GraphNode[], out: ReadonlyMap<string, GraphEdge[]>): Set<GraphEdge> {
  const state = new Map<string, 'open' | 'done'>();
  const back = new Set<GraphEdge>();
  const visit = (id: string): void => {
    state.set(id, 'open');
    for (const e of out.get(id) ?? []) {
      const s = state.get(e.to);
      if (s === 'open') back.add(e);
      else if (s === undefined) visit(e.to);
    }
    state.set(id, 'done');
  };
  const roots = [...nodes].sort((a, b) => (a.type === b.type ? a.id.localeCompare(b.id) : a.type === 'spout' ? -1 : 1));
  for (const n of roots) if (!state.has(n.id)) visit(n.id);
  return back;
}

function layers(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): Map<string, number> {
  const out = new Map<string, GraphEdge[]>();
  for (const e of edges) if (e.from !== e.to) (out.get(e.from) ?? out.set(e.from, []).get(e.from)!).push(e);
  const back = backEdges(nodes, out);
  const forward = edges.filter((e) => e.from !== e.to && !back.has(e));
  const layer = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  // longest path: relax |V| times at most (a DAG settles in its depth)
  for (let pass = 0; pass < nodes.length; pass++) {
    let changed = false;
    for (const e of forward) {
      const want = (layer.get(e.from) ?? 0) + 1;
      if (want > (layer.get(e.to) ?? 0)) {
        layer.set(e.to, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

function orderLayers(nodes: readonly GraphNode[], edges: readonly GraphEdge[], layer: ReadonlyMap<string, number>): string[][] {
  const depth = Math.max(0, ...layer.values());
  const rows: string[][] = Array.from({ length: depth + 1 }, () => []);
  for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) rows[layer.get(n.id) ?? 0].push(n.id);
  const neighbours = (id: string, towards: 'in' | 'out'): string[] =>
    edges.filter((e) => (towards === 'in' ? e.to === id : e.from === id) && e.from !== e.to).map((e) => (towards === 'in' ? e.from : e.to));
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    const down = sweep % 2 === 0;
    const pos = new Map<string, number>();
    for (const row of rows) row.forEach((id, i) => pos.set(id, i / Math.max(1, row.length - 1)));
    const order = down ? rows.slice(1) : rows.slice(0, -1).reverse();
    for (const row of order) {
      const bary = new Map<string, number>();
      row.forEach((id, i) => {
        const ns = neighbours(id, down ? 'in' : 'out').filter((n) => pos.has(n));
        bary.set(id, ns.length > 0 ? ns.reduce((s, n) => s + pos.get(n)!, 0) / ns.length : i / Math.max(1, row.length - 1));
      });
      row.sort((a, b) => bary.get(a)! - bary.get(b)! || a.localeCompare(b));
      row.forEach((id, i) => pos.set(id, i / Math.max(1, row.length - 1)));
    }
  }
  return rows;
}

export function layoutGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): GraphLayout {
  const known = new Set(nodes.map((n) => n.id));
  const usable = edges.filter((e) => known.has(e.from) && known.has(e.to));
  const layer = layers(nodes, usable);
  const rows = orderLayers(nodes, usable, layer);
  const tallest = Math.max(1, ...rows.map((r) => r.length));
  const height = MARGIN * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const placed = new Map<string, PlacedNode>();
  rows.forEach((row, l) => {
    const rowH = row.length * NODE_H + (row.length - 1) * GAP_Y;
    const top = (height - rowH) / 2;
    row.forEach((id, i) => placed.set(id, { ...byId.get(id)!, layer: l, x: MARGIN + l * (NODE_W + GAP_X), y: top + i * (NODE_H + GAP_Y) }));
  });
  const width = MARGIN * 2 + rows.length * NODE_W + (rows.length - 1) * GAP_X;
  // edges between the same two components are fanned out so each label stays readable
  const siblings = new Map<string, GraphEdge[]>();
  for (const e of usable) {
    const k = `${e.from}→${e.to}`;
    (siblings.get(k) ?? siblings.set(k, []).get(k)!).push(e);
  }
  const placedEdges: PlacedEdge[] = [];
  let extraBelow = 0;
  for (const group of siblings.values()) {
    group.sort((a, b) => a.stream.localeCompare(b.stream));
    group.forEach((e, i) => {
      const spread = (i - (group.length - 1) / 2) * 14;
      const a = placed.get(e.from)!;
      const b = placed.get(e.to)!;
      const edge = routeEdge(e, a, b, spread, height);
      extraBelow = Math.max(extraBelow, edge.below);
      placedEdges.push(edge.edge);
    });
  }
  placedEdges.sort((x, y) => x.key.localeCompare(y.key));
  return { nodes: [...placed.values()], edges: placedEdges, width, height: height + extraBelow };
}

function routeEdge(e: GraphEdge, a: PlacedNode, b: PlacedNode, spread: number, height: number): { edge: PlacedEdge; below: number } {
  const key = edgeKey(e);
  if (a.id === b.id) {
    // a loop over the top of the node
    const x1 = a.x + NODE_W * 0.65;
    const x2 = a.x + NODE_W * 0.35;
    const y = a.y;
    const lift = 30 + Math.abs(spread);
    return { edge: { ...e, key, d: `M${x1},${y} C${x1 + 20},${y - lift} ${x2 - 20},${y - lift} ${x2},${y}`, labelX: a.x + NODE_W / 2, labelY: y - lift + 4 }, below: 0 };
  }
  const y1 = a.y + NODE_H / 2 + spread;
  const y2 = b.y + NODE_H / 2 + spread;
  if (b.layer > a.layer) {
    const x1 = a.x + NODE_W;
    const x2 = b.x;
    const mx = (x1 + x2) / 2;
    return { edge: { ...e, key, d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, labelX: mx, labelY: (y1 + y2) / 2 - 6 }, below: 0 };
  }
  // a back edge (a cycle): out of the bottom of the source, under the drawing, into the bottom of the target
  const x1 = a.x + NODE_W / 2 + spread;
  const x2 = b.x + NODE_W / 2 + spread;
  const low = height + 10 + Math.abs(spread);
  return {
    edge: { ...e, key, d: `M${x1},${a.y + NODE_H} C${x1},${low} ${x2},${low} ${x2},${b.y + NODE_H}`, labelX: (x1 + x2) / 2, labelY: low - 4 },
    below: 30 + Math.abs(spread),
  };
}
