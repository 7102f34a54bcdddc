import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../src/db/client.js';
import { activityEvents } from '../../../src/db/schema.js';
import { cloneMigratedPostgres, type TestDriver } from '../../support/db.js';
import { botCommand, isolatedEnv, repoRoot, run, tempDataDir, type RunResult } from '../../support/spawn.js';

interface Step {
  send: string;
  /** Waits for this in the output that follows the line before sending the next one. */
  until: RegExp;
}

/**
 * Drives the bot like a person at a terminal: each line is typed only once the previous answer has appeared
 * (event-driven, no sleeps), then input ends and the bot must exit by itself.
 */
function drive(env: Record<string, string>, steps: Step[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(botCommand[0], botCommand[1], {
      cwd: repoRoot,
      env: isolatedEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let index = 0;
    let from = 0;
    const next = () => {
      while (index < steps.length && from >= 0 && steps[index]!.until.test(stdout.slice(from))) {
        index += 1;
        from = -1;
      }
      if (index === steps.length) {
        if (!child.stdin.writableEnded) child.stdin.end();
        return;
      }
      if (from === -1) {
        from = stdout.length;
        child.stdin.write(`${steps[index]!.send}\n`);
      }
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `stuck at step ${index} (${steps[index]?.send})\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-3000)}`,
        ),
      );
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      next();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    from = -1;
    next();
  });
}

const session: Step[] = [
  { send: '/backcare breathe box 1', until: /How do you feel\?[\s\S]*Type a number/ },
  { send: '1', until: /Glad it helped/ },
  { send: '/backcare stretch chest', until: /\[3\] Stop/ },
  { send: '3', until: /Stopped\./ },
  { send: '/backcare roll', until: /\[2\] Another one/ },
  { send: '2', until: /How do you feel\?/ },
  { send: '/backcare relax body-scan', until: /How do you feel\?/ },
  { send: '/backcare routine list', until: /Run one with/ },
  { send: '/backcare routine doorway-chest-stretch', until: /\[1\] Done/ },
  // Done straight away: the clock has not moved, so it ends early and does not count as done.
  { send: '1', until: /Ended after \d+ s: not counted as done\./ },
  { send: '/backcare routine 5', until: /How do you feel\?/ },
  { send: '/backcare breathe box 11', until: /minutes must be a whole number from 1 to 10/ },
];

for (const driver of ['pglite', 'postgres'] as TestDriver[]) {
  describe(`guided sessions in the console [${driver}] (child process, piped stdin, fast clock)`, () => {
    // Starts from a migrated database: a first start on an empty directory is console.e2e's quick start.
    const data = tempDataDir({ migrated: true });
    let scratch: { url: string; drop: () => Promise<void> } | undefined;
    let env: Record<string, string>;
    let quick: RunResult;
    let driven: RunResult;
    let events: (typeof activityEvents.$inferSelect)[];

    beforeAll(async () => {
      env = { BACKCARE_DATA_DIR: data.dir, LOG_LEVEL: 'info' };
      if (driver === 'postgres') {
        scratch = await cloneMigratedPostgres();
        env.DATABASE_URL = scratch.url;
      }
      // The documented command once (PGlite); the PostgreSQL run starts the same entry without npm's start-up.
      const [command, args] = driver === 'pglite' ? ['npm', ['start', '--silent']] : botCommand;
      quick = await run(command, args, {
        input: '/backcare breathe box 1\n',
        env: isolatedEnv({ ...env, BACKCARE_TIME_SCALE: '0.001' }),
        timeoutMs: 120_000,
      });
      driven = await drive({ ...env, BACKCARE_TIME_SCALE: '0.01' }, session);
      const database: Database =
        driver === 'postgres'
          ? await openDatabase({ driver: 'postgres', url: scratch!.url, poolSize: 1 })
          : await openDatabase({ driver: 'pglite', dataDir: path.join(data.dir, 'pgdata') });
      try {
        events = await database.db.select().from(activityEvents).orderBy(activityEvents.id);
      } finally {
        await database.close();
      }
    }, 300_000);

    afterAll(async () => {
      data.cleanup();
      await scratch?.drop();
    });

    it('`printf "/backcare breathe box 1\\n" | BACKCARE_TIME_SCALE=0.001 npm start --silent` shows the live phases and "How do you feel?", exit 0', () => {
      expect(quick.code).toBe(0);
      const phases = [...quick.stdout.matchAll(/^(Breathe in…|Hold…|Breathe out…|Hold, lungs empty…) 4$/gm)].map(
        (m) => m[1],
      );
      expect(phases).toEqual(Array(4).fill(['Breathe in…', 'Hold…', 'Breathe out…', 'Hold, lungs empty…']).flat());
      expect(quick.stdout).toMatch(/breath 1 of 4[\s\S]*breath 4 of 4/);
      expect(quick.stdout).toContain('[1] Stop');
      expect(quick.stdout).toMatch(
        /Well done\. You finished Box breathing \(1 min 4 s\)\.\nHow do you feel\?\n {2}\[1\] Better\n {2}\[2\] About the same\n {2}\[3\] Worse/,
      );
      expect(quick.stdout).not.toContain('"level"');
    });

    it('runs every guided command end to end, the number keys pressing the buttons', () => {
      expect(driven.code).toBe(0);
      const out = driven.stdout;
      expect(out).toContain('Glad it helped.');
      expect(out).toContain('== Doorway chest stretch ==');
      expect(out).toMatch(/Step 1 of \d+: /);
      expect(out).toContain('Stopped. That is fine');
      expect(out).toContain('! Never roll directly over the spine');
      expect(out).toContain('== Backcare routines ==');
      expect(out).toContain('== Your 5-minute routine ==');
      expect(out).toContain('Backcare offers general wellbeing routines. It is not medical advice or a diagnosis.');
      expect(out).toContain('minutes must be a whole number from 1 to 10. Usage: /backcare breathe');
    });

    it('records one activity event per completed, stopped or skipped session in the database', () => {
      const summary = events.map((e) => [e.kind, e.source, e.outcome]);
      expect(summary).toEqual([
        ['session', 'breathe', 'completed'], // the printf run
        ['session', 'breathe', 'completed'],
        ['session', 'stretch', 'stopped'],
        ['session', 'roll', 'skipped'],
        ['session', 'roll', 'completed'],
        ['session', 'relax', 'completed'],
        ['session', 'routine', 'stopped'], // Done on doorway-chest-stretch at once: ended early
        ['session', 'routine', 'completed'], // the 5-minute programme
      ]);
      expect(events[0]).toMatchObject({ routineId: 'box-breathing', durationSeconds: 64 });
      expect(events[6]).toMatchObject({ routineId: 'doorway-chest-stretch' });
      expect(events[7]).toMatchObject({ routineId: 'programme-5m' });
      expect(events[3]!.routineId).not.toBe(events[4]!.routineId);
      expect(new Set(events.map((e) => e.userId)).size).toBe(1);
    });
  });
}
