// One message of a conversation as DOM: the user's text and images, or the assistant's collapsed
// thinking, Markdown answer and speed line (the numbers `/set verbose` prints after an answer).

import { copyText, h, imageUrl } from './dom';
import type { Stats } from './api';
import type { StoredMessage } from './db';
import { markdown } from './markdown';

function duration(ns: number | undefined): string {
  const v = ns ?? 0;
  return v >= 1e9 ? (v / 1e9).toFixed(3) + 's' : (v / 1e6).toFixed(2) + 'ms';
}

function rate(count: number | undefined, ns: number | undefined): string {
  return count && ns ? (count / (ns / 1e9)).toFixed(2) : '0.00';
}

export function speedView(s: Stats): HTMLElement {
  const verbose = [
    ['total duration', duration(s.total_duration)],
    ['load duration', duration(s.load_duration)],
    ['prompt eval count', `${s.prompt_eval_count ?? 0} token(s)`],
    ['prompt eval duration', duration(s.prompt_eval_duration)],
    ['prompt eval rate', `${rate(s.prompt_eval_count, s.prompt_eval_duration)} tokens/s`],
    ['eval count', `${s.eval_count ?? 0} token(s)`],
    ['eval duration', duration(s.eval_duration)],
    ['eval rate', `${rate(s.eval_count, s.eval_duration)} tokens/s`],
  ].map(([k, v]) => (k + ':').padEnd(22) + v).join('\n');
  return h('details', { class: 'speed' },
    h('summary', {}, `${rate(s.eval_count, s.eval_duration)} tokens/s · ${s.eval_count ?? 0} tokens · ` +
      `prompt ${s.prompt_eval_count ?? 0} tokens at ${rate(s.prompt_eval_count, s.prompt_eval_duration)} tokens/s · ${duration(s.total_duration)}`),
    h('pre', {}, verbose));
}

export interface MessageActions {
  edit?: () => void;
  regenerate?: () => void;
}

export function messageView(m: StoredMessage, actions: MessageActions, streaming: boolean): HTMLElement {
  const el = h('article', { class: 'msg ' + m.role, 'aria-label': m.role === 'user' ? 'You' : 'Assistant' });
  if (m.role === 'user') {
    el.appendChild(h('div', { class: 'content plain' }, m.content));
    if (m.images?.length) {
      el.appendChild(h('div', { class: 'images' }, m.images.map((b64) => h('img', { src: imageUrl(b64), alt: 'attached image' }))));
    }
  } else {
    if (m.thinking) {
      el.appendChild(h('details', { class: 'thinking' },
        h('summary', {}, streaming && !m.content ? 'Thinking…' : 'Thought'),
        h('div', { class: 'plain' }, m.thinking)));
    }
    const content = h('div', { class: 'content' }, markdown(m.content));
    if (streaming) content.classList.add('streaming');
    el.appendChild(content);
    if (m.stopped) el.appendChild(h('div', { class: 'note' }, 'stopped'));
    if (m.error) el.appendChild(h('div', { class: 'error', role: 'alert' }, m.error));
    if (m.stats) el.appendChild(speedView(m.stats));
  }
  if (!streaming) {
    const bar = h('div', { class: 'actions' });
    const copy = h('button', { type: 'button', class: 'link' }, 'Copy');
    copy.addEventListener('click', () => copyText(m.content).then(() => (copy.textContent = 'Copied')));
    bar.appendChild(copy);
    if (actions.edit) bar.appendChild(h('button', { type: 'button', class: 'link', onclick: actions.edit }, 'Edit'));
    if (actions.regenerate) bar.appendChild(h('button', { type: 'button', class: 'link', onclick: actions.regenerate }, 'Regenerate'));
    el.appendChild(bar);
  }
  return el;
}
