/**
 * Device configuration as the process runs it: its own Kafka link (control client id), its own
 * connection to the buffer database, and the service. Built before the gateway (the gateway needs
 * its hooks), attached to each gateway after it started, closed after the gateway.
 */
import type { GatewayConfig } from '../config/schema.js';
import { openBufferDatabase } from '../buffer/sqlite-buffer.js';
import type { Logger } from '../lib/logger.js';
import { createDeviceConfigService, type DeviceConfigService } from './device-config-service.js';
import { createKafkaLink } from './kafka-link-impl.js';

export interface DeviceConfigRunner {
  readonly service: DeviceConfigService;
  close(): Promise<void>;
}

export function openDeviceConfig(config: Readonly<GatewayConfig>, logger: Logger, nativeBinding: string | undefined): DeviceConfigRunner {
  const database = openBufferDatabase({ path: config.buffer.path, synchronous: config.buffer.synchronous, nativeBinding });
  let link;
  try {
    link = createKafkaLink({ kafka: config.kafka, clientIdSuffix: 'devices', logger });
  } catch (err) {
    database.close();
    throw err;
  }
  const service = createDeviceConfigService({ database, link, config: config.control.deviceConfig, gatewayId: config.gatewayId, logger });
  let closing: Promise<void> | null = null;
  return {
    service,
    close() {
      closing ??= (async () => {
        await service.close();
        await link.close().catch((err: unknown) => logger.warn({ err: (err as Error)?.message }, 'device config Kafka link close failed'));
        database.close();
      })();
      return closing;
    },
  };
}
