/** ACL rules (mosquitto acl_file patterns): what clients may publish and subscribe to. */
import { z } from 'zod';

export const aclRuleSchema = z
  .strictObject({
    user: z.string().min(1).optional().describe('Only for this authenticated identity (device id or service account); omitted: every client'),
    anonymous: z.boolean().optional().describe('true: only for clients without credentials'),
    topic: z.string().min(1).describe('MQTT topic filter; %c is replaced by the client id, %u by the authenticated username'),
    access: z.enum(['read', 'write', 'readwrite']).describe('read: subscribe and receive; write: publish on unrouted (local) topics'),
  })
  .refine((r) => !(r.user !== undefined && r.anonymous === true), { message: 'a rule is either for a user or for anonymous clients', path: ['anonymous'] });

/** By default a device reads only its own downstream topics. */
export const DEFAULT_ACL = [
  { topic: 'devices/%c/config', access: 'read' as const },
  { topic: 'devices/%c/commands/#', access: 'read' as const },
];

export type AclRuleConfig = z.infer<typeof aclRuleSchema>;
