/**
 * The runtime file of `herd start`: where every server it runs really listens (ports may be 0 in the
 * config), so that `herd status` and `herd client NAME` can find them. It lives in the herd's log
 * folder as `herd-runtime.json`, is rewritten whenever a server (re)starts, and is removed when the
 * herd stops cleanly. The format is documented in docs/observability.md.
 */
import { PARSE_ONCE } from '../core/parse-once.js';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';

/** Version of the runtime file's format: 2 added the peer port. */
export const RUNTIME_FILE_VERSION = 2;

/** Name of the runtime file inside the herd's log folder. */
export const RUNTIME_FILE_NAME = 'herd-runtime.json';

const runtimeServerSchema = z.object({
  /** Host clients and neighbours dial (the configured `host`). */
  host: z.string(),
  /** The real client port. */
  port: z.number().int().min(1).max(65535),
  /** Host neighbours dial (the configured `peerHost`). */
  peerHost: z.string(),
  /** The real peer port. */
  peerPort: z.number().int().min(1).max(65535),
  /** `http://host:port` of the admin server; absent when the server has none. */
  adminUrl: z.string().optional(),
  /** Process id of the server. */
  pid: z.number().int().positive(),
  /** Absolute path of the server's log file. */
  logFile: z.string(),
});

const runtimeFileSchema = z.object({
  /** Format version ({@link RUNTIME_FILE_VERSION}); a file of another version is ignored. */
  version: z.literal(RUNTIME_FILE_VERSION),
  /** Absolute path of the config the herd was started from. */
  configFile: z.string(),
  /** Process id of `herd start`. */
  supervisorPid: z.number().int().positive(),
  /** When the file was last written, ISO 8601. */
  updatedAt: z.string(),
  /** By server name; only servers that have listened at least once. */
  servers: z.record(z.string(), runtimeServerSchema),
});

/** One server's entry in the {@link RuntimeFile}. */
export type RuntimeServer = z.infer<typeof runtimeServerSchema>;

/**
 * Contents of `<logDir>/herd-runtime.json`:
 * `{ version: 2, configFile, supervisorPid, updatedAt, servers: { [name]: { host, port, peerHost, peerPort, adminUrl?, pid, logFile } } }`.
 */
export type RuntimeFile = z.infer<typeof runtimeFileSchema>;

/** Path of the runtime file for a herd whose log folder is `logDir` (resolved against the working directory). */
export function runtimeFilePath(logDir: string): string {
  return path.resolve(logDir, RUNTIME_FILE_NAME);
}

/**
 * Writes the runtime file atomically (a temporary file renamed over it), so a reader never sees half.
 *
 * @throws the file system error (e.g. `EACCES`) when the folder cannot be written.
 */
export function writeRuntimeFile(file: string, content: RuntimeFile): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`);
  renameSync(temporary, file);
}

/** Removes the runtime file; a missing file is fine. */
export function removeRuntimeFile(file: string): void {
  rmSync(file, { force: true });
}

/** Whether a process with this id exists (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reads the runtime file, if it describes a live herd started from `configFile`.
 *
 * @returns undefined when the file is missing or malformed, was written for another config, or its
 *   `herd start` is no longer running (a stale file left by a killed supervisor). Never throws.
 */
export function readRuntimeFile(file: string, configFile: string): RuntimeFile | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const parsed = runtimeFileSchema.safeParse(raw, PARSE_ONCE);
  if (!parsed.success) return undefined;
  if (path.resolve(parsed.data.configFile) !== path.resolve(configFile)) return undefined;
  if (!processAlive(parsed.data.supervisorPid)) return undefined;
  return parsed.data;
}
