/**
 * A count whose additions fade with a half-life: an addition worth 1 at time t is worth 1/2 one
 * half-life later. Stored as the value at the latest addition, decayed lazily when read.
 */
export class DecayedCount {
  private value = 0;
  private at = Number.NEGATIVE_INFINITY;

  /** `halfLifeMs` null: nothing fades. */
  constructor(private readonly halfLifeMs: number | null) {}

  /** Adds `amount` at time `at` (epoch ms); an addition older than the latest one is decayed to it. */
  add(amount: number, at: number): void {
    if (this.value === 0 || at >= this.at) {
      this.value = this.valueAt(at) + amount;
      this.at = at;
    } else {
      this.value += amount * this.fade(this.at - at);
    }
  }

  /** The count as seen at time `at`. */
  valueAt(at: number): number {
    return this.value === 0 ? 0 : this.value * this.fade(at - this.at);
  }

  private fade(elapsedMs: number): number {
    return this.halfLifeMs === null ? 1 : 2 ** (-elapsedMs / this.halfLifeMs);
  }
}
