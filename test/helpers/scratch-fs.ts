/**
 * Small file systems a test mounts itself (as root), to produce a store's faults for real: a tmpfs
 * that fills up and can be grown again, and an ext4 image on a loop device that the kernel turns
 * read-only (`errors=remount-ro`, triggered through ext4's own `trigger_fs_error`). Each is unmounted
 * and removed afterwards, whatever happened.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function tryRun(file: string, args: readonly string[]): Promise<string | undefined> {
  try {
    await run(file, args);
    return undefined;
  } catch (error) {
    return `${file} ${args.join(' ')}: ${(error as Error).message.split('\n')[0] ?? ''}`;
  }
}

/** Why a tmpfs cannot be mounted here (not root, or mount refused), or `undefined` when it can. */
async function whyNoTmpfs(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-mount-probe-'));
  try {
    const failed = await tryRun('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    if (failed !== undefined) return `cannot mount a tmpfs (${failed})`;
    await tryRun('umount', [dir]);
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Why an ext4 loop image cannot be mounted here, or `undefined` when it can. */
async function whyNoExt4(): Promise<string | undefined> {
  const noTmpfs = await whyNoTmpfs();
  if (noTmpfs !== undefined) return noTmpfs;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-ext4-probe-'));
  try {
    const image = path.join(dir, 'image');
    await writeFile(image, '');
    const made = await tryRun('mkfs.ext4', ['-q', '-F', image, '1M']);
    if (made !== undefined) return `cannot make an ext4 image (${made}; apt-get install e2fsprogs)`;
    const mountPoint = path.join(dir, 'mnt');
    await run('mkdir', [mountPoint]);
    const failed = await tryRun('mount', ['-o', 'loop', image, mountPoint]);
    if (failed !== undefined) return `cannot mount a loop device (${failed})`;
    await tryRun('umount', [mountPoint]);
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Why the tmpfs tests skip here, or `undefined` when they run. */
export const TMPFS_SKIP: string | undefined = await whyNoTmpfs();
/** Why the ext4 tests skip here, or `undefined` when they run. */
export const EXT4_SKIP: string | undefined = await whyNoExt4();

/** A mounted tmpfs: its folder, and a way to give it another size (a full disk gets space back). */
export interface Tmpfs {
  readonly dir: string;
  resize(bytes: number): Promise<void>;
}

/** Mounts a tmpfs of `bytes` bytes for `body`; unmounts and removes it afterwards. */
export async function withTmpfs(bytes: number, body: (fs: Tmpfs) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-tmpfs-'));
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  try {
    await body({ dir, resize: async (size) => void (await run('mount', ['-o', `remount,size=${size}`, dir])) });
  } finally {
    await run('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** A mounted ext4 image: its folder, and a way to make the kernel turn it read-only under the files open on it. */
export interface Ext4 {
  readonly dir: string;
  /** An ext4 error, as a failing disk would raise: with `errors=remount-ro` every write fails with `EROFS` from then on. */
  breakToReadOnly(): Promise<void>;
}

/** Mounts a fresh ext4 image of `megabytes` MB (on a loop device) for `body`; unmounts and removes it afterwards. */
export async function withExt4(megabytes: number, body: (fs: Ext4) => Promise<void>): Promise<void> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'herd-ext4-'));
  const image = path.join(home, 'image');
  const dir = path.join(home, 'mnt');
  await writeFile(image, '');
  await run('mkfs.ext4', ['-q', '-F', image, `${megabytes}M`]);
  await run('mkdir', [dir]);
  await run('mount', ['-o', 'loop,errors=remount-ro', image, dir]);
  try {
    await body({
      dir,
      breakToReadOnly: async () => {
        const { stdout } = await run('findmnt', ['-no', 'SOURCE', dir]);
        const device = path.basename(stdout.trim());
        await writeFile(`/sys/fs/ext4/${device}/trigger_fs_error`, 'herd test: simulated disk fault\n');
      },
    });
  } finally {
    // Lazy: a file the test's store still has open must not keep the image mounted.
    await run('umount', ['-l', dir]);
    await rm(home, { recursive: true, force: true });
  }
}
