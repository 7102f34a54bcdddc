import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentError, defaultRoutinesDir, loadRoutines, parseRoutineFile } from '../../src/core/content/loader.js';
import { defaultTriageFile, parseTriageRules } from '../../src/core/features/triage/load.js';
import { buildContentCache, shippedContentFiles } from '../../src/core/content/write-content-cache.js';
import { shippedContentCache, sourceHash } from '../../src/core/content/yaml.js';
import { oneRoutineYaml } from '../support/routine-yaml.js';

const none = new Map<string, unknown>();
const cacheOf = (record: Record<string, unknown>) => new Map(Object.entries(record));

describe('content parsed at build time (dist/content-cache.json)', () => {
  const shipped = buildContentCache(shippedContentFiles());

  it('holds every shipped file, and loading through it gives exactly what parsing the YAML gives', () => {
    expect(Object.keys(shipped)).toHaveLength(shippedContentFiles().length);
    expect(loadRoutines(defaultRoutinesDir, process.cwd(), cacheOf(shipped))).toEqual(
      loadRoutines(defaultRoutinesDir, process.cwd(), none),
    );
    const triage = readFileSync(defaultTriageFile, 'utf8');
    expect(parseTriageRules(triage, 'content/triage.yaml', cacheOf(shipped))).toEqual(
      parseTriageRules(triage, 'content/triage.yaml', none),
    );
  });

  it('a file whose text matches an entry is read from the cache, not parsed again', () => {
    const source = oneRoutineYaml('sit-tall', 'As written');
    const [parsed] = parseRoutineFile('r.yaml', source, none);
    const cache = cacheOf({ [sourceHash(source)]: { routines: [{ ...parsed, title: 'From the cache' }] } });
    expect(parseRoutineFile('r.yaml', source, cache)[0]!.title).toBe('From the cache');
  });

  it('a file edited since the build misses the cache and is parsed', () => {
    const built = oneRoutineYaml('sit-tall', 'At build time');
    const cache = cacheOf(buildContentCacheOf(built));
    expect(parseRoutineFile('r.yaml', oneRoutineYaml('sit-tall', 'Edited since'), cache)[0]!.title).toBe(
      'Edited since',
    );
  });

  it('a cached value the schema refuses is never used: the YAML decides, with its line on an error', () => {
    const good = oneRoutineYaml('sit-tall', 'Good');
    expect(parseRoutineFile('r.yaml', good, cacheOf({ [sourceHash(good)]: { routines: [{ id: 1 }] } }))[0]!.title).toBe(
      'Good',
    );
    const bad = good.replace('minutes: 1', 'minutes: -1');
    const cache = cacheOf({ [sourceHash(bad)]: { routines: [{ id: 1 }] } });
    expect(() => parseRoutineFile('r.yaml', bad, cache)).toThrow(ContentError);
    expect(() => parseRoutineFile('r.yaml', bad, cache)).toThrow(
      /^content error in r\.yaml:7: routines\[0\]\.minutes: /,
    );
  });

  it('the shipped cache is read once and is empty when the file is missing or not JSON', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backcare-cache-'));
    writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    // shippedContentCache keeps the first one it read for the process: only its shape is checked here.
    const cache = shippedContentCache(path.join(dir, 'bad.json'));
    expect(cache).toBeInstanceOf(Map);
    expect(shippedContentCache(path.join(dir, 'missing.json'))).toBe(cache);
  });
});

function buildContentCacheOf(source: string): Record<string, unknown> {
  const dir = mkdtempSync(path.join(tmpdir(), 'backcare-cache-'));
  const file = path.join(dir, 'r.yaml');
  writeFileSync(file, source);
  return buildContentCache([file]);
}
