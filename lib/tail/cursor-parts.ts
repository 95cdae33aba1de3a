import type { Positions } from './positions';

/**
 * An SSE session's position as the entries of its cursor text, in encodeCursor's order (a Map's
 * insertion order): a line replaces one entry, so the id is one join, not a re-encoding.
 */
export class CursorParts {
  private index = new Map<string, number>();
  private parts: string[] = [];
  private text: string | undefined = '';
  /**
   * The text on either side of the entry replaced last. An app's lines come from one partition of
   * its space (Kafka key = app), so line after line the same entry changes: the id is then
   * `before + part + after`, not a join of every entry for every line of every session.
   */
  private at = -1;
  private before = '';
  private after = '';

  constructor(start: Positions) {
    for (const [key, offset] of start) this.set(key, `${key}:${offset}`);
  }

  set(key: string, part: string): void {
    const i = this.index.get(key);
    if (i === undefined) {
      this.index.set(key, this.parts.length);
      this.parts.push(part);
      this.at = -1;
      this.text = undefined;
      return;
    }
    this.parts[i] = part;
    if (i !== this.at) {
      this.at = i;
      this.before = i > 0 ? `${this.parts.slice(0, i).join(',')},` : '';
      this.after = i < this.parts.length - 1 ? `,${this.parts.slice(i + 1).join(',')}` : '';
    }
    this.text = this.before + part + this.after;
  }

  toString(): string {
    this.text ??= this.parts.join(',');
    return this.text;
  }
}
