// Membership change requests, as etcd's ConfChangeV2, and their entry encoding.

import { RaftError } from '../errors';

export type ConfChangeType = 'addNode' | 'removeNode' | 'addLearnerNode';

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: number;
}

/**
 * - 'auto': a single change is applied directly (simple); several use joint consensus and
 *   the leader leaves the joint config on its own once it is applied.
 * - 'implicit': always joint, left automatically.
 * - 'explicit': always joint; the application proposes an empty ConfChangeV2 to leave it.
 */
export type ConfChangeTransition = 'auto' | 'implicit' | 'explicit';

export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  /** Opaque to raft; returned to the application with the committed entry. */
  context?: string;
}

/** An empty ConfChangeV2 leaves a joint configuration. */
export function leaveJointChange(): ConfChangeV2 {
  return { transition: 'auto', changes: [] };
}

export function isLeaveJoint(cc: ConfChangeV2): boolean {
  return cc.changes.length === 0;
}

/** Whether the change enters a joint config, and if so whether it is left automatically. */
export function enterJoint(cc: ConfChangeV2): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== 'auto' || cc.changes.length > 1) {
    return { joint: true, autoLeave: cc.transition !== 'explicit' };
  }
  return { joint: false, autoLeave: false };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChangeV2): Uint8Array {
  return encoder.encode(JSON.stringify({ t: cc.transition, c: cc.changes.map((c) => [c.type, c.nodeId]), x: cc.context }));
}

export function decodeConfChange(data: Uint8Array): ConfChangeV2 {
  if (data.byteLength === 0) return leaveJointChange();
  let raw: { t: ConfChangeTransition; c: [ConfChangeType, number][]; x?: string };
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    throw new RaftError('ConfChangeInvalid', 'undecodable conf change entry');
  }
  const cc: ConfChangeV2 = { transition: raw.t, changes: raw.c.map(([type, nodeId]) => ({ type, nodeId })) };
  if (raw.x !== undefined) cc.context = raw.x;
  return cc;
}

export function describeConfChange(cc: ConfChangeV2): string {
  const short = { addNode: 'v', removeNode: 'r', addLearnerNode: 'l' } as const;
  const parts = cc.changes.map((c) => `${short[c.type]}${c.nodeId}`);
  if (cc.transition !== 'auto') parts.unshift(`transition=${cc.transition}`);
  return parts.length === 0 ? 'leave-joint' : parts.join(' ');
}
