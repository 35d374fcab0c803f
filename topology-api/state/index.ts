/** Checkpointed state (Storm's `org.apache.storm.state` and stateful bolts); see docs/state.md. */
export * from './state';
export * from './stateful-bolt';
export * from './replayable-spout';
export * from './provider-config';
