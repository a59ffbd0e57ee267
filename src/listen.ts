// Binding a listener (gRPC, metrics, HTTP authorization mode) to a `host:port` flag value.
import type { AddressInfo, Server } from "node:net";

/** `host:port` or `[v6]:port` -> parts for net.listen. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host: host || "0.0.0.0", port: Number(address.slice(colon + 1)) };
}

/** The flag form of a host and port: IPv6 hosts in brackets. */
export function joinAddress(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Listens on `address`; resolves to the port bound (the real one for port 0), rejects if it
 * cannot. With `reusePort`, worker processes each own a socket on the same port (SO_REUSEPORT) and
 * the kernel spreads new connections over them.
 */
export async function listen(server: Server, address: string, reusePort = false): Promise<number> {
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, reusePort }, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
