// Computes the configuration (and progress map) that results from a membership change,
// without mutating the tracker: the caller switches to the result. Follows the joint
// consensus rules of the thesis (§4.3) as etcd's confchange does:
//   enterJoint: C_old -> C_old,new   (outgoing = old incoming; changes applied to incoming)
//   leaveJoint: C_old,new -> C_new
//   simple:     at most one voter added or removed, no joint state.

import { RaftError, assert } from '../errors';
import { ConfState } from '../types';
import { Inflights } from '../tracker/inflights';
import { Progress } from '../tracker/progress';
import { ProgressMap, ProgressTracker, TrackerConfig } from '../tracker/tracker';
import { ConfChangeSingle } from './types';

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

function invalid(msg: string): never {
  throw new RaftError('ConfChangeInvalid', msg);
}

export class Changer {
  constructor(
    readonly tracker: ProgressTracker,
    readonly lastIndex: number,
  ) {}

  enterJoint(autoLeave: boolean, ccs: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.isJoint()) invalid('config is already joint');
    if (config.voters.incoming.size === 0) invalid("can't make a zero-voter config joint");
    for (const id of config.voters.incoming.ids) config.voters.outgoing.ids.add(id);
    this.apply(config, progress, ccs);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (!config.voters.isJoint()) invalid("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext.clear();
    for (const id of config.voters.outgoing.ids) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters.outgoing.ids.clear();
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  simple(ccs: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (config.voters.isJoint()) invalid("can't apply simple config change in joint config");
    this.apply(config, progress, ccs);
    const before = this.tracker.config.voters.incoming.ids;
    const after = config.voters.incoming.ids;
    let diff = 0;
    for (const id of before) if (!after.has(id)) diff++;
    for (const id of after) if (!before.has(id)) diff++;
    if (diff > 1) invalid('more than one voter changed without entering joint config');
    return checkAndReturn(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, ccs: ConfChangeSingle[]): void {
    for (const cc of ccs) {
      if (cc.nodeId === 0) continue; // etcd convention: id 0 is a no-op
      switch (cc.type) {
        case 'addNode':
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case 'addLearnerNode':
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case 'removeNode':
          remove(config, progress, cc.nodeId);
          break;
        default:
          invalid(`unexpected conf change type ${(cc as ConfChangeSingle).type}`);
      }
    }
    if (config.voters.incoming.size === 0) invalid('removed all voters');
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: number): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.ids.add(id);
  }

  /**
   * A voter of the outgoing config cannot become a learner before the joint config is left
   * (it would stop voting while still needed): it is recorded in learnersNext instead.
   */
  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: number): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    remove(config, progress, id);
    progress.set(id, pr); // keep the progress
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: number, isLearner: boolean): void {
    if (isLearner) config.learners.add(id);
    else config.voters.incoming.ids.add(id);
    // Probe from the last index; recentActive so that CheckQuorum does not immediately
    // step down a leader because of a node that was just added.
    const inflights = new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes);
    progress.set(id, new Progress(Math.max(this.lastIndex, 1), inflights, isLearner, true));
  }

  private checkAndCopy(): ChangeResult {
    const config = this.tracker.config.clone();
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) progress.set(id, pr.clone());
    checkInvariants(config, progress);
    return { config, progress };
  }
}

function remove(config: TrackerConfig, progress: ProgressMap, id: number): void {
  if (!progress.has(id)) return;
  config.voters.incoming.ids.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  // An outgoing voter keeps its progress until the joint config is left.
  if (!config.voters.outgoing.has(id)) progress.delete(id);
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  for (const id of config.voters.ids()) assert(progress.has(id), `no progress for voter ${id}`);
  for (const id of config.learners) {
    assert(progress.has(id), `no progress for learner ${id}`);
    assert(!config.voters.outgoing.has(id), `${id} is in learners and outgoing voters`);
    assert(!config.voters.incoming.has(id), `${id} is in learners and voters`);
    assert(progress.get(id)!.isLearner, `${id} is in learners but not marked as learner`);
  }
  for (const id of config.learnersNext) {
    assert(progress.has(id), `no progress for learnerNext ${id}`);
    assert(config.voters.outgoing.has(id), `${id} is in learnersNext but not outgoing voters`);
    assert(!progress.get(id)!.isLearner, `${id} is in learnersNext but already marked as learner`);
  }
  if (!config.voters.isJoint()) {
    assert(config.learnersNext.size === 0, 'learnersNext must be empty when not joint');
    assert(!config.autoLeave, 'autoLeave must be false when not joint');
  }
  for (const [id, pr] of progress) {
    assert(config.voters.has(id) || config.learners.has(id), `progress for ${id} which is not a member`);
    if (pr.isLearner) assert(config.learners.has(id), `${id} marked learner but not in learners`);
  }
}

/**
 * Rebuilds a configuration from a ConfState (on startup or snapshot restore) by replaying
 * it as changes: a joint state is rebuilt by first establishing the outgoing config, then
 * entering the joint config with the incoming one.
 */
export function restoreConfState(tracker: ProgressTracker, lastIndex: number, cs: ConfState): ChangeResult {
  const scratch = new ProgressTracker(tracker.maxInflight, tracker.maxInflightBytes);
  const step = (r: ChangeResult) => {
    scratch.config = r.config;
    scratch.progress = r.progress;
  };
  const chg = new Changer(scratch, lastIndex);
  const incoming: ConfChangeSingle[] = [];
  for (const id of cs.votersOutgoing) incoming.push({ type: 'removeNode', nodeId: id });
  for (const id of cs.voters) incoming.push({ type: 'addNode', nodeId: id });
  for (const id of cs.learners) incoming.push({ type: 'addLearnerNode', nodeId: id });
  for (const id of cs.learnersNext) incoming.push({ type: 'addLearnerNode', nodeId: id });
  if (cs.votersOutgoing.length === 0) {
    for (const cc of incoming) step(chg.simple([cc]));
  } else {
    for (const id of cs.votersOutgoing) step(chg.simple([{ type: 'addNode', nodeId: id }]));
    step(chg.enterJoint(cs.autoLeave, incoming));
  }
  return { config: scratch.config, progress: scratch.progress };
}
