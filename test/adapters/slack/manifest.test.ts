import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { botScopes } from '../../../adapters/slack/adapter.js';
import { buildManifest, main } from '../../../adapters/slack/manifest.js';
import { repoRoot, run } from '../../support/spawn.js';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

interface Manifest {
  features: {
    app_home: Record<string, boolean>;
    slash_commands: { command: string; url?: string; should_escape: boolean }[];
  };
  oauth_config: { redirect_urls?: string[]; scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url?: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url?: string; message_menu_options_url?: string };
    socket_mode_enabled: boolean;
  };
}

describe('Slack app manifest', () => {
  it('fills every request URL from --url and asks for exactly the scopes the OAuth flow requests', () => {
    const text = buildManifest({ mode: 'http', baseUrl: 'https://backcare.example.org' });
    expect(text).not.toContain('YOUR-PUBLIC-URL');
    const m = parse(text) as Manifest;
    expect(m.features.slash_commands).toEqual([
      expect.objectContaining({
        command: '/backcare',
        url: 'https://backcare.example.org/slack/events',
        should_escape: true,
      }),
    ]);
    expect(m.settings.event_subscriptions.request_url).toBe('https://backcare.example.org/slack/events');
    expect(m.settings.interactivity).toEqual({
      is_enabled: true,
      request_url: 'https://backcare.example.org/slack/events',
      message_menu_options_url: 'https://backcare.example.org/slack/events',
    });
    expect(m.oauth_config.redirect_urls).toEqual(['https://backcare.example.org/slack/oauth_redirect']);
    expect([...m.oauth_config.scopes.bot].sort()).toEqual([...botScopes].sort());
    expect(m.settings.event_subscriptions.bot_events.sort()).toEqual([
      'app_home_opened',
      'app_uninstalled',
      'message.im',
      'tokens_revoked',
    ]);
    expect(m.features.app_home).toMatchObject({
      home_tab_enabled: true,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: false,
    });
    expect(m.settings.socket_mode_enabled).toBe(false);
  });

  it('--socket turns Socket Mode on and drops the request URLs', () => {
    const m = parse(buildManifest({ mode: 'socket' })) as Manifest;
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.settings.event_subscriptions.request_url).toBeUndefined();
    expect(m.settings.interactivity.request_url).toBeUndefined();
    expect(m.features.slash_commands[0]?.url).toBeUndefined();
    expect(m.oauth_config.redirect_urls).toBeUndefined();
    expect(JSON.stringify(m)).not.toContain('YOUR-PUBLIC-URL');
  });

  it('the command line: exit 0 with the manifest on stdout; exit 2 with one line on stderr for bad input', () => {
    const ok = { out: capture(), err: capture() };
    expect(main(['--url', 'https://example.org/'], { stdout: ok.out.stream, stderr: ok.err.stream })).toBe(0);
    expect(ok.out.text()).toContain('url: https://example.org/slack/events');
    expect(ok.err.text()).toBe('');

    for (const args of [['--url', 'http://example.org'], ['--url', 'not a url'], [], ['--nope']]) {
      const bad = { out: capture(), err: capture() };
      expect(main(args, { stdout: bad.out.stream, stderr: bad.err.stream })).toBe(2);
      expect(bad.out.text()).toBe('');
      expect(bad.err.text().trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('slack:manifest --out', () => {
  it('npm run slack:manifest -- --socket --out FILE writes a file that parses as the manifest (no npm banner in it)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backcare-manifest-'));
    try {
      const file = path.join(dir, 'slack-manifest.yaml');
      const result = await run('npm', ['run', 'slack:manifest', '--', '--socket', '--out', file]);
      expect(result.code).toBe(0);
      const m = parse(readFileSync(file, 'utf8')) as Manifest;
      expect(m.settings.socket_mode_enabled).toBe(true);
      expect(m.features.slash_commands[0]?.command).toBe('/backcare');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a file that cannot be written: exit 1 and one line naming it', () => {
    const bad = { out: capture(), err: capture() };
    expect(
      main(['--socket', '--out', '/nonexistent-dir/x/manifest.yaml'], {
        stdout: bad.out.stream,
        stderr: bad.err.stream,
      }),
    ).toBe(1);
    expect(bad.err.text()).toContain('/nonexistent-dir/x/manifest.yaml');
    expect(bad.err.text().trim().split('\n')).toHaveLength(1);
  });

  it('every README and docs command that redirects npm run output uses --silent or --out', () => {
    const files = ['README.md', ...readdirSync(path.join(repoRoot, 'docs')).map((f) => path.join('docs', f))].filter(
      (f) => f.endsWith('.md'),
    );
    const offenders: string[] = [];
    for (const file of files) {
      for (const line of readFileSync(path.join(repoRoot, file), 'utf8').split('\n')) {
        for (const command of line.match(/npm run [^`]*/g) ?? []) {
          if (/\s>{1,2}\s/.test(command) && !/npm run (--silent|-s)\b/.test(command))
            offenders.push(`${file}: ${command}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
