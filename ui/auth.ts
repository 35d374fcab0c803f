/**
 * Calls that need Nimbus's token: tried with the token this tab holds (if any); on
 * ERR_UNAUTHORIZED the user is asked for it once and the call is retried. A wrong or missing token
 * ends as the ApiError, which the page shows.
 */
import { ApiError, token } from './api';
import { askToken } from './dialogs';

export async function withToken<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'ERR_UNAUTHORIZED') throw err;
    const had = token.get() !== null;
    const t = await askToken(had ? 'Nimbus refused the token this tab holds. Enter nimbus.auth.token:' : 'Nimbus needs its token (nimbus.auth.token) for this.');
    if (t === null) throw err;
    token.set(t);
    try {
      return await call();
    } catch (again) {
      if (again instanceof ApiError && again.code === 'ERR_UNAUTHORIZED') token.set(null);
      throw again;
    }
  }
}
