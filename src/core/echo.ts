/**
 * Showing back what a person typed. Terminal escapes (ESC [31m …), other control characters and invisible
 * direction overrides must never reach a screen from someone's input, whatever the platform.
 */
// eslint-disable-next-line no-control-regex -- control characters are what an echo must drop
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** The text without control or invisible formatting characters (line breaks and tabs become spaces). */
export function stripControl(value: string): string {
  return value.replace(/[\t\n\r]+/g, ' ').replace(CONTROL, '');
}

/** Longest piece of someone's input echoed back in a message. */
const MAX_ECHO = 60;

/**
 * Typed text as a code span in the core's light markup: cleaned, cut to a sensible length, and literal on every
 * platform (Discord and Slack apply no formatting or mentions inside code; the Slack renderer still escapes &, <, >).
 */
export function echo(value: string, max = MAX_ECHO): string {
  const clean = stripControl(value).replace(/`/g, "'").trim();
  const cut = clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
  return `\`${cut || ' '}\``;
}
