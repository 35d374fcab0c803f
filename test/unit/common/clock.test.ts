import { SystemClock } from '../../../common/clock';

describe('SystemClock', () => {
  it('holds timeouts longer than Node timers can (no 1 ms timer storm)', async () => {
    const clock = new SystemClock();
    let fired = 0;
    const far = clock.setTimeout(() => fired++, 365 * 86400 * 1000);
    const farInterval = clock.setInterval(() => fired++, 365 * 86400 * 1000);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(0);
    clock.clear(far);
    clock.clear(farInterval);
  });

  it('fires ordinary timeouts and intervals, and clear stops them', async () => {
    const clock = new SystemClock();
    const seen: string[] = [];
    clock.setTimeout(() => seen.push('t'), 1);
    const iv = clock.setInterval(() => seen.push('i'), 1);
    // Waits for the firings rather than a fixed time: a descheduled process wakes up to one
    // overdue interval firing, not to every period it slept through.
    for (let i = 0; i < 5_000 && !(seen.includes('t') && seen.filter((s) => s === 'i').length >= 3); i++) await new Promise((r) => setTimeout(r, 1));
    expect(seen).toContain('t');
    expect(seen.filter((s) => s === 'i').length).toBeGreaterThanOrEqual(3);
    clock.clear(iv);
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBe(n);
  });
});
