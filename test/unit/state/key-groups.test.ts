import { Random } from '../../../common/random';
import { hashFields } from '../../../worker/hash';
import {
  allKeyGroups,
  keyGroupOf,
  keyGroupOfFields,
  keyGroupRange,
  keyGroupsOf,
  keyHash,
  taskIndexForKeyGroup,
} from '../../../worker/state/key-groups';

/** Seeded random keys of the shapes state keys take: strings, numbers, arrays of both. */
function randomKey(rng: Random): unknown {
  switch (rng.nextInt(4)) {
    case 0:
      return `k${rng.next32()}`;
    case 1:
      return rng.nextInt(1_000_000);
    case 2:
      return rng.nextFloat() * 1000;
    default:
      return [`u${rng.nextInt(1000)}`, rng.nextInt(100)];
  }
}

describe('key groups', () => {
  it('every key group is owned by exactly one task, in contiguous ranges, for every n <= max', () => {
    const problems: string[] = [];
    for (const max of [1, 2, 7, 128, 257]) {
      const owner = new Int32Array(max);
      for (let n = 1; n <= max; n++) {
        owner.fill(-1);
        let next = 0;
        for (let i = 0; i < n; i++) {
          const r = keyGroupRange(i, n, max);
          if (r.start !== next) problems.push(`max ${max} n ${n}: task ${i} starts at ${r.start}, not ${next}`);
          const size = r.end - r.start;
          if (size < Math.floor(max / n) || size > Math.ceil(max / n)) problems.push(`max ${max} n ${n}: task ${i} has ${size} groups`);
          for (let g = r.start; g < r.end; g++) {
            if (owner[g] !== -1) problems.push(`max ${max} n ${n}: group ${g} owned by ${owner[g]} and ${i}`);
            owner[g] = i;
            if (taskIndexForKeyGroup(g, n, max) !== i) problems.push(`max ${max} n ${n}: taskIndexForKeyGroup(${g}) is not ${i}`);
          }
          next = r.end;
        }
        if (next !== max || owner.some((o) => o < 0)) problems.push(`max ${max} n ${n}: not every group is owned`);
        if (problems.length > 10) break;
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses more tasks than key groups, and task indexes out of range', () => {
    expect(() => keyGroupRange(0, 129, 128)).toThrow(/1 to 128 tasks/);
    expect(() => keyGroupRange(4, 4, 128)).toThrow(RangeError);
    expect(() => keyGroupRange(0, 0, 128)).toThrow(RangeError);
  });

  it('a rescale from n to m tasks gives every key exactly one new owner that opened its group', () => {
    const rng = new Random(11);
    const max = 128;
    const keys = Array.from({ length: 2000 }, () => randomKey(rng));
    const problems: string[] = [];
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.nextInt(max);
      const m = 1 + rng.nextInt(max);
      for (const to of [n, m]) {
        // the groups each new task opens, by the range it computes for itself
        const openedBy = new Int32Array(max).fill(-1);
        for (let i = 0; i < to; i++) {
          for (const g of keyGroupsOf(keyGroupRange(i, to, max))) {
            if (openedBy[g] !== -1) problems.push(`${to} tasks: group ${g} opened twice`);
            openedBy[g] = i;
          }
        }
        for (const key of keys) {
          const g = keyGroupOf(key, max);
          if (openedBy[g] !== taskIndexForKeyGroup(g, to, max)) problems.push(`${to} tasks: key ${JSON.stringify(key)} (group ${g}) not opened by its router's task`);
        }
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('routing by grouping fields and state keys agree, and use the fields grouping hash', () => {
    const rng = new Random(5);
    const problems: string[] = [];
    const same = (what: string, a: number, b: number): void => {
      if (a !== b) problems.push(`${what}: ${a} != ${b}`);
    };
    for (let i = 0; i < 5000; i++) {
      const max = 1 + rng.nextInt(4096);
      const a = `w${rng.next32()}`;
      const b = rng.nextInt(1000);
      // one field: the value is the key; the hash is the fields grouping's
      same('one field', keyGroupOfFields([a, b], [0], max), keyGroupOf(a, max));
      same('one field hash', keyGroupOf(a, max), hashFields([a], [0]) % max);
      // several fields: the array of values is the key; exactly hashFields
      same('two fields', keyGroupOfFields([b, 'x', a], [2, 0], max), keyGroupOf([a, b], max));
      same('two fields hash', keyGroupOf([a, b], max), hashFields([a, b], [0, 1]) % max);
      // a one-field value that is an array routes as that array key
      same('array value', keyGroupOfFields([[a, b]], [0], max), keyGroupOf([a, b], max));
      const g = keyGroupOf(randomKey(rng), max);
      if (!(Number.isInteger(g) && g >= 0 && g < max)) problems.push(`group ${g} of ${max}`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('is deterministic (golden values: every process and release must agree)', () => {
    expect([keyGroupOf('apple', 128), keyGroupOf(42, 128), keyGroupOf(['a', 1], 128), keyGroupOf('apple', 32768), keyGroupOf(3.5, 1000)]).toEqual([
      120, 119, 105, 32504, 775,
    ]);
    expect(keyGroupOf(42.0, 128)).toBe(keyGroupOf(42, 128));
    expect(keyHash('apple')).toBe(hashFields(['apple'], [0]));
    expect(allKeyGroups(4)).toEqual([0, 1, 2, 3]);
  });

  it('spreads keys evenly over key groups', () => {
    const counts = new Array(128).fill(0);
    for (let i = 0; i < 64_000; i++) counts[keyGroupOf(`word${i}`, 128)]++;
    expect(Math.min(...counts)).toBeGreaterThan(400);
    expect(Math.max(...counts)).toBeLessThan(600);
  });
});
