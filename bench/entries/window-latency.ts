/**
 * Windowed result latency as a bundle entry: a wall-clock event spout → a keyed 1 s tumbling
 * event-time window (100 ms lag) with incremental aggregation, which records window end → result.
 * On two workers the spout and the window run in different processes: watermarks cross the link.
 */
import { windowTopology } from '../windows/components';

export default () => windowTopology('latency');
