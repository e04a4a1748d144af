// JSON-RPC over a stream (RFC 7047 §4) has no length prefix: messages are JSON values written one
// after another. This splits a byte stream into those values incrementally (pure, no I/O): it
// tracks string/escape state and bracket depth, so a value may arrive in any number of chunks.
import { StringDecoder } from 'node:string_decoder';

export class FramingError extends Error {}

/** Feeds bytes in, gets complete JSON values out. One instance per connection. */
export class JsonStream {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  /** Where scanning resumes in buf, and the scanner's state there. */
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** @param maxBytes a value larger than this is an error (a broken peer must not eat memory). */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** The complete values the chunk finished (possibly none). Throws FramingError on bad input. */
  push(chunk: Buffer | string): unknown[] {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: unknown[] = [];
    let start = 0;
    for (let i = this.pos; i < this.buf.length; i++) {
      const c = this.buf.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        // Between values: whitespace is skipped; only objects and arrays are JSON-RPC messages.
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) { start = i + 1; continue; }
        if (c !== 0x7b /* { */ && c !== 0x5b /* [ */) {
          throw new FramingError(`JSON stream: expected '{' or '[' between messages, got ${JSON.stringify(this.buf[i])}`);
        }
        start = i;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          const text = this.buf.slice(start, i + 1);
          try { out.push(JSON.parse(text)); } catch (e) {
            throw new FramingError(`JSON stream: a message does not parse (${(e as Error).message}): ${text.slice(0, 200)}`);
          }
          start = i + 1;
        }
      }
    }
    // Keep only the unfinished value; resume scanning where we stopped.
    this.buf = this.depth === 0 && !this.inString ? this.buf.slice(Math.max(start, this.buf.length)) : this.buf.slice(start);
    this.pos = this.buf.length;
    if (this.buf.length > this.maxBytes) throw new FramingError(`JSON stream: a message is over ${this.maxBytes} bytes`);
    return out;
  }

  /** Bytes of an unfinished value held (0 between messages). */
  pending(): number { return this.buf.length; }
}
