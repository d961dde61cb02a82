/**
 * Little-endian byte views of typed arrays. The wire carries raw little-endian bytes; on the (little-endian) hosts
 * we run on these are zero-copy views where alignment allows, and a copy where it does not: a `bin` decoded by
 * msgpack is a view into the message buffer at whatever offset it had there.
 * @module
 */

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian bytes of a Float32Array (a view when the host is little-endian, else a swapped copy). */
export function float32ToBytesLE(values: Float32Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/**
 * Float32 values of little-endian bytes. A view when the bytes are 4-aligned on a little-endian host; otherwise a
 * copy (a Float32Array cannot start at an unaligned offset).
 * @throws {RangeError} when the byte length is not a multiple of 4.
 */
export function bytesToFloat32LE(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`float32 data needs a multiple of 4 bytes, got ${bytes.length}`);
  const n = bytes.byteLength / 4;
  if (HOST_IS_LITTLE_ENDIAN) {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    return new Float32Array(bytes.slice().buffer, 0, n);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The little-endian bytes of uint16 words (float16 bit patterns). */
export function uint16ToBytesLE(words: Uint16Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const out = new Uint8Array(words.length * 2);
  for (let i = 0; i < words.length; i++) {
    out[2 * i] = words[i]! & 0xff;
    out[2 * i + 1] = words[i]! >>> 8;
  }
  return out;
}

/**
 * Uint16 words of little-endian bytes (a view when aligned on a little-endian host, else a copy).
 * @throws {RangeError} when the byte length is odd.
 */
export function bytesToUint16LE(bytes: Uint8Array): Uint16Array {
  if (bytes.byteLength % 2 !== 0) throw new RangeError(`uint16 data needs an even byte count, got ${bytes.length}`);
  const n = bytes.byteLength / 2;
  if (HOST_IS_LITTLE_ENDIAN) {
    if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    return new Uint16Array(bytes.slice().buffer, 0, n);
  }
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
  return out;
}
