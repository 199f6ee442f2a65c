import { createServer, Socket, type Server } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL, to simulate database faults without touching the
 * real server (other test runs share it):
 * - `down()`: every connection is cut and new ones are refused (a server crash or restart);
 *   `up()` accepts again on the same port.
 * - `stall()`: connections stay open but no byte moves in either direction (a hung server or a
 *   black-holed network); `resume()` lets the buffered bytes through.
 * - `delay(ms)`: every chunk is forwarded `ms` late (a slow network).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private stalled = false;
  private delayMs = 0;
  private readonly held: (() => void)[] = [];
  /** Connections accepted so far (to show that the gateway reconnected). */
  accepted = 0;

  private constructor(readonly port: number, private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const proxy = new TcpProxy(port, target);
    await proxy.up();
    return proxy;
  }

  /** Rewrites a postgres:// URL to go through the proxy. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get connections(): number { return this.pairs.size; }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const p of this.pairs) { p.client.destroy(); p.upstream.destroy(); }
    this.pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stall(): void { this.stalled = true; }

  resume(): void {
    this.stalled = false;
    for (const release of this.held.splice(0)) release();
  }

  delay(ms: number): void { this.delayMs = ms; }

  async close(): Promise<void> {
    this.resume();
    await this.down();
  }

  private accept(client: Socket): void {
    this.accepted++;
    const upstream = new Socket();
    const pair = { client, upstream };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        const send = () => { if (!to.destroyed) to.write(chunk); };
        const go = () => (this.delayMs ? setTimeout(send, this.delayMs) : send());
        // Order is kept: while stalled, chunks queue up and are released in arrival order.
        if (this.stalled || this.held.length) this.held.push(go);
        else go();
      });
    };
    const end = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.connect(this.target.port, this.target.host, () => {
      forward(client, upstream);
      forward(upstream, client);
    });
  }
}
