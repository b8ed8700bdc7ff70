// The page is a client of the same Ollama API on the same origin. With HEARTH_API_KEY set the
// server answers 401; the page then asks for the key once and keeps it for the tab only
// (sessionStorage), sending it as a bearer token like any other client.

import { h } from './dom';

const KEY_ITEM = 'hearth-api-key';

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

let pendingKey: Promise<string> | null = null;

function askForKey(wrong: boolean): Promise<string> {
  if (pendingKey) return pendingKey;
  pendingKey = new Promise<string>((resolve) => {
    const input = h('input', { type: 'password', id: 'api-key', autocomplete: 'off', required: true, 'aria-label': 'API key' });
    const dialog = h('dialog', { class: 'key-dialog' },
      h('form', { method: 'dialog' },
        h('h2', {}, 'API key'),
        h('p', {}, wrong ? 'That key was refused. ' : '', 'This server needs its HEARTH_API_KEY. It is kept for this tab only.'),
        input,
        h('div', { class: 'row end' }, h('button', { type: 'submit', class: 'primary' }, 'Use key'))));
    dialog.addEventListener('close', () => {
      const key = input.value.trim();
      dialog.remove();
      pendingKey = null;
      sessionStorage.setItem(KEY_ITEM, key);
      resolve(key);
    });
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    document.body.appendChild(dialog);
    dialog.showModal();
  });
  return pendingKey;
}

async function send(path: string, init: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(init.headers);
    const key = sessionStorage.getItem(KEY_ITEM);
    if (key) headers.set('Authorization', 'Bearer ' + key);
    if (init.body) headers.set('Content-Type', 'application/json');
    const res = await fetch(path, { ...init, headers });
    if (res.status !== 401) return res;
    await askForKey(attempt > 0 || key !== null);
  }
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  let message = text || res.statusText;
  try {
    message = JSON.parse(text).error ?? message;
  } catch {
    // not JSON: the plain text is the message
  }
  return new ApiError(message, res.status);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await send(path, { method: 'GET' });
  if (!res.ok) throw await failure(res);
  return res.json();
}

export async function postJson<T>(path: string, body: unknown, method = 'POST'): Promise<T> {
  const res = await send(path, { method, body: JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

// POSTs and calls `onLine` with each object of the NDJSON answer as it arrives. A line with
// "error" (the server's way to fail after streaming has started) ends it with that error.
export async function streamJson<T>(path: string, body: unknown, onLine: (line: T) => void, signal?: AbortSignal): Promise<void> {
  const res = await send(path, { method: 'POST', body: JSON.stringify(body), signal });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const handle = (line: string) => {
    if (!line.trim()) return;
    const obj = JSON.parse(line);
    if (obj.error) throw new ApiError(obj.error, 500);
    onLine(obj as T);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      handle(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  handle(buffered + decoder.decode());
}

export interface ModelInfo {
  name: string;
  model: string;
  size: number;
  digest: string;
  modified_at: string;
  details: { family?: string; parameter_size?: string; quantization_level?: string; format?: string };
}

export interface RunningModel extends ModelInfo {
  size_vram: number;
  expires_at: string;
  context_length?: number;
}

export interface ShowInfo {
  modelfile?: string;
  template?: string;
  parameters?: string;
  system?: string;
  capabilities?: string[];
  details?: ModelInfo['details'];
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  thinking?: string;
  images?: string[];
}

// The timings of a final chunk: what `/set verbose` prints.
export interface Stats {
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
}

export interface ChatChunk extends Stats {
  message?: { role: string; content: string; thinking?: string };
  done: boolean;
  done_reason?: string;
}

export interface PullProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

export const listModels = () => getJson<{ models: ModelInfo[] }>('/api/tags').then((r) => r.models ?? []);
export const listRunning = () => getJson<{ models: RunningModel[] }>('/api/ps').then((r) => r.models ?? []);
export const showModel = (model: string) => postJson<ShowInfo>('/api/show', { model });
export const deleteModel = (model: string) => postJson<unknown>('/api/delete', { model }, 'DELETE');
// keep_alive 0 is Ollama's way to unload: an empty generate request that expires at once.
export const unloadModel = (model: string) => postJson<unknown>('/api/generate', { model, keep_alive: 0, stream: false });
