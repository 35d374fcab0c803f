/**
 * The daemons' view of the one error table, which lives in `topology-api/errors.ts` because user
 * code raises and catches the same codes and `topology-api` may import nothing internal.
 */
export { ERROR_TABLE, SquallError, squallError, problemsError, errorCode, type ErrorCode } from '../topology-api/errors';

/** A printable message for anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    return String(err);
  }
}
