// The safetensors format (huggingface/safetensors), written and read without dependencies:
//   8 bytes: N, the header length, unsigned little-endian 64-bit
//   N bytes: UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
//            padded with spaces so the data start 8-byte aligned
//   the data: each tensor's bytes, little-endian, row-major, offsets relative to the end of the header,
//            contiguous and in order, covering the buffer with no gaps.
// Pure Uint8Array code: the browser uses it to export weights.

export type SafetensorsDtype = "F32" | "F64";

export interface Tensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8 };

export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length)
      throw new SafetensorsError(
        `tensor ${name}: shape ${t.shape} needs ${expected} values, got ${t.data.length}`,
      );
    if ((t.dtype === "F32") !== t.data instanceof Float32Array)
      throw new SafetensorsError(`tensor ${name}: data does not match dtype ${t.dtype}`);
    const size = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const pad = (8 - ((8 + headerBytes.length) % 8)) % 8;
  json += " ".repeat(pad);
  headerBytes = encoder.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name];
    const width = BYTES[t.dtype];
    for (let j = 0; j < t.data.length; j++, pos += width) {
      if (t.dtype === "F32") view.setFloat32(pos, t.data[j], true);
      else view.setFloat64(pos, t.data[j], true);
    }
  }
  return out;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A list of at most `maxLength` non-negative safe integers. */
function isCountList(x: unknown, maxLength: number): x is number[] {
  return Array.isArray(x) && x.length <= maxLength && x.every((v) => Number.isSafeInteger(v) && v >= 0);
}

export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  if (bytes.length < 8) throw new SafetensorsError("file shorter than the 8-byte header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new SafetensorsError(`header length ${n} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new SafetensorsError("header is not valid JSON");
  }
  if (!isObject(header)) throw new SafetensorsError("header is not a JSON object");
  const dataStart = 8 + n;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isObject(entry) || !Object.values(entry).every((v) => typeof v === "string"))
        throw new SafetensorsError("__metadata__ is not an object of strings");
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isObject(entry)) throw new SafetensorsError(`tensor ${name}: entry is not an object`);
    const { dtype, shape, data_offsets } = entry;
    if (dtype !== "F32" && dtype !== "F64")
      throw new SafetensorsError(`tensor ${name}: unsupported dtype ${String(dtype)}`);
    if (
      !isCountList(shape, Number.POSITIVE_INFINITY) ||
      !isCountList(data_offsets, 2) ||
      data_offsets.length !== 2
    )
      throw new SafetensorsError(`tensor ${name}: shape and data_offsets must be lists of integers ≥ 0`);
    const [begin, end] = data_offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype] || dataStart + end > bytes.length) {
      throw new SafetensorsError(`tensor ${name}: data_offsets ${begin}..${end} do not fit shape ${shape}`);
    }
    const data = dtype === "F32" ? new Float32Array(count) : new Float64Array(count);
    for (let j = 0; j < count; j++) {
      const pos = dataStart + begin + j * BYTES[dtype];
      data[j] = dtype === "F32" ? view.getFloat32(pos, true) : view.getFloat64(pos, true);
    }
    tensors[name] = { dtype, shape, data };
  }
  return { tensors, metadata };
}
