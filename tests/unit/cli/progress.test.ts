import { describe, expect, it } from 'vitest';
import { etaSeconds, formatDuration } from '../../../src/cli/progress.js';

describe('CLI progress', () => {
  it('estimates the time left at a constant rate once 2 % is done', () => {
    expect(etaSeconds(60, 0.25)).toBe(180); // a quarter in a minute: three more
    expect(etaSeconds(10, 0.5)).toBe(10);
    expect(etaSeconds(5, 0.01)).toBeNaN();
    expect(etaSeconds(300, 1)).toBe(0);
  });
  it('formats durations as s, m+s or h+m', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(4834)).toBe('1h20m');
    expect(formatDuration(NaN)).toBe('?');
  });
});
