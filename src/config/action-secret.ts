import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Env } from './env.js';

export type ActionSecretSource = 'BACKCARE_SECRET' | 'SLACK_SIGNING_SECRET' | 'DISCORD_TOKEN' | 'data-dir' | 'memory';

/**
 * The secret that signs button values. It must be the same for every replica and survive restarts, or buttons
 * already sent answer "expired": BACKCARE_SECRET when set; otherwise derived from the platform secret the
 * deployment already has (under its own label, so neither is used for two purposes); otherwise (console, dev)
 * generated once and kept in BACKCARE_DATA_DIR/action-secret.
 */
export function resolveActionSecret(
  env: Pick<Env, 'BACKCARE_SECRET' | 'SLACK_SIGNING_SECRET' | 'DISCORD_TOKEN' | 'BACKCARE_DATA_DIR'>,
): { secret: string; source: ActionSecretSource } {
  if (env.BACKCARE_SECRET) return { secret: env.BACKCARE_SECRET, source: 'BACKCARE_SECRET' };
  const derive = (from: string) => createHmac('sha256', from).update('backcare button secret').digest('hex');
  if (env.SLACK_SIGNING_SECRET) return { secret: derive(env.SLACK_SIGNING_SECRET), source: 'SLACK_SIGNING_SECRET' };
  if (env.DISCORD_TOKEN) return { secret: derive(env.DISCORD_TOKEN), source: 'DISCORD_TOKEN' };
  const file = path.resolve(env.BACKCARE_DATA_DIR, 'action-secret');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return { secret: stored, source: 'data-dir' };
  } catch {
    // Not there yet: generated below.
  }
  const generated = randomBytes(32).toString('hex');
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${generated}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return { secret: generated, source: 'data-dir' };
  } catch {
    // A read-only data dir: buttons work until the next restart.
    return { secret: generated, source: 'memory' };
  }
}
