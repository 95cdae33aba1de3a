/** A stand-in for the ServerResponse a tail session writes to: it keeps what is written and can report back-pressure. */
import { EventEmitter } from 'node:events';

export class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  /** true: write() reports a full buffer, as a slow client's socket does. */
  full = false;
  ended = false;

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }

  end(chunk?: string): void {
    if (chunk) this.chunks.push(chunk);
    this.ended = true;
    this.emit('close');
  }

  destroy(): void {
    this.emit('close');
  }

  get text(): string {
    return this.chunks.join('');
  }
}
