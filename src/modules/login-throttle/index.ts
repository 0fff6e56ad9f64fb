export {
  createLoginThrottle,
  DEFAULT_LOGIN_LIMITS,
  type LoginThrottle,
  type LoginThrottleLimits,
} from './login-throttle.service.js';
export type { LoginThrottleTable } from './login-throttle.table.js';
