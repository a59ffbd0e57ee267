// An RbacStore over manifest files: ready as soon as they are read, and as current as the last
// read. reload() reads them again; a broken edit leaves the last good state in place.
import type { RbacStore } from "./authorizer.ts";
import { loadRbacManifests, type RbacManifests } from "./manifests.ts";
import { buildSnapshot, type RbacSnapshot } from "./snapshot.ts";

export interface ManifestStore extends RbacStore {
  /** What the last successful read found. */
  readonly manifests: RbacManifests;
  /** Reads the files again and switches to them; throws (keeping the current state) if they are broken. */
  reload(): RbacManifests;
}

/** Reads `path` now; throws one line naming the file and document at fault. */
export function manifestStore(path: string, now: () => Date = () => new Date()): ManifestStore {
  let manifests = loadRbacManifests(path);
  let snapshot: RbacSnapshot = buildSnapshot(manifests.objects);
  let syncedAt = now();
  return {
    ready: true,
    get syncedAt() {
      return syncedAt;
    },
    get manifests() {
      return manifests;
    },
    snapshot: () => snapshot,
    reload() {
      const next = loadRbacManifests(path);
      snapshot = buildSnapshot(next.objects);
      manifests = next;
      syncedAt = now();
      return next;
    },
  };
}
