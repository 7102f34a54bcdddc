import { describe, expect, it } from 'vitest';
import { cacheInstallationRecords } from '../../../adapters/slack/installation-cache.js';
import type { InstallationRecord, InstallationRecords } from '../../../src/core/ports.js';

/** Installation records in a Map that count their database reads. */
function countingRecords() {
  const rows = new Map<string, Record<string, unknown>>();
  const reads: string[] = [];
  const records: InstallationRecords = {
    async save(record: InstallationRecord) {
      rows.set(record.installKey, record.installation);
    },
    async load(key) {
      reads.push(key);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return rows.get(key) ?? null;
    },
    async remove(key) {
      rows.delete(key);
    },
    async recent(limit) {
      return [...rows].slice(-limit).map(([installKey, installation]) => ({
        installKey,
        teamId: installKey.slice(2),
        enterpriseId: null,
        isEnterpriseInstall: false,
        installation,
      }));
    },
  };
  return { rows, reads, records };
}

const record = (team: string, token = `xoxb-${team}`): InstallationRecord => ({
  installKey: `T:${team}`,
  teamId: team,
  enterpriseId: null,
  isEnterpriseInstall: false,
  installation: { team: { id: team }, bot: { token } },
});

describe('installation cache', () => {
  it('a second request for the same workspace does not read the database; concurrent misses share one read', async () => {
    const { rows, reads, records } = countingRecords();
    rows.set('T:T1', record('T1').installation);
    const cached = cacheInstallationRecords(records);
    const first = await Promise.all([cached.load('T:T1'), cached.load('T:T1'), cached.load('T:T1')]);
    expect(first.every((found) => found === first[0])).toBe(true);
    expect(await cached.load('T:T1')).toMatchObject({ bot: { token: 'xoxb-T1' } });
    expect(reads).toEqual(['T:T1']);
  });

  it('an install is cached at once, so the first request after it reads nothing; a reinstall replaces it', async () => {
    const { reads, records } = countingRecords();
    const cached = cacheInstallationRecords(records);
    await cached.save(record('T1'));
    expect(await cached.load('T:T1')).toMatchObject({ bot: { token: 'xoxb-T1' } });
    await cached.save(record('T1', 'xoxb-new'));
    expect(await cached.load('T:T1')).toMatchObject({ bot: { token: 'xoxb-new' } });
    expect(reads).toEqual([]);
  });

  it('removal (uninstall, tokens revoked) drops the cached installation: the next request is refused', async () => {
    const { reads, records } = countingRecords();
    const cached = cacheInstallationRecords(records);
    await cached.save(record('T1'));
    await cached.load('T:T1');
    await cached.remove('T:T1');
    expect(await cached.load('T:T1')).toBeNull();
    expect(reads).toEqual(['T:T1']);
  });

  it('a read in flight during a removal does not put the removed installation back', async () => {
    const { rows, records } = countingRecords();
    rows.set('T:T1', record('T1').installation);
    const cached = cacheInstallationRecords(records);
    const inFlight = cached.load('T:T1');
    await cached.remove('T:T1');
    await inFlight;
    expect(await cached.load('T:T1')).toBeNull();
  });

  it('a workspace without an installation is read again each time (an install elsewhere works at once)', async () => {
    const { rows, reads, records } = countingRecords();
    const cached = cacheInstallationRecords(records);
    expect(await cached.load('T:T1')).toBeNull();
    rows.set('T:T1', record('T1').installation);
    expect(await cached.load('T:T1')).toMatchObject({ team: { id: 'T1' } });
    expect(reads).toEqual(['T:T1', 'T:T1']);
  });

  it('is bounded: the least recently used installation is dropped first', async () => {
    const { rows, reads, records } = countingRecords();
    for (const team of ['T1', 'T2', 'T3']) rows.set(`T:${team}`, record(team).installation);
    const cached = cacheInstallationRecords(records, { maxEntries: 2 });
    await cached.load('T:T1');
    await cached.load('T:T2');
    await cached.load('T:T1');
    await cached.load('T:T3');
    reads.length = 0;
    await cached.load('T:T1');
    await cached.load('T:T3');
    expect(reads).toEqual([]);
    await cached.load('T:T2');
    expect(reads).toEqual(['T:T2']);
  });

  it('trusts a cached installation only for its TTL', async () => {
    const { rows, reads, records } = countingRecords();
    rows.set('T:T1', record('T1').installation);
    let clock = 0;
    const cached = cacheInstallationRecords(records, { ttlMs: 1000, now: () => clock });
    await cached.load('T:T1');
    clock = 999;
    await cached.load('T:T1');
    expect(reads).toHaveLength(1);
    rows.delete('T:T1');
    clock = 1000;
    expect(await cached.load('T:T1')).toBeNull();
    expect(reads).toHaveLength(2);
  });

  it('warmed at start, the first request of every workspace it holds reads nothing; bounded like the rest', async () => {
    const { rows, reads, records } = countingRecords();
    for (const team of ['T1', 'T2', 'T3']) rows.set(`T:${team}`, record(team).installation);
    const cached = cacheInstallationRecords(records, { maxEntries: 2 });
    expect(await cached.warm()).toBe(2);
    // The two most recent are held; the oldest is read when asked for.
    expect(await cached.load('T:T3')).toMatchObject({ bot: { token: 'xoxb-T3' } });
    expect(await cached.load('T:T2')).toMatchObject({ bot: { token: 'xoxb-T2' } });
    expect(reads).toEqual([]);
    expect(await cached.load('T:T1')).toMatchObject({ bot: { token: 'xoxb-T1' } });
    expect(reads).toEqual(['T:T1']);
  });
});
