/**
 * Fuzz: a bench-size run of the seeded MQTT fuzzer (test/fuzz) against the gateway process with
 * a fresh real Kafka, a legitimate QoS1 device publishing throughout, and the gateway's RSS
 * sampled from /proc every 200 ms. Prints frames, connections, frames/s, connections the
 * gateway closed, the legit device's acked vs audited messages, RSS start/max/end, and whether
 * the gateway crashed (with the connections in flight then, to replay).
 */
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { LEGIT_ROUTE, runHostile } from '../../test/fuzz/hostile-run.js';
import { startBenchKafka } from '../lib/kafka-bench.js';
import { fmt, writeResult, type Row } from '../lib/report.js';
import type { FuzzOptions } from '../../test/fuzz/fuzz-driver.js';

const MiB = 1024 * 1024;

export async function run(args: { frames: number; seed: number; persistentSessionShare: number; retainShare: number; typedMaxDepth: number }): Promise<void> {
  console.error(`# fuzz seed ${args.seed}, frames ${args.frames} (repeat: npm run bench -- fuzz --seed ${args.seed} --frames ${args.frames})`);
  const topic = 'bench.fuzz';
  const legitTopic = 'bench.fuzz.legit';
  const kafka = await startBenchKafka([topic, legitTopic, 'bench.dlq'], 3);
  const routes = [
    { topic: 'devices/{deviceId}/telemetry' },
    {
      topic: 'typed/{deviceId}/telemetry',
      valueSchema: { type: 'record', name: 'Telemetry', fields: [{ name: 'seq', type: 'long' }, { name: 'temperature', type: 'double', default: 0 }, { name: 'note', type: ['null', 'string'], default: null }] },
    },
    { topic: LEGIT_ROUTE, kafkaTopic: legitTopic },
  ];
  // statsIntervalSecs 1: the gateway's own heap figures, to tell a JS leak from RSS high water.
  const gw = new GatewayProcess({ config: { log: { level: 'info', statsIntervalSecs: 1 }, mqtt: { routes }, kafka: { brokers: kafka.brokers, topic, dlqTopic: 'bench.dlq' } } });
  try {
    await gw.start();
    const fuzz: Omit<FuzzOptions, 'host' | 'port' | 'shouldStop' | 'onProgress'> = {
      seed: args.seed,
      frames: args.frames,
      concurrency: 16,
      connectionTimeoutMs: 5000,
      typedTopic: (id) => `typed/${id}/telemetry`,
      typedMaxDepth: args.typedMaxDepth,
      persistentSessionShare: args.persistentSessionShare,
      retainShare: args.retainShare,
    };
    let lastPrint = 0;
    let scanned = 0;
    const heap = { maxUsed: 0, lastUsed: 0, maxTotal: 0 };
    const r = await runHostile({
      gw,
      brokers: kafka.brokers,
      legitTopic,
      dlqTopic: 'bench.dlq',
      routes,
      fuzz,
      legitRate: 50,
      checkpoints: 10,
      onProgress: (s, rss) => {
        for (; scanned < gw.logs.length; scanned++) {
          const l = gw.logs[scanned]!;
          if (l.event !== 'stats') continue;
          heap.lastUsed = l['heapUsedBytes'] as number;
          heap.maxUsed = Math.max(heap.maxUsed, heap.lastUsed);
          heap.maxTotal = Math.max(heap.maxTotal, l['heapTotalBytes'] as number);
        }
        // The harness keeps every log line in memory; a long run keeps only the recent ones.
        if (gw.logs.length > 10_000) {
          gw.logs.splice(0, gw.logs.length - 1000);
          scanned = gw.logs.length;
        }
        if (s.framesPlanned - lastPrint >= 10_000) {
          lastPrint = s.framesPlanned;
          console.error(`# ${s.framesPlanned} frames planned, ${s.framesWritten} written, ${s.connections} connections, RSS ${fmt(rss / MiB, 1)} MiB`);
        }
      },
    });
    const s = r.stats;
    const audited = r.legit.seqsInKafka.length;
    const row: Row = {
      seed: args.seed,
      'frames planned / written': `${s.framesPlanned} / ${s.framesWritten}`,
      connections: s.connections,
      'frames/s (written)': fmt(s.framesWritten / (s.elapsedMs / 1000)),
      'closed by gateway': s.closedByGateway,
      'fuzzer timeouts': s.timeouts,
      'legit acked / audited (in order)': `${r.legit.report.acked} / ${audited} (${r.legit.inOrder ? 'yes' : 'NO'})`,
      'legit reconnects': r.legit.report.reconnects,
      'gateway RSS MiB idle / start / max / end': `${fmt(r.idleRssBytes / MiB, 1)} / ${fmt(r.rss.startBytes / MiB, 1)} / ${fmt(r.rss.maxBytes / MiB, 1)} / ${fmt(r.rss.endBytes / MiB, 1)}`,
      'V8 heap used MiB max / last': `${fmt(heap.maxUsed / MiB, 1)} / ${fmt(heap.lastUsed / MiB, 1)}`,
      crash: r.crashed ? `YES (in flight: ${s.inFlightAtStop.join(',')})` : 'no',
      'fresh client served after': r.freshClientServed ? 'yes' : 'NO',
    };
    writeResult('fuzz', `Fuzz: malformed MQTT frames and payloads, 16 raw connections at a time, vs. the gateway with real Kafka`, [row], { heap, stats: s, rss: r.rss, idleRssBytes: r.idleRssBytes, legit: { ...r.legit, seqsInKafka: undefined }, ackedAtCheckpoints: r.legit.ackedAtCheckpoints, options: { ...fuzz, typedTopic: 'typed/<id>/telemetry' } }, [
      `first responses: ${Object.entries(s.firstResponse).map(([k, v]) => `${k} ${v}`).join(', ')}; socket errors: ${Object.entries(s.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
      `families (connections): ${Object.entries(s.byFamily).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `persistent-session share ${args.persistentSessionShare}, retain share ${args.retainShare}, JSON depth on the typed route capped at ${args.typedMaxDepth} (deeper crash-loops the gateway today: finding F2)`,
      'V8 heap from the gateway\'s own 1 s stats lines (last = the last line before the run ended): heap used falling back while RSS stays up is allocator/heap high water, not a JS leak',
      'legit device: one MQTT.js client, QoS1, 50 msgs/s, on its own route and Kafka topic, audited (decoded, keyed, in order)',
    ]);
  } finally {
    await gw.close();
    await kafka.close();
  }
}
