// The operator's view: installed models (/api/tags, capabilities from /api/show), pulls started
// here with their progress (streaming /api/pull), delete, the Modelfile/template/parameters, and
// the loaded models (/api/ps) with memory, processor and expiry, and unload.

import { PullProgress, RunningModel, deleteModel, listModels, listRunning, showModel, streamJson, unloadModel } from './api';
import { clear, h, humanBytes } from './dom';

export function processor(m: RunningModel): string {
  if (!m.size_vram) return '100% CPU';
  if (m.size_vram >= m.size) return '100% GPU';
  const cpu = Math.round(((m.size - m.size_vram) / m.size) * 100);
  return `${cpu}%/${100 - cpu}% CPU/GPU`;
}

export function until(expires: string, now = Date.now()): string {
  const t = Date.parse(expires);
  if (!Number.isFinite(t) || new Date(t).getUTCFullYear() > 2200) return 'Forever';
  const s = Math.round((t - now) / 1000);
  if (s <= 0) return 'Stopping…';
  if (s < 60) return `${s} seconds from now`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} minute${m === 1 ? '' : 's'} from now` : `${Math.round(m / 60)} hours from now`;
}

const table = (head: string[], body: HTMLElement) =>
  h('div', { class: 'table' }, h('table', {}, h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))), body));

export class ModelsView {
  readonly root: HTMLElement;
  private readonly installed = h('tbody', { id: 'installed' });
  private readonly running = h('tbody', { id: 'running' });
  private readonly pulls = h('div', { class: 'pulls', id: 'pulls' });
  private readonly pullName = h('input', { id: 'pull-name', placeholder: 'qwen3:0.6b or host/namespace/model:tag', 'aria-label': 'Model to pull', required: true });
  private readonly insecure = h('input', { type: 'checkbox', id: 'pull-insecure' });
  private readonly status = h('p', { class: 'error', role: 'alert', hidden: true });
  private timer = 0;
  onChange: () => void = () => {};
  onChat: (model: string) => void = () => {};

  constructor() {
    const form = h('form', { class: 'row wrap', id: 'pull-form' }, this.pullName,
      h('label', { class: 'check' }, this.insecure, 'insecure (plain HTTP registry)'),
      h('button', { type: 'submit', class: 'primary' }, 'Pull'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = this.pullName.value.trim();
      if (name) this.pull(name, this.insecure.checked);
      this.pullName.value = '';
    });
    this.root = h('div', { class: 'view models', id: 'models-view' },
      h('section', {}, h('h2', {}, 'Pull a model'), form, this.pulls),
      this.status,
      h('section', {}, h('h2', {}, 'Running'),
        table(['Name', 'Size', 'Processor', 'Context', 'Until', ''], this.running)),
      h('section', {}, h('h2', {}, 'Installed'),
        table(['Name', 'Size', 'Family', 'Parameters', 'Quantization', 'Capabilities', ''], this.installed)));
  }

  // Polls /api/ps while the view is shown: expiry and loads change without any action here.
  show(visible: boolean): void {
    clearInterval(this.timer);
    if (!visible) return;
    this.refresh();
    this.timer = window.setInterval(() => this.refreshRunning(), 5000);
  }

  private fail(e: unknown): void {
    this.status.textContent = (e as Error).message;
    this.status.hidden = false;
  }

  async refresh(): Promise<void> {
    this.status.hidden = true;
    await Promise.all([this.refreshInstalled(), this.refreshRunning()]).catch((e) => this.fail(e));
  }

  private async refreshRunning(): Promise<void> {
    const models = await listRunning();
    clear(this.running);
    if (!models.length) this.running.appendChild(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No model is loaded.')));
    for (const m of models) {
      this.running.appendChild(h('tr', {},
        h('td', {}, m.name), h('td', {}, humanBytes(m.size)), h('td', {}, processor(m)),
        h('td', {}, String(m.context_length ?? '')), h('td', {}, until(m.expires_at)),
        h('td', {}, h('button', { type: 'button', onclick: () => unloadModel(m.name).then(() => this.refreshRunning(), (e) => this.fail(e)) }, 'Unload'))));
    }
  }

  private async refreshInstalled(): Promise<void> {
    const models = await listModels();
    clear(this.installed);
    if (!models.length) this.installed.appendChild(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No models yet: pull one above.')));
    for (const m of models) {
      const caps = h('td', { class: 'caps' });
      showModel(m.name).then((s) => caps.append((s.capabilities ?? []).join(', ')), () => {});
      const row = h('tr', { 'data-model': m.name },
        h('td', {}, m.name), h('td', {}, humanBytes(m.size)), h('td', {}, m.details?.family ?? ''),
        h('td', {}, m.details?.parameter_size ?? ''), h('td', {}, m.details?.quantization_level ?? ''), caps,
        h('td', { class: 'nowrap' },
          h('button', { type: 'button', onclick: () => this.onChat(m.name) }, 'Chat'),
          h('button', { type: 'button', onclick: () => this.toggleDetails(row, m.name) }, 'Show'),
          h('button', { type: 'button', class: 'danger', onclick: () => this.remove(m.name) }, 'Delete')));
      this.installed.appendChild(row);
    }
  }

  private async toggleDetails(row: HTMLElement, name: string): Promise<void> {
    const next = row.nextElementSibling;
    if (next?.classList.contains('details-row')) {
      next.remove();
      return;
    }
    const s = await showModel(name).catch((e) => (this.fail(e), null));
    if (!s) return;
    const part = (title: string, text: string | undefined, open = false) =>
      h('details', { open }, h('summary', {}, title), h('pre', {}, text || '(none)'));
    row.after(h('tr', { class: 'details-row' }, h('td', { colspan: 7 },
      part('Modelfile', s.modelfile, true), part('Template', s.template), part('Parameters', s.parameters), part('System', s.system))));
  }

  private async remove(name: string): Promise<void> {
    if (!confirm(`Delete ${name}? Its files are removed from the store.`)) return;
    try {
      await deleteModel(name);
    } catch (e) {
      this.fail(e);
    }
    await this.refresh();
    this.onChange();
  }

  private async pull(name: string, insecure: boolean): Promise<void> {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Pull progress of ' + name });
    const text = h('span', { class: 'pull-status' }, 'starting');
    const abort = new AbortController();
    const cancel = h('button', { type: 'button', onclick: () => abort.abort() }, 'Cancel');
    const item = h('div', { class: 'pull', 'data-pull': name }, h('strong', {}, name), bar, text, cancel);
    this.pulls.prepend(item);
    const layers = new Map<string, { total: number; completed: number }>();
    try {
      await streamJson<PullProgress>('/api/pull', { model: name, insecure, stream: true }, (p) => {
        if (p.digest && p.total) layers.set(p.digest, { total: p.total, completed: p.completed ?? 0 });
        let total = 0, done = 0;
        for (const l of layers.values()) { total += l.total; done += l.completed; }
        if (total) {
          bar.max = total;
          bar.value = done;
        }
        text.textContent = p.status + (total ? ` — ${humanBytes(done)} / ${humanBytes(total)} (${Math.floor((done / total) * 100)}%)` : '');
        if (p.status === 'success') bar.value = bar.max;
      }, abort.signal);
      item.classList.add('done');
    } catch (e) {
      text.textContent = abort.signal.aborted ? 'cancelled' : 'error: ' + (e as Error).message;
      item.classList.add('failed');
    }
    cancel.remove();
    await this.refresh();
    this.onChange();
  }
}
