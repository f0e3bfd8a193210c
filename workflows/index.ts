export { escalateGateFailure } from './escalation.js';
export { weeklyDigest } from './digest.js';
