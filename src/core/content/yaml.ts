import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Yaml from 'yaml';
import { projectRoot } from '../../project-root.js';

/**
 * The `yaml` parser, loaded on first use. Start-up reads the shipped content from the build's cache (below), so a
 * compiled bot whose content is unchanged since `npm run build` never loads the parser (about 30 ms) nor parses
 * 50 KB of YAML (about 85 ms, the largest single cost of a start).
 */
let parser: typeof Yaml | undefined;
export function yaml(): typeof Yaml {
  parser ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return parser;
}

/** Parsed content by the SHA-256 of its source text: what `npm run build` writes (see write-content-cache.ts). */
export type ContentCache = ReadonlyMap<string, unknown>;

export const contentCacheFile = path.join(projectRoot, 'dist', 'content-cache.json');

export const sourceHash = (source: string): string => createHash('sha256').update(source).digest('hex');

let shipped: ContentCache | undefined;

/**
 * The build's cache, read once; empty when there is none (`npm start` through tsx) or it cannot be read. Keyed by
 * the text's hash, so a file edited since the build simply misses and is parsed; and what a hit returns is still
 * validated by the same schema as parsed YAML, so the cache is never trusted more than the file itself.
 */
export function shippedContentCache(file = contentCacheFile): ContentCache {
  if (shipped) return shipped;
  try {
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    shipped = new Map(typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.entries(raw) : []);
  } catch {
    shipped = new Map();
  }
  return shipped;
}
