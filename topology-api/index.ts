/**
 * What topology code imports (`import { TopologyBuilder } from 'squall'`). This module imports
 * nothing else from Squall, so a bundle carries only this part of it.
 */
export * from './errors';
export * from './config';
export * from './constants';
export * from './fields';
export * from './tuple';
export * from './components';
export * from './metrics';
export * from './definition';
export * from './builder';
export * from './basic-bolt-executor';
export * from './utils';
export * from './windowing';
export { cloneComponent } from './clone';
export * from './state';
export * from './guarantees';
export * from './sources';
export * from './sinks';
export * from './stateful-windowed-bolt';
