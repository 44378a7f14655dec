// Drives a few RawNodes in a test: each node's Readys are stored in its MemoryStorage and its
// messages delivered to the others, round after round, until no node has anything to do.

import { MemoryStorage, Message, RawNode } from '../src';

export interface StabilizeOptions {
  /** Messages to lose in transit. */
  drop?: (m: Message) => boolean;
  /**
   * leaderAwaitsOwnAppend: whether node `id`'s writes complete (it is told ownAppendDurable);
   * the others' stay "in flight". Unset: nobody is told.
   */
  durable?: (id: number) => boolean;
}

export function stabilize(nodes: Map<number, RawNode>, o: StabilizeOptions = {}): void {
  for (let round = 0; round < 100; round++) {
    const msgs: Message[] = [];
    for (const [id, n] of nodes) {
      while (n.hasReady()) {
        const rd = n.ready();
        const st = n.raft.raftLog.storage as MemoryStorage;
        if (rd.snapshot) st.applySnapshot(rd.snapshot);
        st.append(rd.entries);
        if (rd.hardState) st.setHardState(rd.hardState);
        msgs.push(...rd.messages);
        n.advance();
        const last = rd.entries[rd.entries.length - 1];
        if (last !== undefined && o.durable?.(id) === true) n.ownAppendDurable(last.index, last.term);
      }
    }
    if (msgs.length === 0) return;
    for (const m of msgs) if (o.drop?.(m) !== true) nodes.get(m.to)?.step(m);
  }
}
