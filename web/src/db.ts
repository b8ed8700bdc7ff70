// Conversations live in the browser's IndexedDB (one object store, one record per conversation),
// so they survive a reload and never leave the browser.

import type { ChatMessage, Stats } from './api';

export interface StoredMessage extends ChatMessage {
  stats?: Stats;
  stopped?: boolean;
  error?: string;
}

export interface Settings {
  system: string;
  think: string;  // '' (model default), 'false', 'true', 'low', 'medium', 'high'
  temperature: string;
  num_ctx: string;
  num_predict: string;
}

export interface Conversation {
  id: string;
  title: string;
  model: string;
  settings: Settings;
  messages: StoredMessage[];
  updated: number;
}

export const emptySettings = (): Settings => ({ system: '', think: '', temperature: '', num_ctx: '', num_predict: '' });

const STORE = 'conversations';
let opened: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open('hearth', 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

async function run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = op(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  });
}

export async function listConversations(): Promise<Conversation[]> {
  const all = await run<Conversation[]>('readonly', (s) => s.getAll());
  return all.sort((a, b) => b.updated - a.updated);
}

export const saveConversation = (c: Conversation) => run('readwrite', (s) => s.put({ ...c, updated: Date.now() }));
export const deleteConversation = (id: string) => run('readwrite', (s) => s.delete(id));

export function newConversation(model: string): Conversation {
  const id = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  return { id, title: 'New chat', model, settings: emptySettings(), messages: [], updated: Date.now() };
}
