/**
 * A table that stays fast with thousands of rows: sortable by any column, filtered by a search
 * box, and paged, so the DOM holds one page whatever the row count. A refresh updates rows in
 * place (kept by key) and rewrites only the cells whose text changed.
 */
import { h, setText } from './dom';
import { fmtInt } from './lib/format';
import { tableView, type SortState, type SortValue } from './lib/table-model';

export interface Column<R> {
  /** Stable id (`data-col` of the cells). */
  id: string;
  title: string;
  /** What the column means (the header's tooltip; docs/ui.md says the same). */
  tip?: string;
  /** Value to sort and search on. */
  value(r: R): SortValue;
  /** Text shown (default: numbers grouped by thousands, strings as they are). */
  text?(r: R): string;
  /** Custom content; called again only when `renderKey` (default: the text) changes. */
  render?(r: R, cell: HTMLTableCellElement): void;
  renderKey?(r: R): string;
  numeric?: boolean;
  /** A tooltip per cell (e.g. a whole error message). */
  cellTip?(r: R): string;
}

export interface TableOptions<R> {
  id: string;
  columns: Array<Column<R>>;
  rowKey(r: R): string;
  pageSize?: number;
  /** Show the search box (default: when there can be more rows than a page). */
  filter?: boolean;
  empty?: string;
  rowClass?(r: R): string;
  /** Initial sort column id. */
  sortBy?: string;
  descending?: boolean;
}

const DEFAULT_PAGE_SIZE = 25;

export class DataTable<R> {
  readonly el: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly info: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly pager: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly headers: HTMLTableCellElement[];
  private readonly rowsByKey = new Map<string, HTMLTableRowElement>();
  private rows: readonly R[] = [];
  private sort: SortState;
  private filterText = '';
  private page = 0;
  private readonly pageSize: number;

  constructor(private readonly opts: TableOptions<R>) {
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    const sortIndex = opts.sortBy ? opts.columns.findIndex((c) => c.id === opts.sortBy) : -1;
    this.sort = { column: sortIndex, descending: opts.descending ?? false };
    this.headers = opts.columns.map((c, i) =>
      h('th', { title: c.tip, class: c.numeric ? 'num sortable' : 'sortable', 'data-col': c.id, scope: 'col', onclick: () => this.sortOn(i) }, c.title),
    );
    this.tbody = h('tbody');
    this.table = h('table', { class: 'data', 'data-table': opts.id }, h('thead', {}, h('tr', {}, ...this.headers)), this.tbody);
    this.search = h('input', { type: 'search', placeholder: 'Search', 'aria-label': 'Search this table', class: 'table-search' });
    this.search.addEventListener('input', () => {
      this.filterText = this.search.value;
      this.page = 0;
      this.render();
    });
    this.prev = h('button', { type: 'button', class: 'pager-prev', onclick: () => this.turn(-1) }, '‹ Prev');
    this.next = h('button', { type: 'button', class: 'pager-next', onclick: () => this.turn(1) }, 'Next ›');
    this.info = h('span', { class: 'pager-info' });
    this.pager = h('div', { class: 'pager' }, this.prev, this.info, this.next);
    this.el = h('div', { class: 'table-wrap', 'data-table-wrap': opts.id }, h('div', { class: 'table-tools' }, this.search, this.pager), h('div', { class: 'table-scroll' }, this.table));
    this.markSort();
  }

  update(rows: readonly R[]): void {
    this.rows = rows;
    this.render();
  }

  private sortOn(i: number): void {
    this.sort = this.sort.column === i ? { column: i, descending: !this.sort.descending } : { column: i, descending: this.opts.columns[i].numeric === true };
    this.page = 0;
    this.markSort();
    this.render();
  }

  private markSort(): void {
    this.headers.forEach((th, i) => th.setAttribute('aria-sort', i === this.sort.column ? (this.sort.descending ? 'descending' : 'ascending') : 'none'));
  }

  private turn(delta: number): void {
    this.page += delta;
    this.render();
  }

  private render(): void {
    const { columns } = this.opts;
    const view = tableView({ rows: this.rows, values: columns.map((c) => c.value), sort: this.sort, filter: this.filterText, page: this.page, pageSize: this.pageSize });
    this.page = view.page;
    const paged = this.rows.length > this.pageSize;
    this.search.hidden = !(this.opts.filter ?? paged);
    this.pager.hidden = !paged && view.total === this.rows.length;
    setText(this.info, view.total === 0 ? '0 rows' : `${fmtInt(view.first + 1)}–${fmtInt(view.first + view.rows.length)} of ${fmtInt(view.total)}`);
    this.prev.disabled = view.page === 0;
    this.next.disabled = view.page >= view.pages - 1;
    const wanted: HTMLTableRowElement[] = [];
    const keep = new Set<string>();
    for (const r of view.rows) {
      const key = this.opts.rowKey(r);
      keep.add(key);
      let tr = this.rowsByKey.get(key);
      if (!tr) {
        tr = h('tr', { 'data-key': key }, ...columns.map((c) => h('td', { class: c.numeric ? 'num' : '', 'data-col': c.id })));
        this.rowsByKey.set(key, tr);
      }
      this.fill(tr, r);
      wanted.push(tr);
    }
    // rows off this page leave the DOM and the map: memory follows the page, not the table
    for (const [key, tr] of this.rowsByKey) {
      if (!keep.has(key)) {
        tr.remove();
        this.rowsByKey.delete(key);
      }
    }
    if (wanted.length === 0) {
      if (!this.tbody.querySelector('tr.empty')) this.tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, this.opts.empty ?? 'None')));
      return;
    }
    this.tbody.querySelector('tr.empty')?.remove();
    wanted.forEach((tr, i) => {
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] ?? null);
    });
  }

  private fill(tr: HTMLTableRowElement, r: R): void {
    const cls = this.opts.rowClass?.(r) ?? '';
    if (tr.className !== cls) tr.className = cls;
    this.opts.columns.forEach((c, i) => {
      const cell = tr.cells[i];
      const text = c.text ? c.text(r) : defaultText(c.value(r));
      if (c.render) {
        const key = c.renderKey ? c.renderKey(r) : text;
        if (cell.dataset.k !== key) {
          cell.dataset.k = key;
          cell.replaceChildren();
          c.render(r, cell);
        }
      } else setText(cell, text);
      if (c.cellTip) {
        const tip = c.cellTip(r);
        if (cell.title !== tip) cell.title = tip;
      }
    });
  }
}

function defaultText(v: SortValue): string {
  if (v === null) return '-';
  return typeof v === 'number' ? fmtInt(v) : v;
}

/** A two-column key/value table (topology configuration, summaries). */
export function keyValueTable(id: string, pageSize = 50): DataTable<[string, string]> {
  return new DataTable<[string, string]>({
    id,
    pageSize,
    filter: true,
    rowKey: (r) => r[0],
    sortBy: 'key',
    columns: [
      { id: 'key', title: 'Key', value: (r) => r[0] },
      { id: 'value', title: 'Value', value: (r) => r[1] },
    ],
  });
}
