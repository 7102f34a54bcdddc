import { describe, expect, it } from 'vitest';
import { renderReply } from '../../adapters/console/render.js';
import { renderEmbed } from '../../adapters/discord/render.js';
import { escapeMrkdwn, renderMessage } from '../../adapters/slack/render.js';
import { echo, stripControl } from '../../src/core/echo.js';
import { replyText, text } from '../../src/core/reply.js';
import type { Db } from '../../src/db/client.js';
import { ask, buildTestCore } from '../support/core.js';
import { typeIntoConsole } from '../adapters/console/console-core.js';

// Argument errors are answered while routing, before any database work.
const core = buildTestCore({} as Db);
const escape = '\x1b[31mneck\x1b[0m';
// eslint-disable-next-line no-control-regex -- looks for any control character left in an echo
const anyControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe('echoing what a person typed', () => {
  it('strips control characters and invisible direction overrides, cuts long input, and makes it a literal code span', () => {
    expect(stripControl(`a\x1b[2Jb\u202Ec\x07d\u0085e`)).toBe('a[2Jbcde');
    expect(echo(escape)).toBe('`[31mneck[0m`');
    expect(echo('a`b')).toBe("`a'b`");
    expect(echo('x'.repeat(500))).toBe(`\`${'x'.repeat(59)}…\``);
  });

  it('the core never sends a typed escape sequence back (area, pattern, command, routine id, timezone)', async () => {
    for (const typed of [
      `stretch ${escape}`,
      `breathe ${escape}`,
      `${escape}`,
      `routine ${escape}`,
      `relax ${escape}`,
    ]) {
      const answer = await ask(core, typed);
      expect(replyText(answer)).not.toMatch(anyControl);
      expect(answer.summary).not.toMatch(anyControl);
    }
    expect(replyText(await ask(core, `stretch ${escape}`))).toContain("I don't know the area `[31mneck[0m`");
  });

  it('console: nothing typed comes back as a terminal escape', async () => {
    const out = await typeIntoConsole({} as Db, [`stretch ${escape}`, `\x1b]0;title\x07nope`]);
    expect(out).not.toMatch(anyControl);
    expect(out).toContain("I don't know the area [31mneck[0m");
    // And a core reply that somehow carried one is cleaned by the renderer too.
    expect(
      renderReply({ summary: '', blocks: [text(`x${escape}`)], actions: [], visibility: 'ephemeral' }, { ansi: true })
        .text,
    ).not.toContain('\x1b[31m');
  });

  it("Slack: echoed <, > and & are escaped once; the app's own mentions stay live; entities Slack escaped are not doubled", async () => {
    const answer = await ask(core, 'stretch <b>&<!channel>');
    const rendered = JSON.stringify(renderMessage(answer).blocks);
    expect(rendered).toContain('`&lt;b&gt;&amp;&lt;!channel&gt;`');
    expect(rendered).not.toMatch(/<b>|<!channel>/);
    expect(escapeMrkdwn('<@U123ABC> and <#C0123ABC|team> & <#C0123ABC>')).toBe(
      '<@U123ABC> and <#C0123ABC|team> &amp; <#C0123ABC>',
    );
    expect(escapeMrkdwn('you typed &lt;b&gt; &amp; more')).toBe('you typed &lt;b&gt; &amp; more');
  });

  it('Discord: echoed markdown and mentions stay literal inside a code span', async () => {
    const answer = await ask(core, 'stretch **@everyone** `x`');
    const description = renderEmbed(answer.blocks).embed?.description ?? '';
    expect(description).toContain("I don't know the area `**@everyone** 'x'`");
    expect(description).not.toMatch(anyControl);
  });
});
