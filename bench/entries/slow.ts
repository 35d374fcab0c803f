/** The slow benchmark topology as a bundle entry (submitted to the dev cluster or loaded by bench workers). */
import { benchTopology } from '../components';

export default () => benchTopology('slow');
