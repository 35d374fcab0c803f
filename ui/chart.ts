/**
 * Small SVG charts for the component page: the latency percentiles as bars, and the latency
 * distribution (histogram buckets) when Nimbus sends one.
 */
import { s } from './dom';
import { fmtMs } from './lib/format';
import { PERCENTILE_KEYS, type Percentiles } from './lib/stats';
import type { LatencyDistribution } from './types';

const W = 360;
const H = 150;
const PAD = { l: 8, r: 8, t: 18, b: 28 };

export function percentileChart(p: Percentiles): SVGSVGElement {
  const values = PERCENTILE_KEYS.map(([k]) => (Number.isFinite(p[k]) ? p[k] : 0));
  const max = Math.max(...values, 1e-9);
  const slot = (W - PAD.l - PAD.r) / values.length;
  const svg = s('svg', { class: 'chart percentiles', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Latency percentiles' });
  PERCENTILE_KEYS.forEach(([k, label], i) => {
    const v = values[i];
    const bh = ((H - PAD.t - PAD.b) * v) / max;
    const x = PAD.l + i * slot + slot * 0.2;
    const y = H - PAD.b - bh;
    svg.append(
      s('rect', { class: 'bar', x: x.toFixed(1), y: y.toFixed(1), width: (slot * 0.6).toFixed(1), height: Math.max(1, bh).toFixed(1), 'data-percentile': k }, s('title', {}, `${label}: ${fmtMs(p[k])} ms`)),
      s('text', { class: 'value', x: (x + slot * 0.3).toFixed(1), y: (y - 4).toFixed(1), 'text-anchor': 'middle' }, fmtMs(p[k])),
      s('text', { x: (x + slot * 0.3).toFixed(1), y: (H - PAD.b + 16).toFixed(1), 'text-anchor': 'middle' }, label),
    );
  });
  return svg;
}

/** The histogram: one bar per non-empty bucket (upper bound in ms), heights on a square-root scale. */
export function distributionChart(d: LatencyDistribution): SVGSVGElement {
  const svg = s('svg', { class: 'chart distribution', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${d.kind} latency distribution` });
  const buckets = d.buckets.slice(0, 60);
  if (buckets.length === 0) return svg;
  const max = Math.max(...buckets.map((b) => b.count));
  const slot = (W - PAD.l - PAD.r) / buckets.length;
  buckets.forEach((b, i) => {
    const bh = ((H - PAD.t - PAD.b) * Math.sqrt(b.count)) / Math.sqrt(max);
    svg.append(
      s(
        'rect',
        { class: 'bar', x: (PAD.l + i * slot + 1).toFixed(1), y: (H - PAD.b - bh).toFixed(1), width: Math.max(1, slot - 2).toFixed(1), height: Math.max(1, bh).toFixed(1) },
        s('title', {}, `≤ ${fmtMs(b.upperMs)} ms: ${b.count.toLocaleString('en-US')}`),
      ),
    );
  });
  svg.append(
    s('text', { x: PAD.l, y: H - 8 }, `${fmtMs(buckets[0].upperMs)} ms`),
    s('text', { x: W - PAD.r, y: H - 8, 'text-anchor': 'end' }, `${fmtMs(buckets[buckets.length - 1].upperMs)} ms`),
  );
  return svg;
}
