import net from 'node:net';
import { Aedes } from 'aedes';

/**
 * An in-process aedes broker on a real TCP port that records every PUBLISH it receives
 * (before acknowledging it), and can be killed/restarted on the same port or told to
 * withhold acknowledgements.
 */
export class TestBroker {
  /** deviceId -> seqs in arrival order (duplicates included). */
  readonly received = new Map<string, number[]>();
  /** `${deviceId}#${seq}` -> first payload seen. */
  readonly payloads = new Map<string, string>();
  readonly topics = new Set<string>();
  /** clientId that published each message didn't match the payload's deviceId. */
  mismatches = 0;
  /** A re-sent (deviceId, seq) arrived with a different payload than the first copy. */
  payloadMismatches = 0;
  total = 0;
  /** While true, publishes are recorded but not acknowledged. */
  stall = false;
  private stalled: (() => void)[] = [];
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  static async start(port = 0): Promise<TestBroker> {
    const b = new TestBroker();
    await b.listen(port);
    return b;
  }

  async listen(port = this.port): Promise<void> {
    const broker = await Aedes.createBroker();
    broker.authorizePublish = (client, packet, cb) => {
      this.record(client?.id, packet.topic, packet.payload);
      if (this.stall) this.stalled.push(() => cb(null));
      else cb(null);
    };
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.broker = broker;
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Number of publishes currently withheld (received, not acknowledged). */
  get withheld(): number {
    return this.stalled.length;
  }

  /** Acknowledge everything withheld so far and stop stalling. */
  release(): void {
    this.stall = false;
    const s = this.stalled;
    this.stalled = [];
    for (const f of s) f();
  }

  /** Simulate a crash: stop listening, destroy every client socket, drop withheld acks (and stop stalling). */
  async kill(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    this.stalled = [];
    this.stall = false;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    await closed;
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
  }

  /** Distinct seqs seen for a device, ascending. */
  distinctSeqs(deviceId: string): number[] {
    return [...new Set(this.received.get(deviceId) ?? [])].sort((a, b) => a - b);
  }

  private record(clientId: string | undefined, topic: string, payload: Buffer | string): void {
    const text = payload.toString();
    const id = /"deviceId":"([^"]*)"/.exec(text)?.[1];
    const seq = Number(/"seq":(\d+)/.exec(text)?.[1]);
    this.total++;
    this.topics.add(topic);
    if (id === undefined || !Number.isInteger(seq)) return;
    if (id !== clientId) this.mismatches++;
    let list = this.received.get(id);
    if (!list) this.received.set(id, (list = []));
    list.push(seq);
    const key = `${id}#${seq}`;
    const first = this.payloads.get(key);
    if (first === undefined) this.payloads.set(key, text);
    else if (first !== text) this.payloadMismatches++;
  }
}

/** A port that was free a moment ago (nothing listening on it). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
