// The lab's RADIUS servers (NPS with the extension, RADIUS proxies) listen the same way: UDP on 127.0.0.1.
import * as dgram from "node:dgram";

/**
 * A UDP socket bound on 127.0.0.1 (port 0 takes a free one) that hands each datagram to `handle`. A failing
 * handler is a lab fault, not server behaviour: it is said where the lab's operator sees it, under `label`.
 */
export async function listenUdp(
  port: number,
  label: string,
  handle: (message: Buffer, remote: dgram.RemoteInfo) => Promise<void>,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (message, remote) => {
    handle(message, remote).catch((error: Error) => console.error(`${label}: ${error.message}`));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "127.0.0.1", () => resolve());
  });
  return socket;
}
