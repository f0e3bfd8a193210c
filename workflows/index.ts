export { escalateGateFailure } from './escalation.js';
