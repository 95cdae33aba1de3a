/**
 * A virtualised log view: only the rows on screen exist in the DOM, positioned over a spacer as
 * tall as every line held; new lines are drawn once per animation frame, however many arrived.
 */
import { h } from '../dom';
import { colourClass, Line } from './line';
import { LineStore } from './store';

export const ROW_PX = 18;

export class LogView {
  readonly el: HTMLElement;
  private spacer: HTMLElement;
  private rows: HTMLElement[] = [];
  private frame = 0;
  private paused = false;
  /** While paused, the view shows [pausedFirst, pausedNext): what was on screen when paused. */
  private pausedFirst = 0;
  private pausedNext = 0;
  private lastAutoTop = -1;
  private highlight: RegExp | null = null;
  onPauseChange: (paused: boolean, pending: number) => void = () => undefined;

  constructor(
    readonly store: LineStore,
    label: string,
  ) {
    this.spacer = h('div', { class: 'spacer' });
    this.el = h('div', { class: 'logview', role: 'region', tabIndex: 0, 'aria-label': label, 'data-testid': 'logview' }, this.spacer);
    this.el.addEventListener('scroll', () => this.onScroll(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The sequence range on screen: frozen while paused. */
  shownRange(): [number, number] {
    return this.paused ? [Math.max(this.pausedFirst, this.store.first), this.pausedNext] : [this.store.first, this.store.next];
  }

  shownLines(): Line[] {
    const [a, b] = this.shownRange();
    return [...this.store.range(a, b)];
  }

  pending(): number {
    return this.paused ? this.store.next - this.pausedNext : 0;
  }

  setPaused(p: boolean): void {
    if (p === this.paused) return;
    this.paused = p;
    if (p) {
      this.pausedFirst = this.store.first;
      this.pausedNext = this.store.next;
    } else this.lastAutoTop = -1;
    this.onPauseChange(p, this.pending());
    this.schedule();
  }

  setHighlight(text: string): void {
    this.highlight = text ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi') : null;
    this.schedule();
  }

  /** New lines were pushed to the store (or the store cleared): redraw on the next frame. */
  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private onScroll(): void {
    // Scrolling up while following pauses (as Papertrail does); our own scroll-to-bottom does not.
    if (!this.paused && this.lastAutoTop >= 0 && this.el.scrollTop < this.lastAutoTop - ROW_PX) this.setPaused(true);
    this.schedule();
  }

  private draw(): void {
    const [a, b] = this.shownRange();
    const base = this.paused ? this.pausedFirst : a;
    const count = b - base;
    const height = count * ROW_PX;
    if (this.spacer.offsetHeight !== height) this.spacer.style.height = `${height}px`;
    if (!this.paused) {
      const bottom = Math.max(0, height - this.el.clientHeight);
      this.el.scrollTop = bottom;
      this.lastAutoTop = this.el.scrollTop;
    } else this.onPauseChange(true, this.pending());
    const top = this.el.scrollTop;
    const visible = Math.ceil(this.el.clientHeight / ROW_PX) + 2;
    const start = Math.max(0, Math.floor(top / ROW_PX) - 1);
    while (this.rows.length < visible) {
      const r = h('div', { class: 'row' });
      this.rows.push(r);
      this.spacer.append(r);
    }
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i];
      const idx = start + i;
      if (i >= visible || idx >= count) {
        if (!row.hidden) row.hidden = true;
        continue;
      }
      row.hidden = false;
      row.style.transform = `translateY(${idx * ROW_PX}px)`;
      const line = this.store.get(base + idx);
      const key = line ? `${line.id}\u0000${line.text}` : '';
      if (row.dataset.key === key && row.dataset.hl === String(this.highlight)) continue;
      row.dataset.key = key;
      row.dataset.hl = String(this.highlight);
      this.render(row, line);
    }
  }

  private render(row: HTMLElement, line: Line | undefined): void {
    if (!line) {
      row.className = 'row gone';
      row.replaceChildren('… (no longer held: the view keeps the newest lines)');
      return;
    }
    row.className = `row${line.severity ? ` sev-${line.severity}` : ''}`;
    const t = Number.isNaN(line.time) ? '' : new Date(line.time).toISOString().slice(11, 23);
    const tag = line.dyno ? `${line.source}[${line.dyno}]` : line.source;
    const colourKey = line.source === 'app' ? line.dyno.split('.')[0] || 'app' : line.source;
    row.replaceChildren(
      h('time', { class: 'ts', dateTime: Number.isNaN(line.time) ? '' : new Date(line.time).toISOString() }, t),
      ' ',
      h('span', { class: `src ${colourClass(colourKey)}` }, tag),
      ' ',
      this.message(line.message),
    );
  }

  private message(text: string): HTMLElement {
    const el = h('span', { class: 'msg' });
    const re = this.highlight;
    if (!re) {
      el.textContent = text;
      return el;
    }
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[0] === '') break;
      el.append(text.slice(last, m.index), h('mark', {}, m[0]));
      last = m.index + m[0].length;
    }
    el.append(text.slice(last));
    return el;
  }
}
