// Debian's chromium through playwright-core, or exit 77 (ctest's skip) when either is absent on a
// developer's machine. Under CI (CI set) their absence is a failure: scripts/deps.sh installs both.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
const missing = [CHROMIUM, join(here, '../node_modules/playwright-core')].filter((p) => !existsSync(p));
if (missing.length) {
  console.error(`web tests: ${missing.join(', ')} missing (bash scripts/deps.sh installs both)`);
  process.exit(process.env.CI ? 1 : 77);
}
const { chromium } = await import('playwright-core');

export const launch = () => chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });

// A page that records page errors and console errors in `problems` (the 401 that makes the page
// ask for the key is expected; anything else, a CSP refusal or an exception, is a defect), opened
// at `base`/ui with the API key typed into the page's prompt.
export async function openPage(browser, base, key, problems) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push('console: ' + m.text());
  });
  await page.goto(base + '/ui');
  await page.locator('#api-key').fill(key);
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-ready=true]');
  return page;
}
