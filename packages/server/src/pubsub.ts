// Publish/subscribe: channels and patterns, and the messages delivered to subscribers.
// Messages are RESP3 pushes (or RESP2 arrays) written into each subscriber's output.
// Pub/sub is node-local and not replicated, as in a Redis primary.

import { globMatch } from '@keel/engine';
import type { Client } from './client';

export class PubSub {
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();

  subscribe(client: Client, channel: string): void {
    if (!client.channels.has(channel)) {
      client.channels.add(channel);
      let set = this.channels.get(channel);
      if (set === undefined) this.channels.set(channel, (set = new Set()));
      set.add(client);
    }
    this.confirm(client, 'subscribe', channel);
  }

  unsubscribe(client: Client, channel: string, notify = true): void {
    if (client.channels.delete(channel)) {
      const set = this.channels.get(channel)!;
      set.delete(client);
      if (set.size === 0) this.channels.delete(channel);
    }
    if (notify) this.confirm(client, 'unsubscribe', channel);
  }

  psubscribe(client: Client, pattern: string): void {
    if (!client.patterns.has(pattern)) {
      client.patterns.add(pattern);
      let set = this.patterns.get(pattern);
      if (set === undefined) this.patterns.set(pattern, (set = new Set()));
      set.add(client);
    }
    this.confirm(client, 'psubscribe', pattern);
  }

  punsubscribe(client: Client, pattern: string, notify = true): void {
    if (client.patterns.delete(pattern)) {
      const set = this.patterns.get(pattern)!;
      set.delete(client);
      if (set.size === 0) this.patterns.delete(pattern);
    }
    if (notify) this.confirm(client, 'punsubscribe', pattern);
  }

  /** UNSUBSCRIBE with no arguments: every channel, or one null confirmation if none. */
  unsubscribeEverything(client: Client, kind: 'unsubscribe' | 'punsubscribe'): void {
    const names = kind === 'unsubscribe' ? [...client.channels] : [...client.patterns];
    if (names.length === 0) {
      client.out.push(3);
      client.out.bulk(kind);
      client.out.nullBulk();
      client.out.integer(client.subscriptionCount);
      return;
    }
    for (const n of names) {
      if (kind === 'unsubscribe') this.unsubscribe(client, n);
      else this.punsubscribe(client, n);
    }
  }

  /** Drops every subscription of a client that is going away, without replies. */
  unsubscribeAll(client: Client): void {
    for (const ch of [...client.channels]) this.unsubscribe(client, ch, false);
    for (const p of [...client.patterns]) this.punsubscribe(client, p, false);
  }

  /** Delivers a message; returns the number of clients that received it. */
  publish(channel: string, message: string): number {
    let receivers = 0;
    const subs = this.channels.get(channel);
    if (subs !== undefined) {
      for (const c of subs) {
        c.out.push(3);
        c.out.bulk('message');
        c.out.bulk(channel);
        c.out.bulk(message);
        c.scheduleFlush();
        receivers++;
      }
    }
    for (const [pattern, clients] of this.patterns) {
      if (!globMatch(pattern, channel)) continue;
      for (const c of clients) {
        c.out.push(4);
        c.out.bulk('pmessage');
        c.out.bulk(pattern);
        c.out.bulk(channel);
        c.out.bulk(message);
        c.scheduleFlush();
        receivers++;
      }
    }
    return receivers;
  }

  private confirm(client: Client, kind: string, name: string): void {
    client.out.push(3);
    client.out.bulk(kind);
    client.out.bulk(name);
    client.out.integer(client.subscriptionCount);
  }
}
