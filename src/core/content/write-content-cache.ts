/**
 * `npm run build`'s last step: every shipped content file parsed once, keyed by the SHA-256 of its text, into
 * dist/content-cache.json, so that a compiled bot starts without the YAML parser (see yaml.ts). Each file is
 * first loaded the ordinary way, so broken content fails the build with its file and line, as it fails a start.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../project-root.js';
import { defaultTriageFile, parseTriageRules } from '../features/triage/load.js';
import { defaultRoutinesDir, loadRoutines } from './loader.js';
import { contentCacheFile, sourceHash, yaml } from './yaml.js';

export function buildContentCache(files: readonly string[]): Record<string, unknown> {
  const cache: Record<string, unknown> = {};
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    cache[sourceHash(source)] = yaml().parse(source, { uniqueKeys: true }) as unknown;
  }
  return cache;
}

export function shippedContentFiles(): string[] {
  const routines = readdirSync(defaultRoutinesDir)
    .filter((n) => /\.(ya?ml|json)$/i.test(n))
    .map((n) => path.join(defaultRoutinesDir, n));
  return [...routines, defaultTriageFile];
}

function main(): void {
  const none = new Map<string, unknown>();
  loadRoutines(defaultRoutinesDir, projectRoot, none);
  parseTriageRules(readFileSync(defaultTriageFile, 'utf8'), path.relative(projectRoot, defaultTriageFile), none);
  const files = shippedContentFiles();
  writeFileSync(contentCacheFile, JSON.stringify(buildContentCache(files)));
  process.stdout.write(`content cache: ${files.length} files → ${path.relative(projectRoot, contentCacheFile)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
