import { WatermarkTracker } from '../../../worker/windowing/watermarks';

describe('WatermarkTracker', () => {
  it('is the minimum over inputs of their newest event time, minus the lag, and never goes back', () => {
    const w = new WatermarkTracker([3, 4], 100, Infinity);
    expect(w.onData(3, 1000)).toBe(false); // input 4 has sent nothing yet
    expect(w.watermark).toBe(-Infinity);
    expect(w.onData(4, 500)).toBe(true);
    expect(w.watermark).toBe(400);
    expect(w.onData(3, 900)).toBe(false); // older than what 3 sent: no change
    expect(w.onData(4, 2000)).toBe(true);
    expect(w.watermark).toBe(900); // min(1000, 2000) - 100
    expect(w.onData(9, 5000)).toBe(false); // not an input
  });

  it('counts an input as idle after enough quiet markers, and again as soon as it sends data', () => {
    const w = new WatermarkTracker([1, 2], 0, 2);
    w.onData(1, 1000);
    w.onData(2, 100);
    expect(w.watermark).toBe(100);
    // markers: 1 keeps sending data, 2 is quiet
    expect(w.onMarker(2)).toBe(false); // it sent data since the last marker
    w.onData(1, 2000);
    expect(w.onMarker(1)).toBe(false);
    expect(w.onMarker(2)).toBe(false); // quiet 1
    w.onData(1, 3000);
    expect(w.onMarker(1)).toBe(false);
    expect(w.onMarker(2)).toBe(true); // quiet 2: idle
    expect(w.isIdle(2)).toBe(true);
    expect(w.watermark).toBe(3000);
    expect(w.onData(2, 200)).toBe(false); // back, far behind: counts again, the watermark holds
    expect(w.isIdle(2)).toBe(false);
    expect(w.watermark).toBe(3000);
    w.onData(1, 4000);
    expect(w.watermark).toBe(3000); // held back by 2 again
    expect(w.onData(2, 3500)).toBe(true);
    expect(w.watermark).toBe(3500);
  });

  it('moves up to the newest event time when every input is idle; a stalled input (no markers) never goes idle', () => {
    const w = new WatermarkTracker([1, 2], 0, 1);
    w.onData(1, 1000);
    w.onData(2, 500);
    w.onMarker(1);
    w.onMarker(2);
    expect(w.onMarker(1)).toBe(false); // 1 is idle, and 2 (at 500) holds the watermark where it is
    expect(w.watermark).toBe(500);
    expect(w.onMarker(2)).toBe(true); // both idle: nothing in flight, up to the newest time seen
    expect(w.watermark).toBe(1000);
    const s = new WatermarkTracker([1, 2], 0, 1);
    s.onData(1, 1000);
    s.onData(2, 500);
    for (let i = 0; i < 10; i++) s.onMarker(1); // 2's link is stalled: no markers from it
    expect(s.watermark).toBe(500);
  });
});
