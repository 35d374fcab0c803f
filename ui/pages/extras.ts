/**
 * Panels for bolts that report more than Storm's figures, each shown only when some row carries
 * its field: windowed bolts (`windows`), stateful bolts (`checkpoint`) and async bolts
 * (`inflight`, `asyncTimedOut`). The topology page lists bolts; the component page executors.
 */
import { h, section } from '../dom';
import { fmtBytes, fmtInt, fmtTime } from '../lib/format';
import { DataTable } from '../table';
import type { Extras } from '../types';

export class ExtrasPanels<R extends Extras> {
  readonly el: HTMLElement;
  private readonly windowed: DataTable<R>;
  private readonly stateful: DataTable<R>;
  private readonly async: DataTable<R>;
  private readonly panels: HTMLElement[];

  constructor(idPrefix: string, what: string, key: (r: R) => string, label: (r: R) => string) {
    const id = { id: 'id', title: what, value: label };
    this.windowed = new DataTable<R>({
      id: `${idPrefix}-windows`,
      rowKey: key,
      columns: [
        id,
        { id: 'open', title: 'Open windows', tip: 'Windows holding tuples that have not fired yet', value: (r) => r.windows?.open ?? null, numeric: true },
        { id: 'buffered', title: 'Buffered tuples', tip: 'Tuples held by the window manager', value: (r) => r.windows?.buffered ?? null, numeric: true },
        { id: 'watermark', title: 'Watermark', tip: 'Event-time progress (the lowest over executors)', value: (r) => r.windows?.watermarkMs ?? null, text: (r) => fmtTime(r.windows?.watermarkMs) },
        { id: 'late', title: 'Late tuples', tip: 'Tuples that arrived behind the watermark', value: (r) => r.windows?.late ?? null, numeric: true },
        { id: 'lateDropped', title: 'Late dropped', tip: 'Late tuples dropped (no late tuple stream)', value: (r) => r.windows?.lateDropped ?? null, numeric: true },
      ],
    });
    this.stateful = new DataTable<R>({
      id: `${idPrefix}-checkpoints`,
      rowKey: key,
      columns: [
        id,
        { id: 'txid', title: 'Last checkpoint', tip: 'Transaction id of the latest checkpoint', value: (r) => r.checkpoint?.txid ?? null, numeric: true },
        { id: 'duration', title: 'Duration (ms)', tip: 'Time the latest checkpoint took', value: (r) => r.checkpoint?.durationMs ?? null, numeric: true },
        { id: 'size', title: 'State size', tip: 'Bytes of state in the latest checkpoint', value: (r) => r.checkpoint?.sizeBytes ?? null, text: (r) => fmtBytes(r.checkpoint?.sizeBytes), numeric: true },
        { id: 'alignment', title: 'Alignment (ms)', tip: 'Time spent waiting for barriers from every input', value: (r) => r.checkpoint?.alignmentMs ?? null, numeric: true },
        { id: 'held', title: 'Held tuples', tip: 'Tuples held back while aligning barriers', value: (r) => r.checkpoint?.heldTuples ?? null, numeric: true },
        { id: 'failed', title: 'Failed checkpoints', value: (r) => r.checkpoint?.failed ?? null, numeric: true },
      ],
    });
    this.async = new DataTable<R>({
      id: `${idPrefix}-async`,
      rowKey: key,
      columns: [
        id,
        { id: 'inflight', title: 'In flight', tip: 'Async executions started and not settled', value: (r) => r.inflight ?? null, numeric: true },
        { id: 'timedOut', title: 'Timed out', tip: 'Async executions that exceeded their timeout', value: (r) => r.asyncTimedOut ?? null, text: (r) => fmtInt(r.asyncTimedOut), numeric: true },
      ],
    });
    this.panels = [
      section('Windowed bolts', `${idPrefix}-windowed-panel`, this.windowed.el),
      section('Stateful bolts (checkpoints)', `${idPrefix}-stateful-panel`, this.stateful.el),
      section('Async bolts', `${idPrefix}-async-panel`, this.async.el),
    ];
    for (const p of this.panels) p.hidden = true;
    this.el = h('div', { class: 'extras' }, ...this.panels);
  }

  update(rows: readonly R[]): void {
    const parts: Array<[DataTable<R>, R[]]> = [
      [this.windowed, rows.filter((r) => r.windows)],
      [this.stateful, rows.filter((r) => r.checkpoint)],
      [this.async, rows.filter((r) => r.inflight !== undefined || r.asyncTimedOut !== undefined)],
    ];
    parts.forEach(([table, some], i) => {
      this.panels[i].hidden = some.length === 0;
      if (some.length > 0) table.update(some);
    });
  }
}
