// One implementation, shared with the scripts that start servers.
export { freePort } from '../../scripts/process-helpers.js';
