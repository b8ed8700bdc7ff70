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
