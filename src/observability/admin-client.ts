/**
 * Reading another server's admin port (its `/status`, docs/observability.md): what
 * `herd status` and the dashboard's herd view both do.
 */
import http from 'node:http';

/**
 * GET `url`, with `authorization` as the `Authorization` header if given (an admin token:
 * src/observability/admin-auth.ts); resolves with status and body, rejects with a short reason
 * (never hangs past `timeoutMs`).
 */
export function httpGet(
  url: string,
  timeoutMs: number,
  authorization?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { Connection: 'close' };
    if (authorization !== undefined) headers.Authorization = authorization;
    const request = http.get(url, { agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const timer = setTimeout(() => request.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(error.code ?? error.message));
    });
  });
}
