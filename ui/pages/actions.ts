/**
 * Storm UI's topology actions: activate, deactivate, rebalance and kill (the last two ask for the
 * wait time, defaulting to the message timeout as Storm does). A call Nimbus refuses shows its
 * coded error; an unauthorized one asks for the token first (ui/auth.ts).
 */
import type { OperationResult, TopologyPage } from '../../common/protocol/rest';

type TopologyStatus = TopologyPage['status'];
import { describeApiError, enc, postJson } from '../api';
import { withToken } from '../auth';
import { ask } from '../dialogs';
import { h } from '../dom';
import { allowedActions, parseExecutors, type Action } from '../lib/actions';
import type { PageHost } from '../page';

export class TopologyActions {
  readonly el: HTMLElement;
  private readonly buttons: Record<Action, HTMLButtonElement>;
  private status: TopologyStatus = 'ACTIVE';
  private msgTimeoutSecs = 30;

  constructor(
    private readonly host: PageHost,
    private readonly topologyId: string,
    private readonly components: () => string[],
  ) {
    const button = (a: Action, label: string, cls = ''): HTMLButtonElement => h('button', { type: 'button', class: cls, 'data-action': a, onclick: () => void this.run(a) }, label);
    this.buttons = {
      activate: button('activate', 'Activate'),
      deactivate: button('deactivate', 'Deactivate'),
      rebalance: button('rebalance', 'Rebalance'),
      kill: button('kill', 'Kill', 'danger'),
    };
    this.el = h('div', { class: 'actions', role: 'group', 'aria-label': 'Topology actions' }, ...Object.values(this.buttons));
  }

  update(status: TopologyStatus, msgTimeoutSecs: number): void {
    this.status = status;
    this.msgTimeoutSecs = msgTimeoutSecs;
    const allowed = allowedActions(status);
    for (const [a, b] of Object.entries(this.buttons)) b.disabled = !allowed.has(a as Action);
  }

  private async run(action: Action): Promise<void> {
    this.host.notify('info', null);
    const path = await this.pathAndBody(action);
    if (!path) return;
    for (const b of Object.values(this.buttons)) b.disabled = true;
    try {
      const result = await withToken(() => postJson<OperationResult>(path.url, path.body));
      this.host.notify('info', `${result.topologyOperation}: ${result.status}`);
    } catch (err) {
      this.host.notify('error', describeApiError(err));
    } finally {
      this.update(this.status, this.msgTimeoutSecs);
      this.host.refreshSoon();
    }
  }

  private async pathAndBody(action: Action): Promise<{ url: string; body?: unknown } | null> {
    const base = `topology/${enc(this.topologyId)}`;
    if (action === 'activate' || action === 'deactivate') return { url: `${base}/${action}` };
    const wait = { name: 'wait', label: 'Wait time (seconds)', type: 'number' as const, value: String(this.msgTimeoutSecs), min: 0, required: true };
    if (action === 'kill') {
      const a = await ask('Kill topology', `Spouts are deactivated for the wait time, then the topology's workers are stopped.`, [wait], 'Kill');
      return a ? { url: `${base}/kill/${a.wait.trim()}` } : null;
    }
    const a = await ask(
      'Rebalance topology',
      'Spouts are deactivated for the wait time, then the topology is placed afresh.',
      [
        wait,
        { name: 'workers', label: 'Number of workers (blank: unchanged)', type: 'number', min: 1 },
        { name: 'executors', label: `Executors per component, e.g. ${this.components()[0] ?? 'split'}=4 (blank: unchanged)`, type: 'text' },
      ],
      'Rebalance',
    );
    if (!a) return null;
    const options: { numWorkers?: number; executors?: Record<string, number> } = {};
    if (a.workers.trim() !== '') options.numWorkers = Number(a.workers);
    if (a.executors.trim() !== '') {
      const executors = parseExecutors(a.executors);
      if (!executors) {
        this.host.notify('error', `executors must look like "component=N, other=M" (got ${JSON.stringify(a.executors)})`);
        return null;
      }
      options.executors = executors;
    }
    return { url: `${base}/rebalance/${a.wait.trim()}`, body: Object.keys(options).length > 0 ? { rebalanceOptions: options } : undefined };
  }
}
