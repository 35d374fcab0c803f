/**
 * What a table shows of its rows: filtered by a search text, sorted by one column, cut to one page.
 * Pure, so the paging that keeps 1,000-executor pages fast is unit-tested without a browser.
 */
export type SortValue = string | number | null;

export interface SortState {
  /** Column index; -1 keeps the rows in the order REST gave them. */
  column: number;
  descending: boolean;
}

export interface ViewRequest<R> {
  rows: readonly R[];
  /** The value to sort and filter on, per column. */
  values: ReadonlyArray<(row: R) => SortValue>;
  sort: SortState;
  filter: string;
  page: number;
  pageSize: number;
}

export interface View<R> {
  rows: R[];
  /** Rows after filtering (before paging). */
  total: number;
  page: number;
  pages: number;
  /** Index (in the filtered, sorted list) of the first row shown. */
  first: number;
}

/** Numbers before strings, nulls last, numbers by value, strings naturally (`w2` before `w10`). */
export function compareValues(a: SortValue, b: SortValue): number {
  if (a === b) return 0;
  if (a === null || (typeof a === 'number' && Number.isNaN(a))) return 1;
  if (b === null || (typeof b === 'number' && Number.isNaN(b))) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a.localeCompare(b, 'en', { numeric: true });
}

export function tableView<R>(req: ViewRequest<R>): View<R> {
  const needle = req.filter.trim().toLowerCase();
  let rows: R[] = needle
    ? req.rows.filter((r) =>
        req.values.some((v) => {
          const x = v(r);
          return x !== null && String(x).toLowerCase().includes(needle);
        }),
      )
    : [...req.rows];
  const col = req.values[req.sort.column];
  if (col) {
    const keyed = rows.map((r, i) => ({ r, i, k: col(r) }));
    const dir = req.sort.descending ? -1 : 1;
    // nulls stay last in both directions; ties keep REST's order
    keyed.sort((x, y) => {
      const xn = x.k === null || (typeof x.k === 'number' && Number.isNaN(x.k));
      const yn = y.k === null || (typeof y.k === 'number' && Number.isNaN(y.k));
      if (xn !== yn) return xn ? 1 : -1;
      return dir * compareValues(x.k, y.k) || x.i - y.i;
    });
    rows = keyed.map((k) => k.r);
  }
  const pageSize = Math.max(1, req.pageSize);
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const page = Math.min(Math.max(0, req.page), pages - 1);
  const first = page * pageSize;
  return { rows: rows.slice(first, first + pageSize), total: rows.length, page, pages, first };
}
