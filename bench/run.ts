/** `npm run bench -- <name> [options]`: speed targets live here, not in timed tests. */
const benches: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  acks: async () => (await import('./acks.js')).runAcksBench,
  nudges: async () => (await import('./nudges.js')).runNudgesBench,
  stats: async () => (await import('./stats.js')).runStatsBench,
  retention: async () => (await import('./retention.js')).runRetentionBench,
  live: async () => (await import('./live-budget.js')).runLiveBudgetBench,
  replicas: async () => (await import('./replicas.js')).runReplicasBench,
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exitCode = 2;
} else {
  (await load())(rest).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
