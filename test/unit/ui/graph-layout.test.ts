/** The topology graph's layout: layers follow the data, cycles and loops are drawn, all stable. */
import { layoutGraph, NODE_W, type GraphEdge, type GraphNode } from '../../../ui/lib/graph-layout';

const nodes: GraphNode[] = [
  { id: 'sentences', type: 'spout' },
  { id: 'split', type: 'bolt' },
  { id: 'count', type: 'bolt' },
  { id: 'lengths', type: 'bolt' },
  { id: 'report', type: 'bolt' },
];
const edges: GraphEdge[] = [
  { from: 'sentences', to: 'split', stream: 'default', grouping: 'shuffle' },
  { from: 'split', to: 'count', stream: 'default', grouping: 'fields' },
  { from: 'split', to: 'lengths', stream: 'lengths', grouping: 'global' },
  { from: 'count', to: 'report', stream: 'default', grouping: 'global' },
  { from: 'lengths', to: 'report', stream: 'default', grouping: 'global' },
  { from: 'split', to: 'report', stream: 'default', grouping: 'all' },
];

describe('layoutGraph', () => {
  test('each component one layer after its furthest input; every edge placed once', () => {
    const g = layoutGraph(nodes, edges);
    const layer = Object.fromEntries(g.nodes.map((n) => [n.id, n.layer]));
    expect(layer).toEqual({ sentences: 0, split: 1, count: 2, lengths: 2, report: 3 });
    expect(g.edges.map((e) => e.key).sort()).toEqual(edges.map((e) => `${e.from}→${e.to}:${e.stream}`).sort());
    for (const e of g.edges) expect(e.d).toMatch(/^M[\d.-]+,[\d.-]+ C/);
    expect(g.width).toBeGreaterThanOrEqual(4 * NODE_W);
    const xs = g.nodes.map((n) => n.x);
    expect(new Set(g.nodes.map((n) => `${n.x},${n.y}`)).size).toBe(nodes.length);
    expect(Math.min(...xs)).toBeGreaterThan(0);
  });

  test('deterministic whatever the input order', () => {
    const a = layoutGraph(nodes, edges);
    const b = layoutGraph([...nodes].reverse(), [...edges].reverse());
    expect(b).toEqual(a);
  });

  test('a cycle, a self loop, parallel streams and unknown components', () => {
    const g = layoutGraph(
      [
        { id: 's', type: 'spout' },
        { id: 'a', type: 'bolt' },
        { id: 'b', type: 'bolt' },
      ],
      [
        { from: 's', to: 'a', stream: 'default', grouping: 'shuffle' },
        { from: 's', to: 'a', stream: 'other', grouping: 'shuffle' },
        { from: 'a', to: 'b', stream: 'default', grouping: 'shuffle' },
        { from: 'b', to: 'a', stream: 'feedback', grouping: 'shuffle' },
        { from: 'b', to: 'b', stream: 'self', grouping: 'direct' },
        { from: 'ghost', to: 'a', stream: 'default', grouping: 'shuffle' },
      ],
    );
    expect(Object.fromEntries(g.nodes.map((n) => [n.id, n.layer]))).toEqual({ s: 0, a: 1, b: 2 });
    expect(g.edges).toHaveLength(5);
    const parallel = g.edges.filter((e) => e.from === 's');
    expect(parallel[0].labelY).not.toBe(parallel[1].labelY);
    const back = g.edges.find((e) => e.stream === 'feedback')!;
    expect(back.labelY).toBeGreaterThan(0);
    expect(g.height).toBeGreaterThan(54);
  });
});
