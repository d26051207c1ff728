/**
 * The last build step (`npm run build`): writes `dist/bundle/herd.js.cache`, V8's code cache of the
 * bundled command line (src/cli/code-cache.ts), from a real start: `herd serve` of a one-server
 * config (ports chosen by the OS, an admin port, the built-in place data, a fresh data folder in a
 * temporary folder) runs until it listens and its admin server answers `/healthz` (the admin parts
 * load after listening: src/cli/serve-admin.ts), and is then stopped with SIGTERM; the cache written at its exit holds every function compiled by then, so the next starts
 * compile none of them. With the admin port, the cache also holds prom-client's, the admin server's
 * and the dashboard's code, loaded after listening: a quarter larger (749 KB against 606 KB), so a
 * little longer to read before listening, but without it their compile held the event loop for
 * 30-45 ms just after listening (measured: the `startup-delay` maximum 32 ms without, 6 ms with;
 * docs/benchmarks.md "Startup"). A start that fails here (no loopback interface in a build
 * sandbox) costs only the cache: the step says so and the build goes on; `herd` then compiles its
 * script at each start, as without a cache.
 *
 *     node --import tsx build/code-cache.ts
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WRITE_CODE_CACHE_ENV } from '../src/cli/code-cache.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_DIR = path.join(ROOT, 'dist', 'bundle');
const CACHE_FILE = path.join(BUNDLE_DIR, 'herd.js.cache');
/** Longest wait for the server to listen, ms. */
const LISTEN_TIMEOUT_MS = 60_000;

const started = performance.now();
await rm(CACHE_FILE, { force: true });
const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-code-cache-'));
try {
  await writeCodeCache();
} catch (error) {
  await rm(CACHE_FILE, { force: true });
  process.stderr.write(
    `no code cache written (${(error as Error).message}); herd runs without it, a little slower to start\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Starts `herd serve` in {@link dir} with the cache written at its exit, and stops it once it listens. */
async function writeCodeCache(): Promise<void> {
  const configFile = path.join(dir, 'herd.json');
  await writeFile(
    configFile,
    JSON.stringify({
      servers: [{ name: 'Cache', host: '127.0.0.1', port: 0, peerPort: 0, adminPort: 0 }],
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'data'),
    }),
  );
  const child = spawn(process.execPath, [path.join(BUNDLE_DIR, 'main.js'), 'serve', 'Cache', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, [WRITE_CODE_CACHE_ENV]: CACHE_FILE },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`herd serve did not listen within ${LISTEN_TIMEOUT_MS} ms`)),
      LISTEN_TIMEOUT_MS,
    );
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const admin = / listening on .*; admin (http:\/\/\S+),/.exec(output)?.[1];
      if (admin === undefined) return;
      clearTimeout(timer);
      resolve(admin);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`herd serve exited (code ${code}) before it listened: ${output}`));
    });
  });
  try {
    await answers(`${await listening}/healthz`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`herd serve exited with code ${code} at SIGTERM`);
  const { size } = await stat(CACHE_FILE);
  process.stdout.write(
    `wrote ${path.relative(ROOT, CACHE_FILE)}: ${(size / 1024).toFixed(0)} KB of compiled code, in ${Math.round(performance.now() - started)} ms\n`,
  );
}

/** Resolves once `url` answers 200: a request that comes before the admin server waits for it. */
async function answers(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(LISTEN_TIMEOUT_MS) });
  await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
}
