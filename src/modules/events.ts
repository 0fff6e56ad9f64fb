import { newId } from '../shared/ids.js';

/**
 * Domain events: what happened, told after the change is committed, to in-process
 * listeners (webhook outbox, admin e-mail notifications). Services take an optional
 * `DomainEvents` and call `emit` once their transaction has committed, so a listener
 * never hears about a change that was rolled back. Listeners must not throw; a
 * failing one is isolated from the others and from the request that caused the event.
 */

/** The event names webhooks can subscribe to (DESIGN §1, issue 6). */
export const DOMAIN_EVENT_TYPES = [
  'developer.created',
  'key_request.created',
  'key_request.approved',
  'key_request.rejected',
  'key.created',
  'key.rolled',
  'key.revoked',
  'quota.exhausted',
] as const;

export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

export interface DomainEvent {
  /** Unique per event (`ev_…`), so receivers can de-duplicate retried deliveries. */
  id: string;
  type: DomainEventType;
  /** Epoch ms. */
  at: number;
  /** The presented object (API shape, snake_case); never a secret. */
  data: Record<string, unknown>;
}

export type DomainEventListener = (event: DomainEvent) => void | Promise<void>;

export interface DomainEvents {
  emit(type: DomainEventType, data: Record<string, unknown>): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: DomainEventListener): () => void;
}

export function isDomainEventType(value: string): value is DomainEventType {
  return (DOMAIN_EVENT_TYPES as readonly string[]).includes(value);
}

/** In-process fan-out; `onError` hears a listener's failure (it is logged, never rethrown). */
export function createDomainEvents(
  options: { now?: () => number; onError?: (error: unknown, event: DomainEvent) => void } = {},
): DomainEvents {
  const listeners = new Set<DomainEventListener>();
  const now = options.now ?? Date.now;
  const report = (error: unknown, event: DomainEvent) => options.onError?.(error, event);
  return {
    emit(type, data) {
      const at = now();
      const event: DomainEvent = { id: newId('event', at), type, at, data };
      for (const listener of listeners) {
        try {
          const result = listener(event);
          if (result instanceof Promise) result.catch((error: unknown) => report(error, event));
        } catch (error) {
          report(error, event);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
