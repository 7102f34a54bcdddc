import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv, run, runBot, tempDataDir } from '../../support/spawn.js';

const data = tempDataDir();
afterAll(() => data.cleanup());

describe('console adapter end to end (child process, piped stdin)', () => {
  it('`printf "/backcare help\\n" | npm start --silent` prints the help and exits 0', async () => {
    const result = await run('npm', ['start', '--silent'], {
      input: '/backcare help\n',
      env: isolatedEnv({ BACKCARE_DATA_DIR: data.dir }),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('== Backcare: look after your upper back at the desk ==');
    expect(result.stdout).toContain('/backcare settings [edit|on|off]');
    expect(result.stdout).toContain('It is not medical advice');
    // Logs stay on stderr, stdout is the chat.
    expect(result.stdout).not.toContain('"level"');
    expect(result.stderr).toContain('starting adapters: console');
  }, 90_000);

  it('edits settings field by field, re-asks a bad field at once, saves, and keeps them across restarts', async () => {
    const input = [
      'settings edit',
      '1', // nudges: yes
      'Europe/Londn', // a typo: refused and asked again at once
      'Europe/London',
      '1,2,3,4', // Mon–Thu
      '08:30',
      '', // end: keep 17:00
      '45',
      'breathing,3', // kinds
      '', // delivery: keep
      '', // channel: keep empty
      '', // quiet time: keep
      '',
    ].join('\n');
    const first = await runBot(input, { BACKCARE_DATA_DIR: data.dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Send me desk-break nudges [1 Yes, 2 No] (now: No): ');
    expect(first.stdout).toContain(
      '✗ that is not a timezone I know; use a name like Europe/London or America/New_York\nTimezone',
    );
    expect(first.stdout).toContain('== Saved. Your Backcare settings ==');

    const second = await runBot('me\n', { BACKCARE_DATA_DIR: data.dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Nudges: on');
    expect(second.stdout).toContain('Working hours: 08:30–17:00, Mon, Tue, Wed, Thu');
    expect(second.stdout).toContain('Timezone: Europe/London');
    expect(second.stdout).toContain('How often: every 45 minutes');
    expect(second.stdout).toContain('Kinds: Breathing, Foam rolling');
  }, 90_000);

  it('answers numbered choices, suggests a command for a typo, and forgets the user after confirmation', async () => {
    const result = await runBot(['/backcare sttings', 'forget-me', '2', 'forget-me', '1', 'me', ''].join('\n'), {
      BACKCARE_DATA_DIR: data.dir,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("I don't know sttings. Did you mean /backcare settings?");
    expect(result.stdout).toContain('Nothing was deleted.');
    expect(result.stdout).toContain('Done: everything Backcare stored about you has been deleted.');
    expect(result.stdout).toContain('Backcare stores nothing about you yet.');
  }, 90_000);

  it('stops at start-up with one line naming a bad variable', async () => {
    const result = await runBot('help\n', { BACKCARE_DATA_DIR: data.dir, PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('config error: PORT must be a whole number from 1 to 65535');
    expect(result.stdout).toBe('');
  }, 60_000);
});
