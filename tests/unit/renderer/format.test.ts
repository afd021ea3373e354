/**
 * The Runs screen's date filter takes local calendar days (as its times are
 * shown) and sends ISO instants. Hand values for Los Angeles in December
 * (PST, UTC−8) and Tokyo (UTC+9).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isoToLocalDay, localDayEndIso, localDayStartIso } from '../../../src/renderer/src/composables/format';

const tz = process.env.TZ;
afterEach(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe('local days of the date filter', () => {
  it('Los Angeles: a day runs from 08:00 UTC to 07:59:59.999 UTC the next day', () => {
    process.env.TZ = 'America/Los_Angeles';
    expect(localDayStartIso('2026-12-01')).toBe('2026-12-01T08:00:00.000Z');
    expect(localDayEndIso('2026-12-01')).toBe('2026-12-02T07:59:59.999Z');
    expect(isoToLocalDay('2026-12-01T08:00:00.000Z')).toBe('2026-12-01');
    expect(isoToLocalDay('2026-12-01T07:59:59.999Z')).toBe('2026-11-30');
  });

  it('Tokyo: a day starts at 15:00 UTC the day before', () => {
    process.env.TZ = 'Asia/Tokyo';
    expect(localDayStartIso('2026-12-01')).toBe('2026-11-30T15:00:00.000Z');
    expect(localDayEndIso('2026-12-31')).toBe('2026-12-31T14:59:59.999Z');
    expect(isoToLocalDay('2026-11-30T15:00:00.000Z')).toBe('2026-12-01');
  });

  it('an empty or malformed instant gives no day', () => {
    expect(isoToLocalDay(undefined)).toBe('');
    expect(isoToLocalDay('yesterday')).toBe('');
  });
});
