/**
 * @module
 * The SQLite side of the accounting: every sequence number the history database holds,
 * per device, read block by block with the sink's own block codec.
 */

import { DatabaseSync } from "node:sqlite";
import { decodeBlock } from "../../sinks/sqlite/codec.ts";
import { receive, type Received } from "./accounting.ts";

/** Every record's sequence number in the history at `path`, per device. */
export function historySequences(path: string): Received {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const received: Received = new Map();
    const rows = db.prepare(
      "SELECT d.name AS device, b.data AS data FROM blocks b JOIN devices d ON d.id = b.device_id",
    ).iterate() as Iterable<{ device: string; data: Uint8Array }>;
    for (const { device, data } of rows) {
      const block = decodeBlock(data);
      for (let j = 0; j < block.n; j++) receive(received, device, block.seq(j));
    }
    return received;
  } finally {
    db.close();
  }
}
