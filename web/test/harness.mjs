// What the browser test runs against: Debian's docker-registry and `hearth serve` (the built
// binary, HEARTH_EXE) on free loopback ports, over a temporary store, HOME and registry folder.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, ms = 10000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(what + ' did not start in time');
}

export class Harness {
  constructor({ exe, apiKey }) {
    this.exe = exe;
    this.apiKey = apiKey;
    this.dir = mkdtempSync(join(tmpdir(), 'hearth-ui-'));
    this.children = [];
  }

  env() {
    return { ...process.env, HOME: this.dir, HEARTH_MODELS: join(this.dir, 'models'), HEARTH_HOST: `127.0.0.1:${this.port}`,
      HEARTH_API_KEY: this.apiKey, HEARTH_NOHISTORY: '1', OLLAMA_HOST: '' };
  }

  async start() {
    // The servers go with the test however it ends: done, failed, or stopped by ctest's timeout.
    process.on('exit', () => this.stop());
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));
    this.registryPort = await freePort();
    const cfg = join(this.dir, 'registry.yml');
    writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${this.dir}/registry\n` +
      `  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${this.registryPort}\n`);
    this.children.push(spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: 'ignore' }));
    await waitFor(() => new Promise((resolve) => {
      const s = net.connect(this.registryPort, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    }), 'docker-registry');

    this.port = await freePort();
    this.log = [];
    const serve = spawn(this.exe, ['serve'], { env: this.env(), stdio: ['ignore', 'ignore', 'pipe'] });
    serve.stderr.on('data', (d) => this.log.push(d.toString()));
    this.children.push(serve);
    this.base = `http://127.0.0.1:${this.port}`;
    await waitFor(async () => (await fetch(this.base + '/')).ok, 'hearth serve');
  }

  // Runs a hearth verb as a client of the server; throws with its output when it fails.
  hearth(...args) {
    const r = spawnSync(this.exe, args, { env: this.env(), encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`hearth ${args.join(' ')}: ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  createModel(name, gguf) {
    const file = join(this.dir, 'Modelfile');
    writeFileSync(file, `FROM ${gguf}\n`);
    this.hearth('create', name, '-f', file);
  }

  api(path, body) {
    return fetch(this.base + path, {
      method: body ? 'POST' : 'GET', body: body && JSON.stringify(body),
      headers: { Authorization: 'Bearer ' + this.apiKey },
    });
  }

  stop() {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
