/**
 * Every error Squall raises on purpose, with a stable code, in one table.
 *
 * Code branches on `err.code`, never on the message or on `instanceof`: a user bundle may carry
 * its own copy of this module, so an error created there is not an instance of this `SquallError`.
 * `docs/errors.md` lists every code; `test/unit/errors.test.ts` keeps the two in sync.
 *
 * `status` is the HTTP status Nimbus's REST API answers with when the error reaches it.
 */
export const ERROR_TABLE = {
  // Topology definition and configuration
  ERR_TOPOLOGY_INVALID: { status: 400, title: 'Invalid topology' },
  ERR_CONFIG_INVALID: { status: 400, title: 'Invalid configuration' },
  ERR_TOPOLOGY_EXISTS: { status: 409, title: 'Topology already exists' },
  ERR_TOPOLOGY_NOT_FOUND: { status: 404, title: 'Topology not found' },
  ERR_COMPONENT_NOT_FOUND: { status: 404, title: 'Component not found' },
  ERR_INVALID_TRANSITION: { status: 409, title: 'Invalid topology state transition' },
  ERR_TOPOLOGY_LOAD: { status: 400, title: 'Cannot load topology' },

  // Emitting and reading tuples (raised inside user code paths)
  ERR_EMIT_UNDECLARED_STREAM: { status: 500, title: 'Emit on an undeclared stream' },
  ERR_EMIT_WRONG_ARITY: { status: 500, title: 'Emit with the wrong number of values' },
  ERR_EMIT_DIRECT_INVALID: { status: 500, title: 'Invalid direct emit' },
  ERR_FIELD_NOT_FOUND: { status: 500, title: 'No such field' },
  ERR_VALUE_TYPE: { status: 500, title: 'Tuple value has another type' },
  ERR_FAILED_EXCEPTION: { status: 500, title: 'Tuple failed' },
  ERR_COLLECTOR_CLOSED: { status: 500, title: 'Collector used outside its component lifecycle' },
  ERR_METRIC_INVALID: { status: 500, title: 'Invalid user metric' },
  ERR_EMIT_AFTER_SETTLE: { status: 500, title: 'Emit through a basic collector after its input was acked or failed' },
  ERR_ASYNC_TIMEOUT: { status: 500, title: 'Asynchronous execution timed out' },

  // Windowed bolts
  ERR_WINDOW_OUTLASTS_TIMEOUT: { status: 400, title: 'A window outlasts the message timeout' },
  ERR_WINDOW_INVALID: { status: 500, title: 'Invalid windowed bolt' },
  ERR_WINDOW_TIMESTAMP: { status: 500, title: 'Tuple without a usable timestamp' },
  ERR_WINDOW_BUFFER_FULL: { status: 500, title: 'Window buffer full' },

  // Bundles
  ERR_BUNDLE_INVALID: { status: 400, title: 'Invalid bundle' },
  ERR_BUNDLE_TOO_LARGE: { status: 413, title: 'Bundle too large' },
  ERR_BUNDLE_HASH_MISMATCH: { status: 502, title: 'Bundle hash mismatch' },
  ERR_BUNDLE_NOT_FOUND: { status: 404, title: 'Bundle not found' },
  ERR_BUILD_FAILED: { status: 400, title: 'Cannot build bundle' },

  // REST edge
  ERR_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  ERR_BODY_INVALID: { status: 400, title: 'Malformed request body' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  ERR_UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No such endpoint' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  ERR_INSECURE_LISTEN: { status: 500, title: 'Refusing to listen beyond loopback without a token' },
  ERR_NIMBUS_UNREACHABLE: { status: 503, title: 'Nimbus unreachable' },
  ERR_NIMBUS_RESPONSE: { status: 502, title: 'Unexpected answer from Nimbus' },
  ERR_NOT_LEADER: { status: 503, title: 'Nimbus is not ready' },
  ERR_LOG_NOT_FOUND: { status: 404, title: 'Worker log not found' },
  ERR_LOG_UNAVAILABLE: { status: 503, title: 'Worker log server unavailable' },
  ERR_BUSY: { status: 503, title: 'Too many requests in progress' },

  // Worker links and frames
  ERR_FRAME_TOO_LARGE: { status: 413, title: 'Frame too large' },
  ERR_FRAME_MALFORMED: { status: 400, title: 'Malformed frame' },
  ERR_FRAME_VERSION: { status: 400, title: 'Unsupported frame version' },
  ERR_FRAME_KIND: { status: 400, title: 'Unknown frame kind' },
  ERR_HANDSHAKE_FAILED: { status: 401, title: 'Link handshake failed' },
  ERR_TASK_NOT_OWNED: { status: 400, title: 'Tuple for a task this worker does not own' },
  ERR_LINK_CLOSED: { status: 503, title: 'Link closed' },

  // Cluster state and daemons
  ERR_STATE_STORE: { status: 503, title: 'Cluster state unavailable' },
  ERR_STATE_CONFLICT: { status: 409, title: 'Cluster state changed concurrently' },
  ERR_STATE_NODE_EXISTS: { status: 409, title: 'Cluster state node exists' },
  ERR_STATE_NO_NODE: { status: 404, title: 'Cluster state node missing' },
  ERR_WORKER_START_FAILED: { status: 500, title: 'Worker failed to start' },
  ERR_WORKER_HUNG: { status: 500, title: 'Worker stopped heartbeating' },
  ERR_WORKER_CRASHED: { status: 500, title: 'Worker process died' },
  ERR_USER_CODE: { status: 500, title: 'User code threw' },

  // Checkpointed state (topology-api/state, worker/state)
  ERR_STATE_BACKEND: { status: 503, title: 'State backend unavailable' },
  ERR_STATE_KEY_GROUP: { status: 500, title: 'Key outside the key groups of this task' },
  ERR_STATE_TXID: { status: 409, title: 'Checkpoint transaction out of order' },
  // Processing guarantees and checkpoints (worker/checkpoint)
  ERR_SPOUT_NOT_REPLAYABLE: { status: 400, title: 'Exactly-once needs replayable spouts' },
  ERR_CLOSED: { status: 503, title: 'Already closed' },

  // Connectors (connectors/): spouts and sinks of external systems
  ERR_CONNECTOR_CONFIG: { status: 400, title: 'Invalid connector options' },
  ERR_CONNECTOR_CONNECT: { status: 503, title: 'Cannot connect to the external system' },
  ERR_CONNECTOR_AUTH: { status: 401, title: 'The external system refused the credentials' },
  ERR_CONNECTOR_IO: { status: 503, title: 'An operation on the external system failed' },
  ERR_CONNECTOR_DECODE: { status: 500, title: 'A message cannot be decoded' },
  ERR_CONNECTOR_DEAD_LETTER: { status: 500, title: 'A message was dead-lettered' },
  ERR_CONNECTOR_NOT_REPLAYABLE: { status: 400, title: 'The connector cannot rewind in this mode' },
  ERR_TIMEOUT: { status: 504, title: 'Timed out' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_TABLE;

export class SquallError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Every problem found, when validation found several (config, topology). */
  readonly problems: readonly string[];

  constructor(code: ErrorCode, detail?: string, options: { problems?: string[]; cause?: unknown } = {}) {
    const entry = ERROR_TABLE[code];
    super(detail ? `${entry.title}: ${detail}` : entry.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SquallError';
    this.code = code;
    this.statusCode = entry.status;
    this.problems = options.problems ?? [];
  }
}

/** Builds a coded error from the table. */
export function squallError(code: ErrorCode, detail?: string, options?: { problems?: string[]; cause?: unknown }): SquallError {
  return new SquallError(code, detail, options);
}

/** Raised for a list of problems found at once: the message lists each. */
export function problemsError(code: ErrorCode, subject: string, problems: string[]): SquallError {
  return new SquallError(code, `${subject}: ${problems.join('; ')}`, { problems });
}

/** The code of any thrown value, if it carries one of ours (works across bundle copies). */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/**
 * Storm's FailedException: thrown from a BaseBasicBolt's `execute`, it fails the input tuple
 * (so its spout tuple is replayed) instead of acking it.
 */
export class FailedException extends Error {
  readonly code = 'ERR_FAILED_EXCEPTION';
  constructor(message = 'tuple failed', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FailedException';
  }
}

/** Storm's ReportedFailedException: fails the input and also reports the error. */
export class ReportedFailedException extends FailedException {
  readonly reported = true;
  constructor(message = 'tuple failed', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportedFailedException';
  }
}
