export * from './lengths';
export * from './window';
export * from './aggregate';
export * from './windowed-bolt';
export * from './spec';
export * from './timeouts';
