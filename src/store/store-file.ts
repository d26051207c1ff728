/**
 * The store's file as the file system sees it, for the writer thread (./sqlite-writer.ts) and the
 * last commit at close (./sqlite-log.ts): whether the path still names the file a connection has open,
 * why a commit failed, and moving a damaged file aside (docs/operations.md "When the store cannot
 * write").
 */
import { accessSync, constants, existsSync, renameSync, statSync, statfsSync, utimesSync } from 'node:fs';
import path from 'node:path';
import type { StoreFailureReason } from '../errors.js';

/** Which file a path named when a connection opened it (device and inode). */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** The file `file` names now, or `undefined` when there is none. */
export function identify(file: string): FileIdentity | undefined {
  try {
    const { dev, ino } = statSync(file);
    return { dev, ino };
  } catch {
    return undefined;
  }
}

/** Whether `file` still names the file that had `identity` (false once it was removed, moved or replaced). */
export function sameFile(file: string, identity: FileIdentity | undefined): boolean {
  const now = identify(file);
  return now !== undefined && identity !== undefined && now.dev === identity.dev && now.ino === identity.ino;
}

/** The suffixes of the files of one SQLite database in WAL mode. */
const DATABASE_SUFFIXES = ['', '-wal', '-shm'] as const;

/**
 * Moves a database and its WAL files aside to `<file>.corrupt-<POSIX ms>` (kept for inspection).
 *
 * @returns the new name of the database file.
 * @throws the file system's error when a rename fails.
 */
export function moveAside(file: string): string {
  const aside = `${file}.corrupt-${Date.now()}`;
  for (const suffix of DATABASE_SUFFIXES) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  return aside;
}

/** Size of a database on disk (the file and its write-ahead log), bytes; `undefined` when the file is missing. */
export function databaseBytes(file: string): number | undefined {
  try {
    const main = statSync(file).size;
    let wal = 0;
    try {
      wal = statSync(`${file}-wal`).size;
    } catch {
      // No WAL file yet (or checkpointed away).
    }
    return main + wal;
  } catch {
    return undefined;
  }
}

/**
 * Why a commit to `file` failed, from SQLite's extended result code (better-sqlite3's `code`, e.g.
 * `SQLITE_FULL`, `SQLITE_IOERR_WRITE`) and, for a bare I/O error, from the file system itself (SQLite
 * does not say which `errno` it met): is the file gone, does the folder refuse writes, is it full.
 */
export function failureReason(error: unknown, file: string): StoreFailureReason {
  const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : '';
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code === 'SQLITE_READONLY_DBMOVED' || !existsSync(file)) return 'missing';
  if (code.startsWith('SQLITE_READONLY') || refusesWrites(path.dirname(file)) || !writable(file)) return 'read_only';
  if (noSpaceLeft(path.dirname(file))) return 'full';
  return 'io';
}

/**
 * Whether the file system holding `folder` refuses writes: a folder this process may not write, or a
 * file system that answers `EROFS` when the folder's times are set (a mount made read-only, or an
 * ext4 that turned itself read-only after an error, which `access(2)` does not report).
 */
function refusesWrites(folder: string): boolean {
  if (!writable(folder)) return true;
  try {
    const now = new Date();
    utimesSync(folder, now, now);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/** Whether this process may write `target` by its permissions (a read-only mount answers `EROFS` even to root). */
function writable(target: string): boolean {
  try {
    accessSync(target, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the file system holding `folder` has no block left for this process. */
function noSpaceLeft(folder: string): boolean {
  try {
    return statfsSync(folder).bavail === 0;
  } catch {
    return false;
  }
}
