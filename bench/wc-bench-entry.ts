import { benchTopology } from './components';
export default () => benchTopology('word-count', { acking: true, parallelism: 1 });
