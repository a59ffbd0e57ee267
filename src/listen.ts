// Binding the HTTP listeners (metrics, HTTP authorization mode) to a `host:port` flag value.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** `host:port` or `[v6]:port` -> parts for net.listen. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host: host || "0.0.0.0", port: Number(address.slice(colon + 1)) };
}

/** Listens on `address`; resolves to the port bound (the real one for port 0), rejects if it cannot. */
export async function listen(server: Server, address: string): Promise<number> {
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
