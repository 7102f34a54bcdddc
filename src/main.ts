import { existsSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { ConfigError, parseEnv, selectAdapters } from './config/env.js';
import { createLogger } from './config/logger.js';
import { createApp } from './app.js';
import { DataDirBusyError, DataDirError, lockDataDir, prepareDataDir } from './db/data-dir.js';
import { SHUTDOWN_GRACE_MS } from './ops/runtime.js';
import { createSignalHandler } from './ops/signals.js';

/** Entry point of `npm start`: config → logger → database → core → adapters, and a clean exit. */
async function main(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let env;
  try {
    env = parseEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }

  // Everything local (embedded database, exports, charts, logs) lives there: a directory that cannot be used
  // stops the start here, at once and with its name, instead of failing (or spinning) deep inside a later step.
  try {
    prepareDataDir(env.BACKCARE_DATA_DIR);
    // Embedded PGlite is single-process: a second bot on the same directory stops here (PostgreSQL takes many).
    if (!env.DATABASE_URL) lockDataDir(env.BACKCARE_DATA_DIR);
  } catch (error) {
    if (!(error instanceof DataDirError)) throw error;
    process.stderr.write(
      error instanceof DataDirBusyError ? `${error.message}\n` : `backcare could not start: ${error.message}\n`,
    );
    return 1;
  }

  // In a terminal chat, log lines would interleave with the conversation: they go to a file there instead.
  const consoleOnly = selectAdapters(env).every((a) => a === 'console');
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  let destination;
  if (consoleOnly && process.stderr.isTTY) {
    const file = path.join(env.BACKCARE_DATA_DIR, 'backcare.log');
    process.stderr.write(`logs: ${file}\n`);
    destination = pino.destination({ dest: file, sync: true });
  }
  const log = createLogger({ level: env.LOG_LEVEL, ...(destination ? { destination } : {}) });

  // Signals are handled from here on, start-up included: a deploy's SIGTERM that lands while adapters are still
  // loading waits for the start to finish, then stops cleanly (exit 0) instead of killing a half-started bot.
  const starting = createApp(env, log, { stdin: process.stdin, stdout: process.stdout, interactive });
  const onSignal = createSignalHandler({
    stop: async () => {
      const started = await starting.catch(() => null);
      await started?.stop();
    },
    log,
    graceMs: SHUTDOWN_GRACE_MS,
    exit: (code) => process.exit(code),
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let app;
  try {
    app = await starting;
  } catch (error) {
    // One line for the person at the terminal; the stack only for whoever turns on debug logging.
    const reason = startupFailureReason(error);
    log.fatal({ event: 'startup.failed', reason }, 'start-up failed');
    log.debug({ event: 'startup.failed', err: error }, 'start-up failure details');
    process.stderr.write(`backcare could not start: ${reason}\n`);
    // createApp closed what it had opened; anything a library still holds (a socket, a timer) must not keep
    // a process that could not start alive, so exit now rather than when the event loop happens to empty.
    process.exit(1);
  }

  if (app.finished) {
    await app.finished;
    await app.stop();
    return 0;
  }
  // Servers run until a signal stops them.
  await new Promise<never>(() => undefined);
  return 0;
}

/** The first line of what went wrong, in the person's terms where the cause is a common one. */
function startupFailureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const port = (error as { port?: unknown } | null)?.port;
  if (code === 'EADDRINUSE' && typeof port === 'number')
    return `port ${port} is already in use: stop what is using it, or set PORT / HEALTH_PORT to a free port`;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim() || 'unknown error';
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`backcare crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
