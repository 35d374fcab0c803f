/**
 * Word count as a bundle entry, with two split and two count tasks: on two workers each gets one of
 * each, so half the sentences and half the words cross processes.
 */
import { benchTopology } from '../components';

export default () => benchTopology('word-count', 2);
