import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Core } from '../../../src/core/router.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import { DM_CHANNEL, slashCommand } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'backcare-slack-files-'));
const chart = path.join(dir, 'team-chart.png');
writeFileSync(chart, Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'));

/** A core that answers `chart` with a reply carrying a local chart file, as the stats view does. */
const withChart = (core: Core): Core => ({
  commands: core.commands,
  deps: core.deps,
  async handle(request) {
    if (request.input.kind === 'command' && request.input.text === 'chart') {
      return {
        summary: 'Team participation',
        visibility: 'ephemeral',
        actions: [],
        blocks: [
          { type: 'text', text: 'Team participation' },
          { type: 'image', alt: 'Bar chart of weekly sessions', path: chart },
        ],
      };
    }
    return core.handle(request);
  },
});

describeEachDatabase('Slack files', (database) => {
  const h = useSlackHarness(database, {}, withChart);

  it('a reply with a local chart goes to the DM and the file is uploaded there (files.uploadV2)', async () => {
    h().answer.set('files.getUploadURLExternal', () => ({
      body: { ok: true, upload_url: 'https://files.slack.com/upload/v1/test-upload', file_id: 'F0TESTFILE' },
    }));
    h().answer.set('files.completeUploadExternal', () => ({
      body: { ok: true, files: [{ id: 'F0TESTFILE', title: 'team-chart.png' }] },
    }));
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('chart'));
    await h().adapter.idle();
    const [post] = h().api.of('chat.postMessage');
    expect(post?.args.channel).toBe(DM_CHANNEL);
    expect(JSON.stringify(post?.args.blocks)).toContain(':bar_chart: Bar chart of weekly sessions');
    expect(h().api.of('files.getUploadURLExternal')[0]?.args).toMatchObject({ filename: 'team-chart.png' });
    expect(h().api.uploads).toHaveLength(1);
    expect(h().api.of('files.completeUploadExternal')[0]?.args).toMatchObject({
      channel_id: DM_CHANNEL,
      initial_comment: 'Bar chart of weekly sessions',
    });
  });
});
