// The member book: what conf changes and snapshots carry about members' addresses, and how
// bad records are refused.

import { confStateOf } from '@keel/raft';
import { decodeAddContext, encodeAddContext, MemberBook, MembershipError, parseMemberAddress, REMOVED_MAX, ShardMember } from '../src/replication/membership';

const m = (id: number, port = 7000 + id): ShardMember => ({ id, host: '127.0.0.1', clusterPort: port + 10000, clientAddress: `127.0.0.1:${port}` });

describe('member addresses', () => {
  test('host:port[@clusterport], the cluster port defaulting to port + 10000', () => {
    expect(parseMemberAddress(4, '127.0.0.1:7004')).toEqual({ id: 4, host: '127.0.0.1', clusterPort: 17004, clientAddress: '127.0.0.1:7004' });
    expect(parseMemberAddress(4, 'node-4.example:7004@9000')).toEqual({ id: 4, host: 'node-4.example', clusterPort: 9000, clientAddress: 'node-4.example:7004' });
    for (const bad of ['', '7004', ':7004', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:7004@0', '127.0.0.1:60000', 'a b:1', 'h,x:1', '127.0.0.1:7004@', '127.0.0.1:7004@99999']) {
      expect(() => parseMemberAddress(4, bad)).toThrow(MembershipError);
    }
  });

  test('an add context round-trips; anything else decodes to null', () => {
    expect(decodeAddContext(encodeAddContext(m(4)))).toEqual(m(4));
    for (const ctx of ['', 'x', '{}', '{"v":2,"member":{}}', '{"v":1,"member":{"id":0,"host":"h","clusterPort":1}}', '{"v":1,"member":{"id":4,"host":"","clusterPort":1}}', '{"v":1,"member":{"id":4,"host":"h","clusterPort":70000}}']) {
      expect(decodeAddContext(ctx)).toBeNull();
    }
    expect(() => encodeAddContext({ id: 4, host: 'bad host', clusterPort: 1 })).toThrow(MembershipError);
  });
});

describe('the book', () => {
  test('encode / decode round-trips members and removed ids; bad books are refused', () => {
    const b = MemberBook.of([m(1), m(2), m(3)]);
    b.remove(2, 50);
    const d = MemberBook.decode(b.encode());
    expect(d.list()).toEqual([m(1), m(3)]);
    expect(d.removedIndex(2)).toBe(50);
    expect(d.encode()).toBe(b.encode());
    for (const bad of ['', '[]', 'null', '{"v":2,"members":[],"removed":[]}', '{"v":1,"members":[]}', '{"v":1,"members":[{"id":"x"}],"removed":[]}', '{"v":1,"members":[],"removed":[[1]]}']) {
      expect(() => MemberBook.decode(bad)).toThrow(MembershipError);
    }
  });

  test('conf changes: a learner added with its address, promoted without one, removed', () => {
    const b = MemberBook.of([m(1), m(2), m(3)]);
    b.applyConfChange({ transition: 'auto', changes: [{ type: 'addLearnerNode', nodeId: 4 }], context: encodeAddContext(m(4)) }, 10, confStateOf([1, 2, 3], [4]));
    expect(b.get(4)).toEqual(m(4));
    b.applyConfChange({ transition: 'auto', changes: [{ type: 'addNode', nodeId: 4 }] }, 11, confStateOf([1, 2, 3, 4]));
    expect(b.get(4)).toEqual(m(4));
    b.applyConfChange({ transition: 'auto', changes: [{ type: 'removeNode', nodeId: 2 }] }, 12, confStateOf([1, 3, 4]));
    expect(b.list().map((x) => x.id)).toEqual([1, 3, 4]);
    expect(b.removedIndex(2)).toBe(12);
    expect(b.removedIds()).toEqual([2]);
    // A context for another node does not give this one an address.
    b.applyConfChange({ transition: 'auto', changes: [{ type: 'addLearnerNode', nodeId: 5 }], context: encodeAddContext(m(6)) }, 13, confStateOf([1, 3, 4], [5]));
    expect(b.has(5)).toBe(false);
    expect(b.has(6)).toBe(false);
  });

  test('removed ids are bounded, oldest forgotten first', () => {
    const b = MemberBook.of([m(1)]);
    for (let i = 0; i < REMOVED_MAX + 10; i++) b.remove(100 + i, i);
    expect(b.removedIds().length).toBe(REMOVED_MAX);
    expect(b.removedIndex(100)).toBeUndefined();
    expect(b.removedIndex(100 + REMOVED_MAX + 9)).toBe(REMOVED_MAX + 9);
  });
});
