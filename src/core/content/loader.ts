import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../project-root.js';
import type { Node } from 'yaml';
import type { z } from 'zod';
import { RoutineLibrary } from './library.js';
import { builtinRoutineFileSchema, type Routine } from './schema.js';
import { shippedContentCache, sourceHash, yaml, type ContentCache } from './yaml.js';

export const defaultRoutinesDir = path.join(projectRoot, 'content/routines');

/** A content file that cannot be used: which file, where inside it, and what is wrong. Start-up stops on it. */
export class ContentError extends Error {
  override name = 'ContentError';
  constructor(
    readonly file: string,
    /** Path inside the file, e.g. `routines[2].steps[0].text`; empty for the whole file. */
    readonly where: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(`content error in ${file}${line ? `:${line}` : ''}: ${where ? `${where}: ` : ''}${problem}`);
  }
}

export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** The deepest YAML node that exists along a path, so a missing key still points at its parent's line. */
function nodeAt(root: unknown, segments: readonly PropertyKey[]): Node | undefined {
  const { isMap, isSeq } = yaml();
  let current = root as Node | undefined;
  for (const segment of segments) {
    if (isMap(current)) {
      const next = current.get(String(segment), true) as Node | undefined;
      if (!next) return current;
      current = next;
    } else if (isSeq(current) && typeof segment === 'number') {
      const next = current.get(segment, true) as Node | undefined;
      if (!next) return current;
      current = next;
    } else {
      return current;
    }
  }
  return current;
}

/**
 * Parses and validates one routine file's text; `file` is only used in error messages. Text unchanged since the
 * build comes parsed from `cache` and is validated all the same; anything else (or a cached value the schema now
 * refuses) goes through the YAML parser, which also gives the line of an error.
 */
export function parseRoutineFile(file: string, source: string, cache: ContentCache = shippedContentCache()): Routine[] {
  const cached = cache.get(sourceHash(source));
  if (cached !== undefined) {
    const parsed = builtinRoutineFileSchema.safeParse(cached);
    if (parsed.success) return parsed.data.routines;
  }
  const isJson = file.endsWith('.json');
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const at = firstError.linePos?.[0]?.line;
    throw new ContentError(file, '', `not valid ${isJson ? 'JSON' : 'YAML'}: ${firstError.message.split('\n')[0]}`, at);
  }
  const parsed = builtinRoutineFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue: z.core.$ZodIssue = parsed.error.issues[0]!;
    const node = nodeAt(doc.contents, issue.path);
    const line = node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    throw new ContentError(file, formatPath(issue.path), issue.message, line);
  }
  return parsed.data.routines;
}

/** Reads every routine file in a folder (sorted, so errors and order are stable) and checks ids are unique across them. */
export function loadRoutines(
  dir: string = defaultRoutinesDir,
  displayRoot: string = process.cwd(),
  cache: ContentCache = shippedContentCache(),
): Routine[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.(ya?ml|json)$/i.test(n))
      .sort();
  } catch (error) {
    throw new ContentError(
      path.relative(displayRoot, dir) || dir,
      '',
      `cannot read the routines folder (${(error as Error).message})`,
    );
  }
  if (names.length === 0)
    throw new ContentError(
      path.relative(displayRoot, dir) || dir,
      '',
      'no routine files (*.yaml, *.yml, *.json) found',
    );
  const seen = new Map<string, string>();
  const routines: Routine[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    const display = path.relative(displayRoot, full) || full;
    const fileRoutines = parseRoutineFile(display, readFileSync(full, 'utf8'), cache);
    fileRoutines.forEach((routine, index) => {
      const first = seen.get(routine.id);
      if (first)
        throw new ContentError(display, `routines[${index}].id`, `"${routine.id}" is already used in ${first}`);
      seen.set(routine.id, display);
      routines.push(routine);
    });
  }
  return routines;
}

export function loadRoutineLibrary(dir: string = defaultRoutinesDir): RoutineLibrary {
  return new RoutineLibrary(loadRoutines(dir));
}
