// Human-readable one-line descriptions of entries, messages and Ready, used by the
// transcript tests, the simulator's traces and debugging.

import { decodeConfChange, describeConfChange } from './confchange/types';
import type { Ready } from './raw-node';
import { Entry, HardState, Message, Snapshot } from './types';

const decoder = new TextDecoder();

function printable(data: Uint8Array): string {
  const s = decoder.decode(data);
  return /^[\x20-\x7e]*$/.test(s) ? JSON.stringify(s) : `0x${Buffer.from(data).toString('hex')}`;
}

export function describeEntry(e: Entry): string {
  if (e.type === 'confChange') return `${e.term}/${e.index} EntryConfChangeV2 ${describeConfChange(decodeConfChange(e.data))}`;
  return `${e.term}/${e.index} EntryNormal ${printable(e.data)}`;
}

export function describeEntries(ents: Entry[]): string {
  return ents.map(describeEntry).join(', ');
}

export function describeHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  const cs = m.confState;
  let c = `Voters:[${cs.voters.join(' ')}]`;
  if (cs.votersOutgoing.length > 0) c += ` VotersOutgoing:[${cs.votersOutgoing.join(' ')}]`;
  if (cs.learners.length > 0) c += ` Learners:[${cs.learners.join(' ')}]`;
  if (cs.learnersNext.length > 0) c += ` LearnersNext:[${cs.learnersNext.join(' ')}]`;
  if (cs.autoLeave) c += ' AutoLeave:true';
  return `Index:${m.index} Term:${m.term} ConfState:${c}`;
}

export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${describeEntries(m.entries)}]`;
  if (m.context.byteLength > 0) s += ` Context:${printable(m.context)}`;
  if (m.snapshot) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return s;
}

export function describeReady(rd: Ready): string {
  const lines: string[] = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState) lines.push(`Lead:${rd.softState.lead} State:${rd.softState.raftState}`);
  if (rd.hardState) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.readStates.length > 0) {
    lines.push('ReadStates:');
    for (const rs of rd.readStates) lines.push(`  Index:${rs.index} Ctx:${printable(rs.requestCtx)}`);
  }
  if (rd.entries.length > 0) {
    lines.push('Entries:');
    for (const e of rd.entries) lines.push(describeEntry(e));
  }
  if (rd.snapshot) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) {
    lines.push('CommittedEntries:');
    for (const e of rd.committedEntries) lines.push(describeEntry(e));
  }
  if (rd.messages.length > 0) {
    lines.push('Messages:');
    for (const m of rd.messages) lines.push(describeMessage(m));
  }
  return lines.join('\n');
}
