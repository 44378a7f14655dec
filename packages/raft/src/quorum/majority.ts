// A majority configuration: a set of voters, any majority of which decides.

export type VoteResult = 'pending' | 'lost' | 'won';

/** Returns the acknowledged index of a voter, or undefined if unknown. */
export type AckedIndexer = (id: number) => number | undefined;

export class MajorityConfig {
  readonly ids: Set<number>;

  constructor(ids: Iterable<number> = []) {
    this.ids = new Set(ids);
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  sorted(): number[] {
    return [...this.ids].sort((a, b) => a - b);
  }

  toString(): string {
    return `(${this.sorted().join(' ')})`;
  }

  /**
   * The largest index acknowledged by a majority. An empty config returns Infinity so
   * that, in a joint config, it does not constrain the other half.
   */
  committedIndex(acked: AckedIndexer): number {
    const n = this.ids.size;
    if (n === 0) return Infinity;
    const srt: number[] = [];
    for (const id of this.ids) srt.push(acked(id) ?? 0);
    srt.sort((a, b) => a - b);
    // The (n/2+1)-th largest is acknowledged by a majority.
    return srt[n - (Math.floor(n / 2) + 1)];
  }

  /** An empty config wins every vote (so that a joint config with an empty half works). */
  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    if (this.ids.size === 0) return 'won';
    let yes = 0;
    let missing = 0;
    for (const id of this.ids) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) yes++;
    }
    const q = Math.floor(this.ids.size / 2) + 1;
    if (yes >= q) return 'won';
    if (yes + missing >= q) return 'pending';
    return 'lost';
  }
}
