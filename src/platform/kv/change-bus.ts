/**
 * Tells every interested part (the gateway snapshot above all) that configuration
 * changed. In one process an EventEmitter-like list of listeners; scaled out, Redis
 * pub/sub plus a version poll (same interface, chosen once at boot).
 */
export type ChangeTopic = 'apis' | 'policies' | 'keys' | 'catalogue' | 'developers' | 'settings' | 'docs' | 'pages';

export interface ChangeEvent {
  topic: ChangeTopic;
  id?: string;
}

export type ChangeListener = (event: ChangeEvent) => void;

export interface ChangeBus {
  publish(event: ChangeEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

export class MemoryChangeBus implements ChangeBus {
  private readonly listeners = new Set<ChangeListener>();

  publish(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not stop the others from hearing the change.
      }
    }
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
