/**
 * Crash-safe file replacement: readers of `path` see the old file or the new
 * one, never a half-written mix.
 *
 *   0. remove stale temp files of `path` left by processes that no longer run
 *   1. write `path.normgrad-<pid>-<counter>.tmp` (created exclusively, never
 *      clobbering), with the mode of the file it replaces (else 0666 & ~umask)
 *   2. fsync it, so its bytes are on disk before its name is
 *   3. rename it over `path` (atomic within one directory on POSIX and NTFS)
 *   4. fsync the directory, so the rename itself survives a power cut
 *
 * If any step before the rename fails, the temp file is removed and an error
 * naming `path` (never the temp file) is thrown; `path` is untouched. A
 * process killed outright (SIGKILL, power loss) can leave a stale temp file
 * beside `path`, never a damaged `path`; the next write to `path` removes it
 * (the pid in its name says whether its writer may still be running).
 */
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The synchronous file operations `writeFileAtomic` uses; `node:fs` satisfies it, tests inject failures. */
export interface AtomicWriteFs {
  /** As node:fs openSync. */
  openSync(path: string, flags: string, mode?: number): number;
  /** As node:fs writeSync. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  /** As node:fs fsyncSync: flush the file (or directory) to disk. */
  fsyncSync(fd: number): void;
  /** As node:fs closeSync. */
  closeSync(fd: number): void;
  /** As node:fs renameSync: atomic replacement on POSIX file systems. */
  renameSync(oldPath: string, newPath: string): void;
  /** As node:fs unlinkSync. */
  unlinkSync(path: string): void;
  /** As node:fs statSync: the mode of the file being replaced (optional: without it, new files get the default mode). */
  statSync?(path: string): {
    /** The permission bits (and file type). */
    mode: number;
    /** True for a regular file. */
    isFile(): boolean;
  };
  /** As node:fs fchmodSync (optional). */
  fchmodSync?(fd: number, mode: number): void;
  /** As node:fs readdirSync (optional: without it, stale temp files are not looked for). */
  readdirSync?(path: string): string[];
}

/** Thrown by writeFileAtomic: names the target, never the temp file; `code` is the fs error code when there is one. */
export class AtomicWriteError extends Error {
  constructor(
    /** The path that was to be written. */
    readonly target: string,
    /** Why it failed, in words (the message without the target). */
    readonly reason: string,
    /** The fs error code (e.g. 'ENOSPC'), or undefined when the failure was not an fs error. */
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`writeFileAtomic: cannot write '${target}': ${reason}`, { cause });
  }
}

// Errors from fsync on a directory that mean "this platform cannot", not "the disk failed".
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'EBADF', 'ENOTSUP', 'EOPNOTSUPP']);
const MAX_NAME_ATTEMPTS = 100;
let counter = 0;

/**
 * Atomically replaces (or creates) the file at `path` with `bytes`; see the
 * steps above. Synchronous. Throws `AtomicWriteError` naming `path` and the
 * reason (`ENOENT: no such file or directory`). `fs` is injectable for tests.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, fs: AtomicWriteFs = nodeFs): void {
  try {
    replace(path, bytes, fs);
  } catch (e) {
    if (e instanceof AtomicWriteError) throw e;
    throw new AtomicWriteError(path, reasonOf(e), errorCode(e), e);
  }
}

function replace(path: string, bytes: Uint8Array, fs: AtomicWriteFs): void {
  removeStaleTemps(path, fs);
  const mode = existingMode(path, fs);
  const { fd, tmp } = createTemp(path, fs);
  let renamed = false;
  try {
    try {
      if (mode !== null) fs.fchmodSync?.(fd, mode);
      for (let written = 0; written < bytes.length; ) {
        const n = fs.writeSync(fd, bytes, written, bytes.length - written, null);
        if (n <= 0) throw new Error('a write made no progress');
        written += n;
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) removeQuietly(tmp, fs);
  }
  fsyncDirectory(dirname(path), fs);
}

const TEMP_SUFFIX = /^\.normgrad-(\d+)-\d+\.tmp$/;

/** Opens a new temp file next to `path` with O_EXCL, moving to the next counter if one is left over. */
function createTemp(path: string, fs: AtomicWriteFs): { fd: number; tmp: string } {
  for (let attempt = 0; ; attempt++) {
    const tmp = `${path}.normgrad-${process.pid}-${counter++}.tmp`;
    try {
      return { fd: fs.openSync(tmp, 'wx', 0o666), tmp };
    } catch (e) {
      if (errorCode(e) !== 'EEXIST' || attempt + 1 >= MAX_NAME_ATTEMPTS) throw e;
    }
  }
}

/** The permission bits of the regular file at `path`, or null if there is none. */
function existingMode(path: string, fs: AtomicWriteFs): number | null {
  try {
    const st = fs.statSync?.(path);
    return st && st.isFile() ? st.mode & 0o7777 : null;
  } catch {
    return null;
  }
}

/**
 * Removes `<name>.normgrad-<pid>-<n>.tmp` files beside `path` whose process is
 * gone (a kill during an earlier save). Temp files of running processes,
 * this one included, are left alone: they may be mid-write.
 */
function removeStaleTemps(path: string, fs: AtomicWriteFs): void {
  if (!fs.readdirSync) return;
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return; // the write itself will report a missing or unreadable directory
  }
  for (const entry of entries) {
    if (!entry.startsWith(name)) continue;
    const m = TEMP_SUFFIX.exec(entry.slice(name.length));
    if (m && !processRuns(Number(m[1]))) removeQuietly(join(dir, entry), fs);
  }
}

function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    return errorCode(e) !== 'ESRCH'; // EPERM: it exists but belongs to someone else
  }
}

/** "EACCES: permission denied" from a Node fs error, without the syscall and the (temp) path. */
function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = errorCode(e);
  return code !== undefined && message.startsWith(`${code}:`) ? message.split(',')[0]! : message;
}

function fsyncDirectory(dir: string, fs: AtomicWriteFs): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (e) {
    if (DIR_FSYNC_UNSUPPORTED.has(errorCode(e) ?? '')) return;
    throw e;
  }
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has(errorCode(e) ?? '')) throw e;
  } finally {
    fs.closeSync(fd);
  }
}

function removeQuietly(path: string, fs: AtomicWriteFs): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // already gone, or nothing we can do; the original error matters more
  }
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}
