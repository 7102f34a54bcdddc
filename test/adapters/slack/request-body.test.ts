import { describe, expect, it } from 'vitest';
import { parseRequestBody } from '../../../adapters/slack/parse.js';
import { interactive, slashCommand, viewSubmission } from '../../support/slack/payloads.js';

describe('Slack request bodies', () => {
  it('a slash command: form fields decoded (+ is a space, %xx escapes), a repeated field keeps its last value', () => {
    const body = parseRequestBody(
      `${slashCommand('breathe box 2')}&text=${encodeURIComponent('stretch "neck & back"')}`,
      undefined,
    );
    expect(body?.command).toBe('/backcare');
    expect(body?.text).toBe('stretch "neck & back"');
    expect(parseRequestBody('command=%2Fbackcare&text=breathe+box+2', undefined)).toEqual({
      command: '/backcare',
      text: 'breathe box 2',
    });
  });

  it('an interaction: the JSON in its payload field, text with escapes intact', () => {
    const submission = viewSubmission('settings', {
      channelId: { type: 'plain_text_input', value: 'café + 100% <#C123|team> & co' },
    });
    const body = parseRequestBody(interactive(submission), 'application/x-www-form-urlencoded');
    expect(body).toEqual(submission);
  });

  it('JSON bodies (Events API) as they are; anything that is not an object is refused', () => {
    expect(parseRequestBody('{"type":"url_verification","challenge":"c"}', 'application/json')).toEqual({
      type: 'url_verification',
      challenge: 'c',
    });
    expect(parseRequestBody('[1,2]', 'application/json')).toBeNull();
    expect(parseRequestBody('payload=%7Bbroken', undefined)).toBeNull();
    expect(parseRequestBody('payload=%5B1%5D', undefined)).toBeNull();
  });
});
