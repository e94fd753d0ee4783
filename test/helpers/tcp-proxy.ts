// A TCP proxy between Tessera and PostgreSQL that a test can cut and restore: a database outage
// (connections reset, new ones refused) and its end, without touching the database itself. It can
// also silence chosen connections: a flow a NAT has forgotten, which neither end hears of.
import { createServer, connect, type Server, type Socket } from 'node:net';

/** How much of what a client sent is kept, for silence() to recognise the connection by. */
const KEPT_CLIENT_TEXT = 64 * 1024;

interface Link {
  sent: string;
  silent: boolean;
}

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly links = new Set<Link>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts forwarding; after cut(), listens again on the same port. */
  async start(): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      const link: Link = { sent: '', silent: false };
      this.links.add(link);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.on('data', (chunk: Buffer) => {
        if (link.sent.length < KEPT_CLIENT_TEXT) link.sent += chunk.toString('latin1');
        if (!link.silent) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!link.silent) client.write(chunk);
      });
      client.on('close', () => {
        this.links.delete(link);
        if (!link.silent) upstream.destroy();
      });
      upstream.on('close', () => {
        if (!link.silent) client.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this.port;
  }

  /**
   * From now on forwards nothing, either way, on the open connections whose client has sent
   * `marker`, and tells neither end; returns how many. New connections are not affected.
   */
  silence(marker: string): number {
    let silenced = 0;
    for (const link of this.links) {
      if (!link.sent.includes(marker)) continue;
      link.silent = true;
      silenced++;
    }
    return silenced;
  }

  /** Drops every connection and refuses new ones until start() again. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.links.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stop(): Promise<void> {
    return this.cut();
  }
}
