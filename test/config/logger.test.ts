import { describe, expect, it } from 'vitest';
import { maskSecrets } from '../../src/config/logger.js';
import { captureLogger } from '../support/log.js';

const botToken = 'xoxb-test-not-a-real-token-for-redaction';
const appToken = 'xapp-test-not-a-real-app-token';
const discordToken = 'MTEx' + 'A'.repeat(20) + '.GaBcDe.' + 'x'.repeat(27);

describe('log redaction', () => {
  it('censors tokens, secrets and Authorization headers wherever they sit in a log object', () => {
    const { log, raw, lines } = captureLogger();
    log.info(
      { token: botToken, config: { SLACK_SIGNING_SECRET: 'signing-secret-value', DISCORD_TOKEN: discordToken } },
      'config',
    );
    log.info(
      { req: { headers: { authorization: `Bearer ${botToken}`, 'x-slack-signature': 'v0=abc123' } } },
      'request',
    );
    log.info({ installation: { bot: { token: botToken }, appToken } }, 'install');
    const output = raw();
    for (const secret of [botToken, appToken, discordToken, 'signing-secret-value', 'v0=abc123']) {
      expect(output).not.toContain(secret);
    }
    expect(lines()[0]).toMatchObject({
      token: '[redacted]',
      config: { SLACK_SIGNING_SECRET: '[redacted]', DISCORD_TOKEN: '[redacted]' },
    });
    expect(lines()[1]).toMatchObject({
      req: { headers: { authorization: '[redacted]', 'x-slack-signature': '[redacted]' } },
    });
  });

  it('masks tokens and connection-string passwords inside free text and error messages', () => {
    const { log, raw, lines } = captureLogger();
    log.error({ err: new Error(`An API error occurred: invalid_auth for ${botToken}`) }, 'failed');
    log.warn(`could not connect to postgres://backcare:sup3r-secret@db:5432/backcare`);
    const output = raw();
    expect(output).not.toContain(botToken);
    expect(output).not.toContain('sup3r-secret');
    expect(lines()[0]).toMatchObject({
      err: { type: 'Error', message: 'An API error occurred: invalid_auth for [redacted]' },
    });
    expect(output).toContain('invalid_auth');
    expect(output).toContain('postgres://backcare:[redacted]@db:5432/backcare');
  });

  it("censors a Discord interaction token: stored with a live session's state, or inside a webhook URL", () => {
    const { log, raw, lines } = captureLogger();
    const interactionToken = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnRlc3Qtbm90LXJlYWw';
    const state = { message: { webhook: { applicationId: '111111111111111111', interactionToken } } };
    log.warn({ interactionToken, state, session: { state } }, 'session');
    log.error(
      {
        err: new Error(
          `PATCH https://discord.com/api/v10/webhooks/111111111111111111/${interactionToken}/messages/@original`,
        ),
      },
      'edit failed',
    );
    expect(raw()).not.toContain(interactionToken);
    expect(lines()[0]).toMatchObject({
      interactionToken: '[redacted]',
      state: { message: { webhook: { applicationId: '111111111111111111', interactionToken: '[redacted]' } } },
    });
    expect(raw()).toContain('/webhooks/111111111111111111/[redacted]/messages/@original');
  });

  it('maskSecrets leaves ordinary text alone', () => {
    expect(maskSecrets('breathe in for 4, hold for 7')).toBe('breathe in for 4, hold for 7');
  });
});
