/**
 * Modal questions (native <dialog>): the token when Nimbus asks for one, and the options of a
 * kill or rebalance. Each resolves to the answer, or null when cancelled.
 */
import { h } from './dom';

export interface Field {
  name: string;
  label: string;
  type: 'number' | 'password' | 'text';
  value?: string;
  placeholder?: string;
  min?: number;
  required?: boolean;
}

export function ask(title: string, text: string, fields: Field[], submitLabel: string): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const inputs = fields.map((f) =>
      h('input', { name: f.name, type: f.type, value: f.value, placeholder: f.placeholder, min: f.min, required: f.required, autocomplete: f.type === 'password' ? 'off' : undefined }),
    );
    const form = h(
      'form',
      { method: 'dialog', class: 'dialog-form' },
      h('h3', {}, title),
      text ? h('p', {}, text) : null,
      ...fields.map((f, i) => h('label', {}, h('span', {}, f.label), inputs[i])),
      h('div', { class: 'dialog-buttons' }, h('button', { type: 'button', value: 'cancel', class: 'cancel' }, 'Cancel'), h('button', { type: 'submit', value: 'ok', class: 'primary' }, submitLabel)),
    );
    const dialog = h('dialog', { class: 'dialog', 'data-dialog': title }, form);
    let answered = false;
    const finish = (value: Record<string, string> | null): void => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.querySelector('button.cancel')!.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', () => finish(null));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      finish(Object.fromEntries(fields.map((f, i) => [f.name, inputs[i].value])));
    });
    document.body.append(dialog);
    dialog.showModal();
    inputs[0]?.focus();
  });
}

export async function askToken(reason: string): Promise<string | null> {
  const answer = await ask('Nimbus token', reason, [{ name: 'token', label: 'Token (nimbus.auth.token)', type: 'password', required: true }], 'Use token');
  return answer?.token ? answer.token : null;
}
