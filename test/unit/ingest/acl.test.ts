import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAcl, ReloadableAcl } from '../../../gateway/src/ingest/acl.js';
import { DEFAULT_ACL } from '../../../gateway/src/config/acl-schema.js';

test('default ACL: a device subscribes only to its own downstream topics', () => {
  const acl = createAcl({ rules: DEFAULT_ACL, sysTopics: false }).forPrincipal({ clientId: 'dev-1', username: 'dev-1' });
  assert.ok(acl.canSubscribe('devices/dev-1/config'));
  assert.ok(acl.canSubscribe('devices/dev-1/commands/#'));
  assert.ok(acl.canSubscribe('devices/dev-1/commands/reboot'));
  for (const f of ['#', 'devices/+/telemetry', 'devices/dev-2/config', '$SYS/#', 'devices/#', '+/dev-1/config', '$share/g/#']) {
    assert.ok(!acl.canSubscribe(f), `${f} must be denied`);
  }
  assert.ok(acl.canRead('devices/dev-1/config'));
  assert.ok(!acl.canRead('devices/dev-2/config'));
  assert.ok(!acl.canWrite('devices/dev-1/config'), 'read rules give no write');
});

test('user rules, anonymous rules, readwrite and write', () => {
  const rules = [
    { user: 'dashboard', topic: 'devices/+/telemetry', access: 'read' as const },
    { anonymous: true, topic: 'local/#', access: 'readwrite' as const },
    { topic: 'status/%c', access: 'write' as const },
  ];
  const acl = createAcl({ rules, sysTopics: false });
  const dash = acl.forPrincipal({ clientId: 'dashboard', username: 'dashboard' });
  assert.ok(dash.canSubscribe('devices/+/telemetry'));
  assert.ok(!dash.canSubscribe('local/x'));
  const anon = acl.forPrincipal({ clientId: 'node-red', username: null });
  assert.ok(anon.canSubscribe('local/#'));
  assert.ok(anon.canWrite('local/lights/on'));
  assert.ok(!anon.canSubscribe('devices/+/telemetry'));
  assert.ok(anon.canWrite('status/node-red'));
  assert.ok(!anon.canWrite('status/other'));
  const dev = acl.forPrincipal({ clientId: 'dev-9', username: 'dev-9' });
  assert.ok(!dev.canWrite('local/x'), 'anonymous-only rule does not apply to an authenticated client');
  assert.ok(!dev.canWrite('$SYS/x'), 'no client writes a $ topic');
});

test('a client id with a wildcard or separator never widens %c rules', () => {
  const acl = createAcl({ rules: DEFAULT_ACL, sysTopics: false });
  for (const id of ['+', '#', 'a/b', 'x/+/y', '']) {
    const c = acl.forPrincipal({ clientId: id, username: null });
    assert.ok(!c.canSubscribe('devices/+/config'), `id ${JSON.stringify(id)}`);
    assert.ok(!c.canSubscribe('devices/#'), `id ${JSON.stringify(id)}`);
    assert.ok(!c.canRead('devices/other/config'), `id ${JSON.stringify(id)}`);
  }
  // %u for an anonymous client: the rule does not apply at all.
  const byUser = createAcl({ rules: [{ topic: 'u/%u/#', access: 'read' }], sysTopics: false }).forPrincipal({ clientId: 'c', username: null });
  assert.ok(!byUser.canSubscribe('u/#'));
  // A value containing "%u" is not substituted twice.
  const twice = createAcl({ rules: [{ topic: 'x/%c/%u', access: 'read' }], sysTopics: false }).forPrincipal({ clientId: '%u', username: 'bob' });
  assert.ok(twice.canRead('x/%u/bob'));
});

test('$SYS only when sysTopics is on and a rule allows it', () => {
  const rules = [{ user: 'ops', topic: '$SYS/#', access: 'read' as const }];
  assert.ok(!createAcl({ rules, sysTopics: false }).forPrincipal({ clientId: 'ops', username: 'ops' }).canSubscribe('$SYS/#'));
  assert.ok(createAcl({ rules, sysTopics: true }).forPrincipal({ clientId: 'ops', username: 'ops' }).canSubscribe('$SYS/#'));
  assert.ok(!createAcl({ rules, sysTopics: true }).forPrincipal({ clientId: 'dev', username: 'dev' }).canSubscribe('$SYS/#'));
});

test('reloadable ACL: a connected client\'s view follows a replaced ACL on its next check', () => {
  const reloadable = new ReloadableAcl(createAcl({ rules: [{ topic: 'a/%c', access: 'readwrite' }], sysTopics: false }));
  const view = reloadable.forPrincipal({ clientId: 'dev-1', username: 'dev-1' });
  assert.ok(view.canRead('a/dev-1') && view.canWrite('a/dev-1') && view.canSubscribe('a/dev-1'));
  assert.ok(!view.canRead('b/dev-1'));
  reloadable.replace(createAcl({ rules: [{ topic: 'b/%c', access: 'read' }], sysTopics: false }));
  assert.ok(!view.canRead('a/dev-1') && !view.canWrite('a/dev-1') && !view.canSubscribe('a/dev-1'));
  assert.ok(view.canRead('b/dev-1') && view.canSubscribe('b/dev-1') && !view.canWrite('b/dev-1'));
});
