// The page's frame: a header with the two views (#chat, #models: the hash keeps the view across a
// reload and makes each linkable), the server's version, and the light/dark choice.

import { getJson } from './api';
import { ChatView } from './chat';
import { h } from './dom';
import { ModelsView } from './models';

const THEMES = ['auto', 'light', 'dark'];

function applyTheme(theme: string): void {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function main(): void {
  const chat = new ChatView();
  const models = new ModelsView();
  models.onChange = () => chat.refreshModels().catch(() => {});
  models.onChat = (model) => {
    chat.chatWith(model);
    location.hash = '#chat';
  };
  const version = h('span', { class: 'version' });
  let theme = localStorage.getItem('hearth-theme') ?? 'auto';
  applyTheme(theme);
  const themeButton = h('button', { type: 'button', id: 'theme', title: 'Colour scheme' }, 'theme: ' + theme);
  themeButton.addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    localStorage.setItem('hearth-theme', theme);
    applyTheme(theme);
    themeButton.textContent = 'theme: ' + theme;
  });
  const tab = (id: string, label: string) => h('a', { href: '#' + id, id: 'tab-' + id, class: 'tab' }, label);
  const tabs = [tab('chat', 'Chat'), tab('models', 'Models')];
  document.body.append(
    h('header', { class: 'top' }, h('strong', { class: 'brand' }, 'Hearth'), h('nav', {}, tabs), version, themeButton),
    h('main', {}, chat.root, models.root));

  // `initial`: the chat loads its models in start(); the views are only shown or hidden.
  const route = (initial = false) => {
    const view = location.hash === '#models' ? 'models' : 'chat';
    chat.root.hidden = view !== 'chat';
    models.root.hidden = view !== 'models';
    tabs.forEach((t) => t.setAttribute('aria-current', String(t.id === 'tab-' + view)));
    models.show(view === 'models');
    if (view === 'chat' && !initial) chat.refreshModels().catch(() => {});
  };
  window.addEventListener('hashchange', () => route());
  route(true);
  chat.start().catch((e) => console.error(e)).finally(() => {
    document.body.dataset.ready = 'true';  // the browser test waits for this
  });
  getJson<{ version: string }>('/api/version').then((v) => (version.textContent = 'v' + v.version), () => {});
}

main();
