// The chat view: a model picker fed by /api/tags, settings (system prompt, think, the common
// options), the messages of the open conversation, and the composer. Answers stream from
// /api/chat; Stop aborts the request, which the server notices and cancels the sequence.

import { ChatChunk, ChatMessage, listModels, showModel, streamJson } from './api';
import { Conversation, StoredMessage, newConversation, saveConversation } from './db';
import { clear, h, imageUrl } from './dom';
import { messageView } from './message_view';
import { Sidebar } from './sidebar';

const capabilities = new Map<string, Promise<string[]>>();
function capsOf(model: string): Promise<string[]> {
  if (!capabilities.has(model)) capabilities.set(model, showModel(model).then((s) => s.capabilities ?? [], () => []));
  return capabilities.get(model)!;
}

function field(label: string, input: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

export class ChatView {
  readonly root: HTMLElement;
  private conv: Conversation = newConversation('');
  private abort: AbortController | null = null;
  private images: string[] = [];
  private readonly modelSelect = h('select', { id: 'model', 'aria-label': 'Model' });
  private readonly thinkSelect = h('select', { id: 'think', 'aria-label': 'Thinking' },
    ['', 'true', 'false', 'low', 'medium', 'high'].map((v) => h('option', { value: v }, v === '' ? 'think: default' : v === 'true' ? 'think: on' : v === 'false' ? 'think: off' : 'think: ' + v)));
  private readonly system = h('textarea', { id: 'system', rows: 2, placeholder: 'System prompt (the model\'s own if empty)' });
  private readonly temperature = h('input', { id: 'temperature', type: 'number', step: '0.1', min: '0', placeholder: 'model default' });
  private readonly numCtx = h('input', { id: 'num_ctx', type: 'number', min: '1', placeholder: 'model default' });
  private readonly numPredict = h('input', { id: 'num_predict', type: 'number', min: '-1', placeholder: 'model default' });
  private readonly messages = h('div', { class: 'messages', id: 'messages', 'aria-live': 'polite' });
  private readonly input = h('textarea', { id: 'prompt', rows: 2, placeholder: 'Message (Enter sends, Shift+Enter for a new line, Esc stops)', 'aria-label': 'Message' });
  private readonly send = h('button', { type: 'submit', id: 'send', class: 'primary' }, 'Send');
  private readonly stop = h('button', { type: 'button', id: 'stop', class: 'danger', hidden: true }, 'Stop');
  private readonly attach = h('input', { type: 'file', id: 'attach', accept: 'image/*', multiple: true, class: 'offscreen', tabindex: -1 });
  // A button, not the file input's label: it takes keyboard focus like the other controls.
  private readonly attachButton = h('button', { type: 'button', id: 'attach-button', hidden: true, title: 'Attach images' }, 'Image');
  private readonly attached = h('div', { class: 'attached' });
  private readonly sidebar: Sidebar;

  constructor() {
    this.sidebar = new Sidebar({ open: (c) => this.open(c), fresh: () => this.open(newConversation(this.modelSelect.value)), current: () => this.conv });
    const settings = h('details', { class: 'settings' }, h('summary', {}, 'Settings'),
      field('System', this.system),
      h('div', { class: 'row wrap' }, field('Temperature', this.temperature), field('Context length', this.numCtx), field('Max tokens', this.numPredict)));
    const form = h('form', { class: 'composer' }, this.attached,
      h('div', { class: 'row' }, this.attach, this.attachButton, this.input, this.send, this.stop));
    this.root = h('div', { class: 'view chat', id: 'chat-view' }, this.sidebar.root,
      h('section', { class: 'chat-main' },
        h('div', { class: 'row bar' }, h('button', { type: 'button', class: 'menu', 'aria-label': 'Conversations', onclick: () => this.sidebar.toggle() }, '☰'), this.modelSelect, this.thinkSelect),
        settings, this.messages, form));

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.abort) this.abort.abort();
    });
    this.stop.addEventListener('click', () => this.abort?.abort());
    this.modelSelect.addEventListener('change', () => {
      this.conv.model = this.modelSelect.value;
      this.updateCapabilities();
    });
    for (const el of [this.system, this.thinkSelect, this.temperature, this.numCtx, this.numPredict]) {
      el.addEventListener('change', () => this.readSettings());
    }
    this.attach.addEventListener('change', () => this.readImages());
    this.attachButton.addEventListener('click', () => this.attach.click());
  }

  async refreshModels(): Promise<void> {
    const models = await listModels();
    const keep = this.conv.model || this.modelSelect.value;
    clear(this.modelSelect);
    if (!models.length) this.modelSelect.appendChild(h('option', { value: '' }, 'no models: pull one in Models'));
    for (const m of models) this.modelSelect.appendChild(h('option', { value: m.name }, m.name));
    if (keep && models.some((m) => m.name === keep)) this.modelSelect.value = keep;
    if (!this.conv.model) this.conv.model = this.modelSelect.value;
    this.updateCapabilities();
  }

  // A chat with `model`: the open conversation if it has no messages yet, else a new one.
  chatWith(model: string): void {
    if (this.conv.messages.length) this.open(newConversation(model));
    this.modelSelect.value = model;
    this.conv.model = model;
    this.updateCapabilities();
  }

  async start(): Promise<void> {
    await this.refreshModels();
    const latest = (await this.sidebar.refresh())[0];
    this.open(latest ?? newConversation(this.modelSelect.value));
  }

  // Opening another conversation stops an answer still streaming (it is saved as stopped).
  private open(c: Conversation): void {
    this.abort?.abort();
    this.abort = null;
    this.busy(false);
    this.conv = c;
    if (c.model && ![...this.modelSelect.options].some((o) => o.value === c.model)) {
      this.modelSelect.appendChild(h('option', { value: c.model }, c.model + ' (not installed)'));
    }
    if (c.model) this.modelSelect.value = c.model;
    else c.model = this.modelSelect.value;
    this.system.value = c.settings.system;
    this.thinkSelect.value = c.settings.think;
    this.temperature.value = c.settings.temperature;
    this.numCtx.value = c.settings.num_ctx;
    this.numPredict.value = c.settings.num_predict;
    this.images = [];
    this.renderAttached();
    this.updateCapabilities();
    this.render();
    this.sidebar.render();
    this.input.focus();
  }

  private readSettings(): void {
    this.conv.settings = {
      system: this.system.value, think: this.thinkSelect.value, temperature: this.temperature.value,
      num_ctx: this.numCtx.value, num_predict: this.numPredict.value,
    };
    if (this.conv.messages.length) saveConversation(this.conv);
  }

  private async updateCapabilities(): Promise<void> {
    const model = this.modelSelect.value;
    const caps = model ? await capsOf(model) : [];
    if (model !== this.modelSelect.value) return;
    this.thinkSelect.hidden = !caps.includes('thinking');
    this.attachButton.hidden = !caps.includes('vision');
    if (this.attachButton.hidden && this.images.length) {
      this.images = [];
      this.renderAttached();
    }
  }

  private readImages(): void {
    for (const file of this.attach.files ?? []) {
      const reader = new FileReader();
      reader.onload = () => {
        this.images.push(String(reader.result).replace(/^data:[^,]*,/, ''));
        this.renderAttached();
      };
      reader.readAsDataURL(file);
    }
    this.attach.value = '';
  }

  private renderAttached(): void {
    clear(this.attached);
    this.images.forEach((b64, i) => this.attached.appendChild(h('button', {
      type: 'button', class: 'thumb', title: 'Remove image',
      onclick: () => { this.images.splice(i, 1); this.renderAttached(); },
    }, h('img', { src: imageUrl(b64), alt: 'attachment ' + (i + 1) }))));
  }

  private render(streamingIndex = -1): void {
    clear(this.messages);
    const msgs = this.conv.messages;
    if (!msgs.length) this.messages.appendChild(h('p', { class: 'empty' }, 'Ask something. Conversations stay in this browser.'));
    const lastAssistant = msgs.length - 1;
    msgs.forEach((m, i) => {
      const busy = this.abort !== null;
      this.messages.appendChild(messageView(m, {
        edit: m.role === 'user' && !busy ? () => this.edit(i) : undefined,
        regenerate: m.role === 'assistant' && i === lastAssistant && !busy ? () => this.regenerate() : undefined,
      }, i === streamingIndex));
    });
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  // Only the growing answer is rebuilt on each frame: the rest keeps its state (a selection, an
  // open block), the thinking block stays as the reader left it, and the view follows the end
  // only while the reader is at the end.
  private renderStreaming(index: number): void {
    const old = this.messages.children[index];
    if (!old) return this.render(index);
    const atEnd = this.messages.scrollHeight - this.messages.scrollTop - this.messages.clientHeight < 40;
    const wasOpen = old.querySelector('details.thinking')?.hasAttribute('open') ?? false;
    const next = messageView(this.conv.messages[index], {}, true);
    next.querySelector('details.thinking')?.toggleAttribute('open', wasOpen);
    old.replaceWith(next);
    if (atEnd) this.messages.scrollTop = this.messages.scrollHeight;
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text || this.abort || !this.modelSelect.value) return;
    this.conv.messages.push({ role: 'user', content: text, images: this.images.length ? this.images : undefined });
    if (this.conv.title === 'New chat') this.conv.title = text.slice(0, 48);
    this.input.value = '';
    this.images = [];
    this.renderAttached();
    this.generate();
  }

  private edit(index: number): void {
    const msg = this.conv.messages[index];
    const box = h('textarea', { class: 'edit', rows: 3 });
    box.value = msg.content;
    const article = this.messages.querySelectorAll('article')[index];
    const resend = () => {
      msg.content = box.value.trim();
      if (!msg.content) return;
      this.conv.messages = this.conv.messages.slice(0, index + 1);
      this.generate();
    };
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); resend(); }
      if (e.key === 'Escape') this.render();
    });
    clear(article);
    article.append(box, h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: resend }, 'Send'),
      h('button', { type: 'button', onclick: () => this.render() }, 'Cancel')));
    box.focus();
  }

  private regenerate(): void {
    if (this.conv.messages[this.conv.messages.length - 1]?.role === 'assistant') this.conv.messages.pop();
    this.generate();
  }

  private request(): Record<string, unknown> {
    const s = this.conv.settings;
    const history: ChatMessage[] = this.conv.messages.filter((m) => !m.error || m.content).map((m) => ({
      role: m.role, content: m.content, ...(m.images ? { images: m.images } : {}),
    }));
    if (s.system.trim()) history.unshift({ role: 'system', content: s.system });
    const options: Record<string, number> = {};
    if (s.temperature !== '') options.temperature = Number(s.temperature);
    if (s.num_ctx !== '') options.num_ctx = Number(s.num_ctx);
    if (s.num_predict !== '') options.num_predict = Number(s.num_predict);
    const body: Record<string, unknown> = { model: this.conv.model, messages: history, stream: true, options };
    if (s.think !== '' && !this.thinkSelect.hidden) body.think = s.think === 'true' ? true : s.think === 'false' ? false : s.think;
    return body;
  }

  private async generate(): Promise<void> {
    this.readSettings();
    const conv = this.conv;
    const body = this.request();
    const answer: StoredMessage = { role: 'assistant', content: '', thinking: '' };
    conv.messages.push(answer);
    const index = conv.messages.length - 1;
    const abort = (this.abort = new AbortController());
    this.busy(true);
    this.render(index);
    let frame = 0;
    try {
      await streamJson<ChatChunk>('/api/chat', body, (chunk) => {
        answer.content += chunk.message?.content ?? '';
        answer.thinking += chunk.message?.thinking ?? '';
        if (chunk.done) {
          const { total_duration, load_duration, prompt_eval_count, prompt_eval_duration, eval_count, eval_duration } = chunk;
          answer.stats = { total_duration, load_duration, prompt_eval_count, prompt_eval_duration, eval_count, eval_duration };
        }
        if (!frame && conv === this.conv) frame = requestAnimationFrame(() => { frame = 0; if (conv === this.conv) this.renderStreaming(index); });
      }, abort.signal);
    } catch (e) {
      if (abort.signal.aborted) answer.stopped = true;
      else answer.error = (e as Error).message;
    } finally {
      cancelAnimationFrame(frame);
      if (this.abort === abort) this.abort = null;
      if (!answer.thinking) delete answer.thinking;
      await saveConversation(conv);
      if (!this.abort) {
        this.busy(false);
        this.render();
      }
      this.sidebar.refresh();
    }
  }

  private busy(on: boolean): void {
    this.send.hidden = on;
    this.stop.hidden = !on;
    if (!on) this.input.focus();
  }
}
