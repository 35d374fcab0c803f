/**
 * A structural check of untrusted msgpack, run before msgpackr decodes a handshake or control
 * frame. msgpackr preallocates an array of the length a header claims: a 6-byte payload claiming
 * 2^24 elements costs it ~130 MB before it notices the data is missing (measured). This walk
 * allocates nothing, refuses containers claiming more elements than bytes remain, nesting deeper
 * than `depthMax`, extension types (handshake and control payloads never carry any, and
 * msgpackr's extensions build Errors, RegExps and typed arrays) and trailing bytes.
 *
 * TUPLES frames skip it: they come from authenticated peers only, and the walk would cost a
 * second pass over the hot path's bytes.
 */
export function isPlainMsgpack(buf: Uint8Array, start: number, end: number, depthMax = 8): boolean {
  return skip(buf, start, end, depthMax) === end;
}

/** Position after the value at `pos`, or -1 when it is not plain, complete msgpack. */
function skip(b: Uint8Array, pos: number, end: number, depth: number): number {
  if (pos >= end || depth < 0) return -1;
  const t = b[pos];
  if (t <= 0x7f || t >= 0xe0) return pos + 1; // fixints
  if (t <= 0x8f) return skipItems(b, pos + 1, end, (t & 0x0f) * 2, depth);
  if (t <= 0x9f) return skipItems(b, pos + 1, end, t & 0x0f, depth);
  if (t <= 0xbf) return within(pos + 1 + (t & 0x1f), end);
  switch (t) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return pos + 1;
    case 0xc4: // bin8
    case 0xd9: // str8
      return pos + 2 <= end ? within(pos + 2 + b[pos + 1], end) : -1;
    case 0xc5: // bin16
    case 0xda: // str16
      return pos + 3 <= end ? within(pos + 3 + u16(b, pos + 1), end) : -1;
    case 0xc6: // bin32
    case 0xdb: // str32
      return pos + 5 <= end ? within(pos + 5 + u32(b, pos + 1), end) : -1;
    case 0xca: // float32
    case 0xce: // uint32
    case 0xd2: // int32
      return within(pos + 5, end);
    case 0xcb: // float64
    case 0xcf: // uint64
    case 0xd3: // int64
      return within(pos + 9, end);
    case 0xcc: // uint8
    case 0xd0: // int8
      return within(pos + 2, end);
    case 0xcd: // uint16
    case 0xd1: // int16
      return within(pos + 3, end);
    case 0xdc: // array16
      return pos + 3 <= end ? skipItems(b, pos + 3, end, u16(b, pos + 1), depth) : -1;
    case 0xdd: // array32
      return pos + 5 <= end ? skipItems(b, pos + 5, end, u32(b, pos + 1), depth) : -1;
    case 0xde: // map16
      return pos + 3 <= end ? skipItems(b, pos + 3, end, u16(b, pos + 1) * 2, depth) : -1;
    case 0xdf: // map32
      return pos + 5 <= end ? skipItems(b, pos + 5, end, u32(b, pos + 1) * 2, depth) : -1;
    default: // 0xc1 (never used) and every extension type
      return -1;
  }
}

function skipItems(b: Uint8Array, pos: number, end: number, count: number, depth: number): number {
  if (count > end - pos) return -1; // every element takes at least one byte
  for (let i = 0; i < count; i++) {
    pos = skip(b, pos, end, depth - 1);
    if (pos < 0) return -1;
  }
  return pos;
}

function within(next: number, end: number): number {
  return next <= end ? next : -1;
}

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}
