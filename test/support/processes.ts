// What the kernel says about processes and sockets, read from /proc (Linux): which processes own a
// listening socket on a port, and whether a process is still alive.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Inodes of IPv4 and IPv6 TCP sockets in LISTEN state on `port`. */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const localPort = Number.parseInt(fields[1].split(":")[1], 16);
      // st 0A is LISTEN; field 9 is the inode.
      if (localPort === port && fields[3] === "0A") inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** The pids that each own a listening socket on `port` (SO_REUSEPORT gives one per worker). */
export function listeningPids(port: number): number[] {
  const inodes = listeningInodes(port);
  const pids = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) pids.add(Number(entry));
      } catch {
        // The fd closed while being read.
      }
    }
  }
  return [...pids].sort((a, b) => a - b);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
