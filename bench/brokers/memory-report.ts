/** One JSON line of process.memoryUsage() on stdout each second (read by the bench that spawned us). */
export function reportMemoryEachSecond(): void {
  const report = (): void => {
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external })}\n`);
  };
  report();
  setInterval(report, 1000);
}
