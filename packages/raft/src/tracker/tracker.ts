// The leader's view of the group: the active configuration, the progress of every member,
// and the votes of the current election.

import { ConfState } from '../types';
import { JointConfig } from '../quorum/joint';
import { MajorityConfig, VoteResult } from '../quorum/majority';
import { Progress } from './progress';

export class TrackerConfig {
  voters: JointConfig;
  /** Learners (never in voters). */
  learners: Set<number>;
  /** Voters of the outgoing config that become learners when the joint config is left. */
  learnersNext: Set<number>;
  autoLeave: boolean;

  constructor(voters = new JointConfig(), learners = new Set<number>(), learnersNext = new Set<number>(), autoLeave = false) {
    this.voters = voters;
    this.learners = learners;
    this.learnersNext = learnersNext;
    this.autoLeave = autoLeave;
  }

  clone(): TrackerConfig {
    return new TrackerConfig(
      new JointConfig(new MajorityConfig(this.voters.incoming.ids), new MajorityConfig(this.voters.outgoing.ids)),
      new Set(this.learners),
      new Set(this.learnersNext),
      this.autoLeave,
    );
  }

  toString(): string {
    let s = `voters=${this.voters}`;
    if (this.learners.size > 0) s += ` learners=${new MajorityConfig(this.learners)}`;
    if (this.learnersNext.size > 0) s += ` learners_next=${new MajorityConfig(this.learnersNext)}`;
    if (this.autoLeave) s += ' autoleave';
    return s;
  }
}

export type ProgressMap = Map<number, Progress>;

export class ProgressTracker {
  config = new TrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<number, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    const sorted = (s: Iterable<number>) => [...s].sort((a, b) => a - b);
    return {
      voters: this.config.voters.incoming.sorted(),
      votersOutgoing: this.config.voters.outgoing.sorted(),
      learners: sorted(this.config.learners),
      learnersNext: sorted(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The largest index committed by the active configuration's quorum(s). */
  committed(): number {
    return this.config.voters.committedIndex((id) => this.progress.get(id)?.match);
  }

  /** Visits progress in ascending id order, so that behaviour never depends on Map order. */
  visit(f: (id: number, pr: Progress) => void): void {
    const ids = [...this.progress.keys()].sort((a, b) => a - b);
    for (const id of ids) f(id, this.progress.get(id)!);
  }

  /** Whether a quorum of voters was recently active (CheckQuorum). */
  quorumActive(): boolean {
    const votes = new Map<number, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    });
    return this.config.voters.voteResult(votes) === 'won';
  }

  voterNodes(): number[] {
    return [...this.config.voters.ids()].sort((a, b) => a - b);
  }

  learnerNodes(): number[] {
    return [...this.config.learners].sort((a, b) => a - b);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: number, v: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, v);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }
}
