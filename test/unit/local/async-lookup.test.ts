import { completeTopology } from '../../../local/testing';
import { Tally, buildAsyncLookup, simulatedScore } from '../../../examples/async-lookup/topology';

describe('the async-lookup example', () => {
  it('scores every word with an async lookup, anchored and acked when it settles (completeTopology)', async () => {
    const input = ['a b c a', 'b a', 'sun'];
    const result = await completeTopology(buildAsyncLookup({ tally: () => new Tally(() => undefined) }), {
      mockedSources: { sentences: input.map((s) => [s]) },
    });
    const words = input.flatMap((s) => s.split(' '));
    const byWord = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect([...result.readTuples('score')].sort(byWord)).toEqual(words.map((w) => [w, simulatedScore(w)]).sort(byWord));
    expect(result.info.spouts[0]).toMatchObject({ acked: 3, failed: 0 });
    expect(result.info.bolts.find((b) => b.componentId === 'score')).toMatchObject({ executed: words.length, acked: words.length, failed: 0, inflight: 0, asyncTimedOut: 0 });
  });
});
