// Notices when files change on disk, including Kubernetes' way of updating a mounted ConfigMap or
// Secret: the visible name is a symlink that is swapped to a new directory, so the file is never
// written in place. Polling the resolved file's identity (inode, size, mtime) sees both kinds of
// change and needs no inotify, which does not follow such swaps reliably.
import { statSync } from "node:fs";

export interface FileWatch {
  stop(): void;
}

function signature(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (e) {
    return `error:${(e as NodeJS.ErrnoException).code ?? "unknown"}`;
  }
}

/** Calls `onChange` (at most once per interval) when any of `paths` changes. */
export function watchFiles(paths: readonly string[], intervalMs: number, onChange: () => void): FileWatch {
  let last = paths.map(signature).join("|");
  const timer = setInterval(() => {
    const now = paths.map(signature).join("|");
    if (now === last) return;
    last = now;
    onChange();
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
