/**
 * A TCP proxy between MQTT devices and the gateway that watches the MQTT byte stream on the wire
 * (decoded with mqtt-packet, the parser MQTT.js and aedes use). Device -> gateway bytes pass
 * through untouched and are reported to `onDevicePacket`. Gateway -> device bytes are cut into
 * whole packets and handed, in order, to `onGatewayPacket`, which decides per packet:
 * 'forward' (the exact bytes go on to the device) or 'drop' (the device never sees them). A
 * verdict given as a promise pauses that direction until it settles, so a test can inspect the
 * world (e.g. the SQLite file) while a PUBACK is held on the wire.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export type TapVerdict = 'forward' | 'drop';

export interface TapConnection {
  /** 1, 2, ... in accept order. */
  readonly id: number;
  /** From the device's CONNECT packet (null until seen). */
  clientId: string | null;
}

export interface MqttTapProxyOptions {
  /** Where the gateway listens (it may be restarted on the same port). */
  target: { host: string; port: number };
  /** Every packet the device sends, decoded (observation only; the bytes are already on their way). */
  onDevicePacket?: (packet: Packet, conn: TapConnection) => void;
  /** Every packet the gateway sends, decoded, before it is passed on. Default: forward. */
  onGatewayPacket?: (packet: Packet, conn: TapConnection) => TapVerdict | Promise<TapVerdict>;
}

export class MqttTapProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private nextId = 1;
  port = 0;

  constructor(private readonly opts: MqttTapProxyOptions) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<number> {
    const server = createServer((device) => this.accept(device));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address');
    this.port = addr.port;
    return this.port;
  }

  private accept(device: Socket): void {
    const conn: TapConnection = { id: this.nextId++, clientId: null };
    const gateway = connect(this.opts.target.port, this.opts.target.host);
    for (const s of [device, gateway]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.once('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy()); // a dead peer is an ordinary event here (kill -9)
    }

    // Device -> gateway: forward as-is, decode a copy for the observer.
    const deviceParser = mqttPacket.parser({ protocolVersion: 4 });
    deviceParser.on('packet', (p: Packet) => {
      if (p.cmd === 'connect') conn.clientId = p.clientId;
      this.opts.onDevicePacket?.(p, conn);
    });
    deviceParser.on('error', () => device.destroy());
    device.on('data', (chunk: Buffer) => {
      if (!gateway.destroyed) gateway.write(chunk);
      deviceParser.parse(chunk);
    });
    device.once('close', () => gateway.destroy());

    // Gateway -> device: whole packets, one verdict each, strictly in order.
    const frames = new FrameSplitter();
    const queue: Buffer[] = [];
    let head = 0;
    let draining = false;
    let gatewayGone = false;
    const decoder = mqttPacket.parser({ protocolVersion: 4 });
    const decoded: { packet: Packet | null } = { packet: null };
    decoder.on('packet', (p: Packet) => (decoded.packet = p));
    decoder.on('error', () => device.destroy());

    const drain = async (): Promise<void> => {
      if (draining) return;
      draining = true;
      try {
        while (head < queue.length && !device.destroyed) {
          const frame = queue[head]!;
          queue[head++] = EMPTY;
          decoded.packet = null;
          decoder.parse(frame); // one whole frame -> exactly one synchronous 'packet'
          const packet = decoded.packet;
          let verdict: TapVerdict = 'forward';
          if (packet !== null && this.opts.onGatewayPacket) {
            const v = this.opts.onGatewayPacket(packet, conn);
            if (typeof v === 'string') {
              verdict = v;
            } else {
              gateway.pause(); // hold the stream (and TCP backpressure) while the test looks
              verdict = await v;
              gateway.resume();
            }
          }
          if (verdict === 'forward' && !device.destroyed) device.write(frame);
        }
        queue.length = 0;
        head = 0;
        // The gateway's end of the wire is gone (e.g. SIGKILL): once what it had sent is
        // delivered, the device sees the connection drop, as it would without the proxy.
        if (gatewayGone) device.end();
      } finally {
        draining = false;
      }
    };
    gateway.on('data', (chunk: Buffer) => {
      for (const frame of frames.push(chunk)) queue.push(frame);
      void drain();
    });
    gateway.once('close', () => {
      gatewayGone = true;
      void drain();
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Cuts a byte stream into whole MQTT control packets: fixed header byte, Remaining Length as a
 * variable byte integer of at most four bytes [MQTT-2.2.3], then that many bytes.
 */
class FrameSplitter {
  private pending: Buffer = EMPTY;

  push(chunk: Buffer): Buffer[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const len = frameLength(buf, pos);
      if (len === null || pos + len > buf.length) break;
      out.push(buf.subarray(pos, pos + len));
      pos += len;
    }
    this.pending = pos === buf.length ? EMPTY : Buffer.from(buf.subarray(pos));
    return out;
  }
}

/** Total length of the packet starting at `pos`, or null if its header is not complete yet. */
function frameLength(buf: Buffer, pos: number): number | null {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (pos + i >= buf.length) return null;
    const byte = buf[pos + i]!;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return 1 + i + remaining;
    multiplier *= 128;
  }
  throw new Error('malformed MQTT Remaining Length (more than 4 bytes)');
}
