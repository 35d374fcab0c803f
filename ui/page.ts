/** What every page of the UI is: its element and a refresh that fetches and renders in place. */
export interface Crumb {
  label: string;
  href?: string;
}

export interface PageHost {
  /** Breadcrumbs and the document title. */
  setCrumbs(crumbs: Crumb[]): void;
  /** A message above the page (errors are coded: `CODE: message`); null clears it. */
  notify(kind: 'error' | 'info', text: string | null): void;
  /** Asks for a refresh now (after an action). */
  refreshSoon(): void;
}

export interface Page {
  readonly el: HTMLElement;
  /** Fetches and renders; throws (an ApiError) when Nimbus refuses or cannot be reached. */
  refresh(signal: AbortSignal): Promise<void>;
  destroy?(): void;
}
