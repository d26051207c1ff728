/**
 * The bed's client agent: one process inside the clients' namespace (test/netns/network.ts) that
 * the test drives over stdin/stdout, one JSON object a line, so that clients and operators reach the
 * servers over the bed's client network without a process per request.
 *
 *     in:  {"id": 1, "op": "exchange", "host": "10.77.0.1", "port": 12000, "data": "IAMAT ...\n"}
 *     out: {"id": 1, "ok": true, "text": "AT ...\n"}
 *     in:  {"id": 2, "op": "get", "url": "http://10.77.0.1:12100/status", "authorization": "Bearer ..."}
 *     out: {"id": 2, "ok": true, "status": 200, "text": "{...}"}
 *
 * `exchange` writes `data`, half-closes, and returns all the server sent until it closed; every
 * request has a time limit (`timeoutMs`, default 10 s), and a failure is `{"ok": false, "error"}`.
 */
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';

/** A request to the agent. */
export type AgentRequest =
  | { id: number; op: 'exchange'; host: string; port: number; data: string; timeoutMs?: number }
  | { id: number; op: 'get'; url: string; timeoutMs?: number; authorization?: string };

/** The agent's answer to the request of the same `id`. */
export type AgentReply =
  { id: number; ok: true; text: string; status?: number } | { id: number; ok: false; error: string };

/** Time limit of one request unless it says otherwise, ms. */
export const AGENT_TIMEOUT_MS = 10_000;

function exchange(host: string, port: number, data: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close from ${host}:${port} in ${timeoutMs} ms`)));
    socket.on('connect', () => socket.end(data));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

// A fresh connection per request (no keep-alive pool): servers are killed and restarted under it.
function get(url: string, timeoutMs: number, authorization?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = authorization === undefined ? {} : { Authorization: authorization };
    const request = http.get(url, { agent: false, timeout: timeoutMs, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

async function handle(request: AgentRequest): Promise<AgentReply> {
  const timeoutMs = request.timeoutMs ?? AGENT_TIMEOUT_MS;
  try {
    if (request.op === 'exchange') {
      return { id: request.id, ok: true, text: await exchange(request.host, request.port, request.data, timeoutMs) };
    }
    const response = await get(request.url, timeoutMs, request.authorization);
    return { id: request.id, ok: true, status: response.status, text: response.text };
  } catch (error) {
    return { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

// Runs only as the agent process, not when a test imports its types.
if (/agent\.[jt]s$/.test(process.argv[1] ?? '')) {
  createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
    void handle(JSON.parse(line) as AgentRequest).then((reply) => process.stdout.write(`${JSON.stringify(reply)}\n`));
  });
  process.stdout.write('{"ready":true}\n');
}
