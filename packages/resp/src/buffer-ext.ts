// Node's Buffer has latin1Slice/latin1Write (the methods behind toString('latin1') and
// write(s, o, 'latin1')) without the encoding dispatch; @types/node does not declare them.
// Keel uses them on the hot path to turn bytes into binary strings and back.

declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(s: string, offset?: number, length?: number): number;
  }
}

export {};
