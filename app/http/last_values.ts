/**
 * @module
 * The last value of every tag, fed by a Gateway tap on the polls and subscriptions (never on
 * steps, whose records may be renamed or derived). Cheap per record: two map lookups and a
 * few field stores into an entry allocated once per tag.
 */

import { type Batch, QUALITY_NAMES, type QualityName, type Value } from "../../engine/record.ts";

/** A tag's last value. */
export interface LastValue {
  value: Value;
  quality: QualityName;
  reason: string | undefined;
  sourceTs: number;
  gatewayTs: number;
}

/** Last values by device, then tag. */
export class LastValues {
  #by = new Map<string, Map<string, LastValue>>();

  /** Takes in a batch (the tap's callback). */
  update(batch: Batch): void {
    let device = "";
    let tags: Map<string, LastValue> | undefined;
    for (let i = 0; i < batch.length; i++) {
      const d = batch.device[i]!;
      if (d !== device || !tags) {
        device = d;
        tags = this.#by.get(d);
        if (!tags) this.#by.set(d, tags = new Map());
      }
      const t = batch.tag[i]!;
      let e = tags.get(t);
      if (!e) {
        tags.set(
          t,
          e = { value: null, quality: "bad", reason: undefined, sourceTs: 0, gatewayTs: 0 },
        );
      }
      e.value = batch.value(i);
      e.quality = QUALITY_NAMES[batch.quality[i]!] ?? "bad";
      e.reason = batch.reason[i];
      e.sourceTs = batch.sourceTs[i]!;
      e.gatewayTs = batch.gatewayTs[i]!;
    }
  }

  /** The last value of a tag, if any was seen. */
  get(device: string, tag: string): LastValue | undefined {
    return this.#by.get(device)?.get(tag);
  }
}
