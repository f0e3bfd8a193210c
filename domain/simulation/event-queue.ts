/**
 * The simulator's agenda: a binary min-heap of items by virtual time. Items due at the same instant
 * come out in the order they were pushed, so a run never depends on how the heap happens to be laid out.
 */
export class EventQueue<T> {
  private readonly times: number[] = [];
  private readonly order: number[] = [];
  private readonly items: T[] = [];
  private pushed = 0;

  get size(): number {
    return this.items.length;
  }

  push(at: number, item: T): void {
    this.times.push(at);
    this.order.push(this.pushed++);
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** The earliest item and its time; undefined when the queue is empty. */
  pop(): { at: number; item: T } | undefined {
    const count = this.items.length;
    if (count === 0) return undefined;
    const top = { at: this.times[0]!, item: this.items[0]! };
    const lastTime = this.times.pop()!;
    const lastOrder = this.order.pop()!;
    const lastItem = this.items.pop()!;
    if (count > 1) {
      this.times[0] = lastTime;
      this.order[0] = lastOrder;
      this.items[0] = lastItem;
      this.down(0);
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta < tb || (ta === tb && this.order[a]! < this.order[b]!);
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b]!, this.times[a]!];
    [this.order[a], this.order[b]] = [this.order[b]!, this.order[a]!];
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
  }

  private up(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(index: number): void {
    let i = index;
    const count = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < count && this.before(left, smallest)) smallest = left;
      if (right < count && this.before(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
