/** Worker links: the websocket transport, its in-memory twin, and what both share. */
export { WsTransport, type WsTransportOptions } from './ws-transport';
export { MemoryHub, MemoryTransport, type MemoryTransportOptions } from './memory-transport';
export { Outbox, type OutboxStats, type FrameSink } from './outbox';
export { transferLimits, type LinkReceiver, type PeerAddress, type TransferLimits, type Transport, type TransportAttachment, type TransportStats } from './types';
export { buildStreamTable, type ControlMessage, type StreamTable } from './codec';
export { CloseCode, FrameKind, FRAME_VERSION, FRAME_BYTES_MAX_DEFAULT } from './frames';
export type { LinkState } from './link-state';
