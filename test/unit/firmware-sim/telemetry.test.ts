import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeMalformedTelemetry } from '../../../firmware-sim/src/malformed-telemetry.js';
import { createRng } from '../../../firmware-sim/src/rng.js';
import { FIRMWARE_VERSION, makeTelemetry } from '../../../firmware-sim/src/telemetry.js';

describe('makeTelemetry', () => {
  it('produces the documented JSON fields', () => {
    const before = Date.now();
    const p = JSON.parse(makeTelemetry('dev-00001', 42, 3600.7, createRng(1))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(p), ['deviceId', 'seq', 'ts', 'temperature', 'humidity', 'battery', 'firmwareVersion', 'uptimeSecs']);
    assert.equal(p.deviceId, 'dev-00001');
    assert.equal(p.seq, 42);
    assert.ok((p.ts as number) >= before && (p.ts as number) <= Date.now());
    assert.equal(p.firmwareVersion, FIRMWARE_VERSION);
    assert.equal(p.firmwareVersion, '1.4.2');
    assert.equal(p.uptimeSecs, 3600);
  });

  it('values are plausible and drift smoothly', () => {
    const rng = createRng(7);
    let prev: { temperature: number; humidity: number; battery: number } | undefined;
    for (let t = 0; t < 86_400; t += 60) {
      const p = JSON.parse(makeTelemetry('dev-00003', t / 60 + 1, t, rng)) as { temperature: number; humidity: number; battery: number };
      assert.ok(p.temperature > 10 && p.temperature < 35, `temperature ${p.temperature}`);
      assert.ok(p.humidity >= 0 && p.humidity <= 100, `humidity ${p.humidity}`);
      assert.ok(p.battery >= 0 && p.battery <= 100, `battery ${p.battery}`);
      if (prev) {
        assert.ok(Math.abs(p.temperature - prev.temperature) < 1.5, 'temperature drifts, not jumps');
        assert.ok(p.battery <= prev.battery, 'battery drains');
      }
      prev = p;
    }
  });

  it('pads to exactly payloadBytes when asked', () => {
    for (const size of [200, 256, 1024]) {
      const s = makeTelemetry('dev-00001', 1, 10, createRng(1), { payloadBytes: size });
      assert.equal(Buffer.byteLength(s), size);
      assert.equal(typeof (JSON.parse(s) as { pad: string }).pad, 'string');
    }
    const small = makeTelemetry('dev-00001', 1, 10, createRng(1), { payloadBytes: 20 });
    assert.ok(!small.includes('"pad"'), 'no pad when the body is already larger');
  });

  it('uses an explicit ts when given', () => {
    const p = JSON.parse(makeTelemetry('d', 1, 0, createRng(1), { ts: 1234 })) as { ts: number };
    assert.equal(p.ts, 1234);
  });
});

describe('makeMalformedTelemetry', () => {
  it('is unusable as telemetry but still names device and seq', () => {
    for (const variant of [0, 1, 2, 3]) {
      const s = makeMalformedTelemetry('dev-00009', 17, variant);
      assert.match(s, /"deviceId":"dev-00009","seq":17/);
      let ok = true;
      try {
        ok = typeof (JSON.parse(s) as { temperature: unknown }).temperature === 'number';
      } catch {
        ok = false;
      }
      assert.equal(ok, false);
    }
  });
});
