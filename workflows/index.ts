export { escalateGateFailure } from './escalation.js';
export { weeklyDigest } from './digest.js';
export { routingRetraining } from './routing-retraining.js';
