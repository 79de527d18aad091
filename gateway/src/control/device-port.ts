/**
 * The seam between the gateway's broker and the device configuration service (control room).
 * The service hands the gateway `DeviceControlHooks` (createGateway deps.deviceControl); the
 * gateway exposes a `DevicePort` to publish on the devices' downstream topics. The service
 * outlives gateway rebuilds: the supervisor attaches it to every gateway it builds.
 *
 * Topics: the gateway writes `devices/{id}/config` (retained, QoS 1; only that device may read
 * it, by the ACL); the device answers on `devices/{id}/config/ack`, and only as itself.
 */
import { compileTopicRoute } from '../lib/topic-route.js';

export interface DeviceControlHooks {
  /** Device configuration runs now (it can be switched on and off by a config change). */
  enabled(): boolean;
  /** A client authenticated as `deviceId` (its identity id) and is connected. Must be cheap. */
  onDeviceConnected(deviceId: string): void;
  /**
   * `devices/{own id}/config/ack` from that device; persists synchronously, before the publish is
   * acknowledged; throws a GatewayError to reject it (the publish is then refused).
   */
  onConfigAck(deviceId: string, payload: Buffer): void;
}

export interface DevicePort {
  /** QoS 1, retained, through the broker (no client: the gateway itself speaks). */
  publishRetained(topic: string, payload: Buffer): Promise<void>;
}

/** Written by the gateway only (publishes by clients are refused while device config is on). */
export const DEVICE_CONFIG_TOPIC = compileTopicRoute('devices/{deviceId}/config', 0);
/** Written by the device named in it only. */
export const DEVICE_CONFIG_ACK_TOPIC = compileTopicRoute('devices/{deviceId}/config/ack', 0);

export function deviceConfigTopic(deviceId: string): string {
  return `devices/${deviceId}/config`;
}
