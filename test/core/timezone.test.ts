import { describe, expect, it } from 'vitest';
import { canonicalTimezone, timezoneSchema } from '../../src/core/preferences.js';

describe('canonical timezones (remembered by what was typed)', () => {
  it('gives the same answer the first time and every time after, valid or not', () => {
    for (let round = 0; round < 3; round++) {
      expect(canonicalTimezone('europe/london')).toBe('Europe/London');
      expect(canonicalTimezone('Europe/Paris')).toBe('Europe/Paris');
      expect(canonicalTimezone('Mars/Olympus_Mons')).toBeNull();
      expect(canonicalTimezone('')).toBeNull();
    }
  });

  it('stays right past its bound: thousands of made-up names do not push out or change the real ones', () => {
    for (let i = 0; i < 5000; i++) expect(canonicalTimezone(`Nowhere/Place_${i}`)).toBeNull();
    expect(canonicalTimezone('america/new_york')).toBe('America/New_York');
    expect(timezoneSchema.safeParse('asia/tokyo')).toEqual({ success: true, data: 'Asia/Tokyo' });
    expect(timezoneSchema.safeParse('Nowhere/Place_1').success).toBe(false);
  });
});
