/** Names Storm users know; the `__` prefix is reserved for the system. */
export const DEFAULT_STREAM_ID = 'default';
export const SYSTEM_COMPONENT_ID = '__system';
export const SYSTEM_TASK_ID = -1;
export const SYSTEM_TICK_STREAM_ID = '__tick';
export const ACKER_COMPONENT_ID = '__acker';
export const ACKER_INIT_STREAM_ID = '__ack_init';
export const ACKER_ACK_STREAM_ID = '__ack_ack';
export const ACKER_FAIL_STREAM_ID = '__ack_fail';
export const ACKER_RESET_TIMEOUT_STREAM_ID = '__ack_reset_timeout';
/** Watermarks (event-time progress) from a task to the windowed bolts it feeds; see docs/windowing.md. */
export const WATERMARK_STREAM_ID = '__watermark';
/** Checkpoint barriers and their commit/rollback actions (Storm's `$checkpoint`); see docs/state.md. */
export const CHECKPOINT_STREAM_ID = '__checkpoint';
/** The checkpoint coordinator (Storm's `$checkpointspout`): one task, laid out like `__acker`. */
export const CHECKPOINT_COMPONENT_ID = '__checkpointspout';
export const RESERVED_PREFIX = '__';

export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}
