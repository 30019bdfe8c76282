// worker_threads entry for AudioConverter: runs one codec call per message and posts the result
// back with its ArrayBuffer transferred, or the error as plain fields (Error objects lose their
// class crossing threads, and the caller needs to know a BadRequest from a bug).

import { parentPort } from "node:worker_threads";
import { mp3ToWav, wavToMp3 } from "./codec.js";

export type ConvertOp = "wavToMp3" | "mp3ToWav";
export interface ConvertRequest {
  id: number;
  op: ConvertOp;
  data: Uint8Array;
}
export type ConvertResponse =
  | { id: number; data: Uint8Array }
  | { id: number; error: { name: string; message: string; developerMessage?: string } };

const ops: Record<ConvertOp, (data: Uint8Array) => Uint8Array | Promise<Uint8Array>> = { wavToMp3, mp3ToWav };

function ownBuffer(data: Uint8Array): Uint8Array {
  // Only a view spanning its whole ArrayBuffer can be transferred without dragging extra bytes.
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}

parentPort!.on("message", async ({ id, op, data }: ConvertRequest) => {
  try {
    const out = ownBuffer(await ops[op](data));
    parentPort!.postMessage({ id, data: out } satisfies ConvertResponse, [out.buffer as ArrayBuffer]);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const developerMessage = (e as { developerMessage?: string }).developerMessage;
    parentPort!.postMessage({ id, error: { name: e.name, message: e.message, developerMessage } } satisfies ConvertResponse);
  }
});
