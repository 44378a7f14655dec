// Glob-style matching with the semantics of Redis's stringmatchlen (util.c), used by KEYS,
// SCAN MATCH and PSUBSCRIBE. Patterns and subjects are binary strings (one char per byte).
//
//   *        any run of bytes, but only a non-empty subject: Redis's loop needs one byte of
//            subject to start, so "*" does not match "" (KEYS and SCAN short-cut "*" itself)
//   ?        exactly one byte
//   [abc]    one of the listed bytes; [^abc] any other byte; [a-z] a range, either way round
//   \x       the byte x itself, outside or inside a class
//
// Quirks kept on purpose: "[]" is an empty class that matches nothing; an unterminated class
// ("[ab") is closed at the end of the pattern; a range compares bytes as C's signed char (as on
// x86, where bytes >= 0x80 sort below 0x00); nocase lowercases ASCII letters only.
//
// Bounds: consecutive stars collapse, a failed tail stops every shorter star from trying longer
// matches (Redis's skipLongerMatches), and the recursion, one level a star, stops at
// NESTING_MAX levels as Redis does since CVE-2024-31228 (a deeper pattern does not match). So the
// work is O(pattern × subject) and the stack depth at most NESTING_MAX frames.

const STAR = 0x2a;
const QUESTION = 0x3f;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;

/** Deepest star nesting a pattern may have; Redis's limit. */
export const GLOB_NESTING_MAX = 1000;

/** True if the binary string s matches the glob pattern, exactly as Redis's stringmatchlen. */
export function globMatch(pattern: string, s: string, nocase = false): boolean {
  const state = { skipLongerMatches: false };
  return matchFrom(pattern, 0, s, 0, nocase, state, 0);
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/** A byte as C's (signed) char. */
function signed(c: number): number {
  return c >= 0x80 ? c - 0x100 : c;
}

function matchFrom(pat: string, p: number, str: string, s: number, nocase: boolean, state: { skipLongerMatches: boolean }, nesting: number): boolean {
  if (nesting > GLOB_NESTING_MAX) return false;
  const pEnd = pat.length;
  const sEnd = str.length;
  // C reads the pattern's NUL terminator past its end; so do we, as 0.
  const pc = (i: number): number => (i < pEnd ? pat.charCodeAt(i) : 0);

  while (p < pEnd && s < sEnd) {
    switch (pat.charCodeAt(p)) {
      case STAR: {
        while (pc(p + 1) === STAR) p++;
        if (pEnd - p === 1) return true;
        while (s < sEnd) {
          if (matchFrom(pat, p + 1, str, s, nocase, state, nesting + 1)) return true;
          if (state.skipLongerMatches) return false;
          s++;
        }
        // The rest of the pattern matches nowhere in the rest of the subject, so no earlier
        // star can succeed by matching more.
        state.skipLongerMatches = true;
        return false;
      }
      case QUESTION:
        s++;
        break;
      case LBRACKET: {
        p++;
        const not = pc(p) === CARET;
        if (not) p++;
        const c = str.charCodeAt(s);
        let match = false;
        for (;;) {
          const left = pEnd - p;
          const pch = pc(p);
          if (pch === BACKSLASH && left >= 2) {
            p++;
            if (pc(p) === c) match = true;
          } else if (pch === RBRACKET) {
            break;
          } else if (left === 0) {
            // Unterminated class: step back onto its last byte, consumed below.
            p--;
            break;
          } else if (left >= 3 && pc(p + 1) === DASH) {
            let start = signed(pch);
            let end = signed(pc(p + 2));
            let x = signed(c);
            if (start > end) [start, end] = [end, start];
            if (nocase) {
              start = lower(start);
              end = lower(end);
              x = lower(x);
            }
            p += 2;
            if (x >= start && x <= end) match = true;
          } else if (nocase ? lower(pch) === lower(c) : pch === c) {
            match = true;
          }
          p++;
        }
        if (not) match = !match;
        if (!match) return false;
        s++;
        break;
      }
      default: {
        // A backslash escapes the next byte (a trailing one is itself).
        if (pat.charCodeAt(p) === BACKSLASH && pEnd - p >= 2) p++;
        const pch = pat.charCodeAt(p);
        const c = str.charCodeAt(s);
        if (nocase ? lower(pch) !== lower(c) : pch !== c) return false;
        s++;
        break;
      }
    }
    p++;
    if (s === sEnd) {
      while (pc(p) === STAR) p++;
      break;
    }
  }
  return p === pEnd && s === sEnd;
}
