import { errorCode, SquallError, type ErrorCode } from '../../topology-api';

/** The connector codes (topology-api/errors.ts ERROR_TABLE, docs/errors.md). */
export type ConnectorErrorCode =
  | 'ERR_CONNECTOR_CONFIG'
  | 'ERR_CONNECTOR_CONNECT'
  | 'ERR_CONNECTOR_AUTH'
  | 'ERR_CONNECTOR_IO'
  | 'ERR_CONNECTOR_DECODE'
  | 'ERR_CONNECTOR_DEAD_LETTER'
  | 'ERR_CONNECTOR_NOT_REPLAYABLE';

/**
 * A coded connector error. Its name carries the code, as Node's own errors do
 * (`SquallError [ERR_CONNECTOR_AUTH]: ...`), so the code shows in the component's errors in REST,
 * which carry the stack's text. `system` names the connector (`redis`, `postgresql`, ...).
 */
export function connectorError(code: ConnectorErrorCode, system: string, detail: string, cause?: unknown): SquallError {
  const err = new SquallError(code, `${system}: ${detail}`, cause === undefined ? {} : { cause });
  err.name = `SquallError [${code}]`;
  // V8 renders the stack's first line lazily from the name at first read: read it now, with the code
  void err.stack;
  return err;
}

/** True for the codes a connector raised on purpose (already classified). */
export function isConnectorError(err: unknown): err is SquallError & { code: ConnectorErrorCode } {
  const code = errorCode(err);
  return code !== undefined && code.startsWith('ERR_CONNECTOR_');
}

/** The message of anything thrown, for error details. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}

/** Lists every problem of a set of options at once, or throws ERR_CONNECTOR_CONFIG naming each. */
export function checkOptions(system: string, problems: readonly (string | undefined | false)[]): void {
  const found = problems.filter((p): p is string => typeof p === 'string');
  if (found.length === 0) return;
  const err = new SquallError('ERR_CONNECTOR_CONFIG' satisfies ErrorCode, `${system}: ${found.join('; ')}`, { problems: found });
  err.name = 'SquallError [ERR_CONNECTOR_CONFIG]';
  void err.stack;
  throw err;
}

const isInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min;

/** `name` must be an integer ≥ `min` when given. */
export function intOption(name: string, v: unknown, min: number): string | undefined {
  return v === undefined || isInt(v, min) ? undefined : `"${name}" must be an integer >= ${min} (got ${JSON.stringify(v)})`;
}

/** `name` must be a non-empty string when given (or always, when `required`). */
export function stringOption(name: string, v: unknown, required = false): string | undefined {
  if (v === undefined && !required) return undefined;
  return typeof v === 'string' && v.length > 0 ? undefined : `"${name}" must be a non-empty string (got ${JSON.stringify(v)})`;
}

/** `name` must be one of `allowed` when given. */
export function oneOfOption(name: string, v: unknown, allowed: readonly string[]): string | undefined {
  return v === undefined || allowed.includes(v as string) ? undefined : `"${name}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')} (got ${JSON.stringify(v)})`;
}
