/** Stores a node run's events in order for the in-process transports (local, SSH). */
import type { NodeEvent } from '@baton/shared';

/** Writes events in order, batching those that arrive while a write is in flight. */
export class EventWriter {
  private buffer: NodeEvent[] = [];
  private writing?: Promise<void>;

  constructor(private readonly write: (events: NodeEvent[]) => Promise<void>) {}

  push(event: NodeEvent): void {
    this.buffer.push(event);
    this.writing ??= this.flush();
  }

  async drained(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async flush(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0);
      await this.write(batch).catch(async () => {
        // A database blip must not lose events: put them back and try again shortly.
        this.buffer.unshift(...batch);
        await new Promise((r) => setTimeout(r, 500));
      });
    }
    this.writing = undefined;
  }
}
