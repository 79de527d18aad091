/**
 * Rejects an MQTT packet from its fixed header, before its body is buffered. aedes reads
 * everything a socket has and mqtt-packet keeps a partial packet until it is complete, so a
 * peer that declares a 256 MB packet would make the gateway hold 256 MB; neither has a size
 * option. The guard sees every chunk as it enters the socket's read buffer (it wraps the
 * socket's push(), which Node's stream read path calls once per chunk), follows the fixed
 * header and remaining-length varint of each packet [MQTT-2.2], and skips bodies by
 * arithmetic: no copy, O(packets) per chunk. A declared length over the limit, a malformed
 * varint, or a first packet other than CONNECT [MQTT-3.1.0-1] closes the socket and the chunk
 * is never buffered.
 */
import type { Socket } from 'node:net';

export const FrameVerdict = { ok: 0, tooLarge: 1, malformed: 2, notConnect: 3 } as const;
export type FrameVerdict = (typeof FrameVerdict)[keyof typeof FrameVerdict];

const CONNECT = 1;
const HEADER = 0;
const LENGTH = 1;
const BODY = 2;

/** Pure state machine over the byte stream; feed chunks in order, split anywhere. */
export class FrameGuard {
  private state = HEADER;
  private lengthBytes = 0;
  private multiplier = 1;
  private remaining = 0;
  private sawFirst = false;
  /** Total size (header included) the last rejected packet declared. */
  declaredBytes = 0;

  constructor(private readonly maxPacketBytes: number) {}

  feed(chunk: Uint8Array): FrameVerdict {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === BODY) {
        const skip = Math.min(this.remaining, n - i);
        this.remaining -= skip;
        i += skip;
        if (this.remaining === 0) this.state = HEADER;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === HEADER) {
        if (!this.sawFirst) {
          this.sawFirst = true;
          if (byte >> 4 !== CONNECT) return FrameVerdict.notConnect;
        }
        this.state = LENGTH;
        this.lengthBytes = 0;
        this.multiplier = 1;
        this.remaining = 0;
        continue;
      }
      // LENGTH: up to four bytes, 7 bits each, least significant first [MQTT-2.2.3].
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return FrameVerdict.malformed;
        continue;
      }
      const total = 1 + this.lengthBytes + this.remaining;
      if (total > this.maxPacketBytes) {
        this.declaredBytes = total;
        return FrameVerdict.tooLarge;
      }
      this.state = this.remaining === 0 ? HEADER : BODY;
    }
    return FrameVerdict.ok;
  }
}

export type FrameRejectHandler = (verdict: FrameVerdict, declaredBytes: number) => void;

/**
 * Installs the guard on an accepted socket before aedes reads from it. On a bad frame the chunk
 * is dropped and the socket destroyed; `onReject` counts and logs.
 */
export function guardSocketFrames(socket: Socket, maxPacketBytes: number, onReject: FrameRejectHandler): void {
  const guard = new FrameGuard(maxPacketBytes);
  const push = socket.push;
  let rejected = false;
  socket.push = function guardedPush(this: Socket, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (rejected) return false;
    if (chunk !== null && chunk !== undefined) {
      const verdict = guard.feed(chunk as Uint8Array);
      if (verdict !== FrameVerdict.ok) {
        rejected = true;
        onReject(verdict, guard.declaredBytes);
        socket.destroy();
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
}
