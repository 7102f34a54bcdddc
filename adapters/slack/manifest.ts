/**
 * `npm run slack:manifest -- --url https://your-host` prints the app manifest with every request URL filled
 * in; `--socket` prints the Socket Mode variant (no public URL). `--out FILE` writes the file itself, because
 * `npm run … > file` also captures npm's own banner and leaves invalid YAML. Exit 0 on success, 1 when the file
 * cannot be written, 2 on invalid input (one line on stderr, nothing on stdout).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../../src/project-root.js';
import { parseArgs } from 'node:util';
import { parseDocument, type Document } from 'yaml';
import { z } from 'zod';

export const MANIFEST_PATH = path.join(projectRoot, 'adapters/slack/manifest.yaml');
const PLACEHOLDER = 'https://YOUR-PUBLIC-URL';

const baseUrlSchema = z
  .url({ protocol: /^https$/, error: 'must be an https:// URL (Slack only calls https)' })
  .transform((u) => u.replace(/\/+$/, ''))
  .refine((u) => !new URL(u).search && !new URL(u).hash, 'must not have a query or fragment');

export type ManifestOptions = { mode: 'http'; baseUrl: string } | { mode: 'socket'; baseUrl?: string | undefined };

/** The manifest as YAML text for this deployment. */
export function buildManifest(options: ManifestOptions, source = readFileSync(MANIFEST_PATH, 'utf8')): string {
  const doc: Document = parseDocument(source);
  if (options.mode === 'socket') {
    // Socket Mode delivers commands, actions and events over the websocket: Slack wants no request URLs.
    doc.setIn(['settings', 'socket_mode_enabled'], true);
    doc.deleteIn(['settings', 'event_subscriptions', 'request_url']);
    doc.deleteIn(['settings', 'interactivity', 'request_url']);
    doc.deleteIn(['settings', 'interactivity', 'message_menu_options_url']);
    doc.deleteIn(['features', 'slash_commands', 0, 'url']);
    if (!options.baseUrl) doc.deleteIn(['oauth_config', 'redirect_urls']);
  }
  const text = doc.toString({ lineWidth: 0 });
  return options.baseUrl ? text.split(PLACEHOLDER).join(options.baseUrl) : text;
}

export function main(
  argv: string[],
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; cwd?: string },
): number {
  let values: { url?: string | undefined; socket?: boolean | undefined; out?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { url: { type: 'string' }, socket: { type: 'boolean' }, out: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    out.stderr.write(`slack:manifest: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (!values.url && !values.socket) {
    out.stderr.write('slack:manifest: give --url https://your-public-host (HTTP mode) or --socket (Socket Mode)\n');
    return 2;
  }
  let baseUrl: string | undefined;
  if (values.url !== undefined) {
    const parsed = baseUrlSchema.safeParse(values.url);
    if (!parsed.success) {
      out.stderr.write(`slack:manifest: --url ${parsed.error.issues[0]?.message ?? 'is not valid'}\n`);
      return 2;
    }
    baseUrl = parsed.data;
  }
  const manifest = buildManifest(values.socket ? { mode: 'socket', baseUrl } : { mode: 'http', baseUrl: baseUrl! });
  if (values.out === undefined) {
    out.stdout.write(manifest);
    return 0;
  }
  if (values.out.trim() === '') {
    out.stderr.write('slack:manifest: --out needs a file name, e.g. --out slack-manifest.yaml\n');
    return 2;
  }
  try {
    writeFileSync(path.resolve(out.cwd ?? process.cwd(), values.out), manifest);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unknown error';
    out.stderr.write(`slack:manifest: cannot write ${values.out} (${reason})\n`);
    return 1;
  }
  out.stdout.write(`Wrote the Slack app manifest to ${values.out}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // npm runs scripts from the package root; INIT_CWD is where the person typed the command.
  process.exitCode = main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.env.INIT_CWD ?? process.cwd(),
  });
}
