/**
 * A fixed-size window over the latest classifications, for the "recent" figures of `GET /v1/policy`.
 * @module
 */

/** What one classification contributes. */
export interface RecentEntry {
  readonly splitLayer: number;
  /** An offload was attempted (successful or not). */
  readonly offloaded: boolean;
  readonly degraded: boolean;
}

/** Rates over the window. */
export interface RecentSummary {
  /** Entries in the window. */
  readonly size: number;
  readonly offloadRate: number | null;
  readonly degradedRate: number | null;
  readonly meanSplitLayer: number | null;
  /** Split layer chosen most often in the window. */
  readonly modalSplitLayer: number | null;
}

/** A ring buffer of the last `capacity` entries. */
export class RecentWindow {
  readonly #items: RecentEntry[] = [];
  #next = 0;

  /** @param capacity window size (default 200) */
  constructor(readonly capacity = 200) {}

  /** Adds an entry, dropping the oldest when full. */
  push(entry: RecentEntry): void {
    if (this.#items.length < this.capacity) this.#items.push(entry);
    else this.#items[this.#next] = entry;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** How many requests in the window chose each split layer (layers never chosen are absent). */
  splitCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const e of this.#items) counts.set(e.splitLayer, (counts.get(e.splitLayer) ?? 0) + 1);
    return counts;
  }

  /** Rates over the current window (`null` when it is empty). */
  summary(): RecentSummary {
    const n = this.#items.length;
    if (n === 0) return { size: 0, offloadRate: null, degradedRate: null, meanSplitLayer: null, modalSplitLayer: null };
    let offloads = 0, degraded = 0, layers = 0;
    const freq = new Map<number, number>();
    for (const e of this.#items) {
      if (e.offloaded) offloads++;
      if (e.degraded) degraded++;
      layers += e.splitLayer;
      freq.set(e.splitLayer, (freq.get(e.splitLayer) ?? 0) + 1);
    }
    let modal = 0, best = -1;
    for (const [layer, count] of freq) {
      if (count > best || (count === best && layer < modal)) [modal, best] = [layer, count];
    }
    return {
      size: n,
      offloadRate: offloads / n,
      degradedRate: degraded / n,
      meanSplitLayer: layers / n,
      modalSplitLayer: modal,
    };
  }
}
