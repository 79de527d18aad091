/**
 * The forward stage's interface to the central log. `send` resolves only when every message is
 * acknowledged by all in-sync replicas (acks=all); it rejects with a GatewayError otherwise.
 * Implementations keep per-key order within one call.
 */
export interface OutMessage {
  topic: string;
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface SinkState {
  connected: boolean;
  lastError: { code: string; message: string; at: number } | null;
}

export interface TelemetrySink {
  /** Connects (retrying is the caller's job: rejects with GW_ERR_FORWARD_CONNECT). */
  connect(): Promise<void>;
  send(messages: readonly OutMessage[]): Promise<void>;
  state(): SinkState;
  close(): Promise<void>;
}
