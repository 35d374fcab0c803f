import { squallError } from '../errors';

/** A window length or slide in tuples (Storm's `BaseWindowedBolt.Count`). */
export class Count {
  readonly kind = 'count' as const;
  private constructor(readonly value: number) {}

  static of(n: number): Count {
    if (!Number.isInteger(n) || n < 1) throw squallError('ERR_CONFIG_INVALID', `Count.of(${n}): a count must be an integer >= 1`);
    return new Count(n);
  }

  toString(): string {
    return `Count.of(${this.value})`;
  }
}

/** A window length, slide, lag or gap in milliseconds (Storm's `BaseWindowedBolt.Duration`). */
export class Duration {
  readonly kind = 'duration' as const;
  private constructor(readonly value: number) {}

  /** `ms` milliseconds: an integer >= 0 (a window length or slide must also be > 0). */
  static of(ms: number): Duration {
    if (!Number.isInteger(ms) || ms < 0) throw squallError('ERR_CONFIG_INVALID', `Duration.of(${ms}): a duration is an integer number of ms >= 0`);
    return new Duration(ms);
  }
  static seconds(n: number): Duration {
    return Duration.of(Math.round(n * 1000));
  }
  static minutes(n: number): Duration {
    return Duration.of(Math.round(n * 60_000));
  }
  static hours(n: number): Duration {
    return Duration.of(Math.round(n * 3_600_000));
  }
  static days(n: number): Duration {
    return Duration.of(Math.round(n * 86_400_000));
  }

  toString(): string {
    return `Duration.of(${this.value})`;
  }
}

export type WindowLength = Count | Duration;

/** Across bundle copies `instanceof` is unreliable: recognise lengths by shape. */
export function isCount(v: unknown): v is Count {
  return typeof v === 'object' && v !== null && (v as Count).kind === 'count' && typeof (v as Count).value === 'number';
}
export function isDuration(v: unknown): v is Duration {
  return typeof v === 'object' && v !== null && (v as Duration).kind === 'duration' && typeof (v as Duration).value === 'number';
}
