// The list of conversations kept in this browser, newest first, with rename, export (a JSON
// file of the conversation as stored) and delete.

import { Conversation, deleteConversation, listConversations, saveConversation } from './db';
import { clear, h } from './dom';

export interface SidebarHost {
  open(c: Conversation): void;
  fresh(): void;
  current(): Conversation;
}

export class Sidebar {
  readonly root: HTMLElement;
  private readonly list = h('ul', { class: 'conversations', id: 'conversations' });
  private items: Conversation[] = [];

  constructor(private readonly host: SidebarHost) {
    this.root = h('aside', { class: 'sidebar' },
      h('button', { type: 'button', id: 'new-chat', class: 'primary wide', onclick: () => { host.fresh(); this.toggle(false); } }, 'New chat'),
      this.list);
  }

  toggle(open?: boolean): void {
    this.root.classList.toggle('open', open);
  }

  async refresh(): Promise<Conversation[]> {
    this.items = await listConversations();
    this.render();
    return this.items;
  }

  render(): void {
    clear(this.list);
    const current = this.host.current();
    for (const c of this.items) {
      const active = c.id === current.id;
      this.list.appendChild(h('li', { class: active ? 'active' : '' },
        h('button', { type: 'button', class: 'title', 'aria-current': active ? 'true' : undefined,
          onclick: () => { this.host.open(active ? current : c); this.toggle(false); } }, c.title),
        h('div', { class: 'item-actions' },
          h('button', { type: 'button', class: 'link', title: 'Rename', onclick: () => this.rename(c) }, 'Rename'),
          h('button', { type: 'button', class: 'link', title: 'Export as JSON', onclick: () => this.exportJson(c) }, 'Export'),
          h('button', { type: 'button', class: 'link danger', title: 'Delete', onclick: () => this.remove(c) }, 'Delete'))));
    }
  }

  private async rename(c: Conversation): Promise<void> {
    const title = prompt('Rename conversation', c.title)?.trim();
    if (!title) return;
    const target = c.id === this.host.current().id ? this.host.current() : c;
    target.title = title;
    await saveConversation(target);
    await this.refresh();
  }

  private async remove(c: Conversation): Promise<void> {
    if (!confirm(`Delete "${c.title}"?`)) return;
    await deleteConversation(c.id);
    const wasOpen = c.id === this.host.current().id;
    await this.refresh();
    if (wasOpen) this.items.length ? this.host.open(this.items[0]) : this.host.fresh();
  }

  private exportJson(c: Conversation): void {
    const blob = new Blob([JSON.stringify(c, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: (c.title.replace(/[^\w.-]+/g, '_') || 'chat') + '.json' });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}
