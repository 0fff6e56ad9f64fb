/** Failed sign-ins per key (`email:<address>` or `ip:<address>`) in the current window. */
export interface LoginThrottleTable {
  key: string;
  failures: number;
  window_start: number;
  locked_until: number | null;
}
