/**
 * @module
 * What an edge node announces: its devices and their metrics (alias, datatype, writable,
 * last value), built from the engine's catalog and kept up to date by the records that
 * flow through. It builds the birth and DDATA payloads; sequence numbers and topics belong
 * to the session.
 *
 * Aliases are unique across the whole edge node (1, 2, … in catalog order; the node's own
 * metrics carry none). A record for a tag the catalog does not hold (a step's output) adds a
 * metric, and an integer-typed tag that receives a fraction (scaling turns an int16
 * register into engineering units) is re-typed Double: both bump {@linkcode NodeModel.version},
 * which makes the session publish new births before the next DDATA.
 */

import { type Batch, type Catalog, type Logger, Quality, type Value } from "../../engine/plugin.ts";
import {
  dataTypeName,
  inferDataType,
  isIntegerType,
  tagDataType,
  toMetricValue,
} from "./datatypes.ts";
import { DataType, type DataTypeCode, type Metric } from "./payload.ts";

/** One device metric. */
export interface MetricDef {
  device: string;
  tag: string;
  alias: number;
  datatype: DataTypeCode;
  writable: boolean;
  unit?: string;
  /** Newest value written to the sink (for births). */
  last?: { value: Value; bad: boolean; ts: number };
}

/** A device of the edge node. */
export interface DeviceDef {
  /** Bifrost device name. */
  name: string;
  /** Sparkplug device id (the name with `/`, `+`, `#` replaced by `_`). */
  id: string;
  metrics: Map<string, MetricDef>;
}

/** One DDATA message to publish: a device and its metrics. */
export interface DataMessage {
  device: DeviceDef;
  metrics: Metric[];
}

/** A Sparkplug device id for a Bifrost device name. */
export function sparkplugId(name: string): string {
  return name.replace(/[/+#]/g, "_");
}

/** The devices and metrics of an edge node. */
export class NodeModel {
  /** Bumped whenever the set of metrics or a datatype changes (births must be re-sent). */
  version = 0;
  readonly devices = new Map<string, DeviceDef>();
  readonly #byId = new Map<string, DeviceDef>();
  readonly #byAlias = new Map<number, MetricDef>();
  readonly #log: Logger;
  #nextAlias = 1;

  constructor(catalog: Catalog, log: Logger) {
    this.#log = log;
    for (const [device, tags] of catalog) {
      this.#device(device);
      for (const t of tags) {
        const dt = tagDataType(t.type);
        if (dt === undefined) {
          log.warn(
            `Tag "${t.name}" of "${device}" has type "${t.type}" with no Sparkplug datatype: published as String`,
          );
        }
        this.#add(device, t.name, dt ?? DataType.String, t.writable, t.unit);
      }
    }
  }

  #device(name: string): DeviceDef {
    let d = this.devices.get(name);
    if (!d) {
      d = { name, id: sparkplugId(name), metrics: new Map() };
      this.devices.set(name, d);
      this.#byId.set(d.id, d);
    }
    return d;
  }

  #add(device: string, tag: string, dt: DataTypeCode, writable: boolean, unit?: string): MetricDef {
    const def: MetricDef = { device, tag, alias: this.#nextAlias++, datatype: dt, writable };
    if (unit !== undefined) def.unit = unit;
    this.#device(device).metrics.set(tag, def);
    this.#byAlias.set(def.alias, def);
    this.version++;
    return def;
  }

  /** The metric of a record, added or re-typed when the record requires it. */
  observe(device: string, tag: string, value: Value): MetricDef {
    const def = this.devices.get(device)?.metrics.get(tag);
    if (!def) {
      const dt = inferDataType(value);
      this.#log.info(
        `Sparkplug metric "${tag}" of "${device}" added as ${dataTypeName(dt)}: not in the catalog`,
      );
      return this.#add(device, tag, dt, false);
    }
    if (
      isIntegerType(def.datatype) && typeof value === "number" && Number.isFinite(value) &&
      !Number.isInteger(value)
    ) {
      this.#log.info(
        `Sparkplug metric "${tag}" of "${device}" re-typed Double: its ${
          dataTypeName(def.datatype)
        } tag carries ${value} (scaled)`,
      );
      def.datatype = DataType.Double;
      this.version++;
    }
    return def;
  }

  /** Records the newest values of a batch (for births). */
  remember(b: Batch): void {
    for (let i = 0; i < b.length; i++) {
      const v = b.value(i);
      const def = this.observe(b.device[i]!, b.tag[i]!, v);
      const ts = b.sourceTs[i]!;
      if (!def.last || ts >= def.last.ts) {
        def.last = { value: v, bad: b.quality[i] === Quality.bad, ts };
      }
    }
  }

  /** The device with Sparkplug id `id`. */
  deviceById(id: string): DeviceDef | undefined {
    return this.#byId.get(id);
  }

  /** The metric a command names, by alias or by name. */
  resolve(device: DeviceDef, m: Metric): MetricDef | undefined {
    if (m.alias !== undefined) {
      const def = this.#byAlias.get(Number(m.alias));
      if (def && def.device === device.name) return def;
    }
    return m.name === undefined ? undefined : device.metrics.get(m.name);
  }

  /** DBIRTH metrics of a device: every metric with name, alias, datatype and last value. */
  birthMetrics(device: DeviceDef, now: number): Metric[] {
    const out: Metric[] = [];
    for (const def of device.metrics.values()) {
      const last = def.last;
      const m: Metric = {
        name: def.tag,
        alias: def.alias,
        timestamp: last?.ts ?? now,
        datatype: def.datatype,
        value: last && !last.bad ? toMetricValue(def.datatype, last.value) : null,
      };
      if (def.unit !== undefined) m.properties = { engUnit: def.unit };
      out.push(m);
    }
    return out;
  }

  /**
   * DDATA messages for records of a batch, in order per device: aliases only, timestamp =
   * source time, bad quality as `is_null`. A message ends when it would hold a second value
   * of one metric or more than `maxMetrics` metrics. `historical(i)` says whether record
   * `i` waited through an outage.
   */
  dataMessages(b: Batch, historical: (i: number) => boolean, maxMetrics: number): DataMessage[] {
    const open = new Map<string, { msg: DataMessage; aliases: Set<number> }>();
    const out: DataMessage[] = [];
    for (let i = 0; i < b.length; i++) {
      const def = this.observe(b.device[i]!, b.tag[i]!, b.value(i));
      let cur = open.get(def.device);
      if (!cur || cur.aliases.has(def.alias) || cur.msg.metrics.length >= maxMetrics) {
        cur = { msg: { device: this.devices.get(def.device)!, metrics: [] }, aliases: new Set() };
        open.set(def.device, cur);
        out.push(cur.msg);
      }
      cur.aliases.add(def.alias);
      const m: Metric = {
        alias: def.alias,
        timestamp: b.sourceTs[i]!,
        datatype: def.datatype,
        value: b.quality[i] === Quality.bad ? null : toMetricValue(def.datatype, b.value(i)),
      };
      if (historical(i)) m.isHistorical = true;
      cur.msg.metrics.push(m);
    }
    return out;
  }
}
