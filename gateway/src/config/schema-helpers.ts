/** Small builders shared by the config section schemas. */
import { z } from 'zod';

export const durationMs = (d: string) => z.number().int().nonnegative().describe(d);

export const ROUTE_DEVICE_PLACEHOLDER = '{deviceId}';
