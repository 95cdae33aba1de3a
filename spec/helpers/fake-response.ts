/**
 * A stand-in for the ServerResponse a tail session writes to: it keeps what is written and can
 * report back-pressure; what is written while full stays unsent (writableLength) until 'drain'.
 */
import { EventEmitter } from 'node:events';

export class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  /** true: write() reports a full buffer, as a slow client's socket does. */
  full = false;
  ended = false;
  writableLength = 0;

  constructor() {
    super();
    this.on('drain', () => (this.writableLength = 0));
  }

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    if (this.full) this.writableLength += chunk.length;
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
