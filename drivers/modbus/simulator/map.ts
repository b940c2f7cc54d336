/**
 * @module
 * The register map of the Modbus simulator, from code or from YAML.
 *
 * YAML format (`bifrost sim modbus --map sim.yaml`):
 *
 * ```yaml
 * update: 100ms          # how often generators run (default 100ms)
 * units:
 *   1:                   # unit id
 *     HR0: { type: float32, generator: sine, min: 0, max: 100, period: 10s }
 *     HR2: { type: uint32, order: CDAB, generator: counter, step: 7 }
 *     HR10: { type: int16, value: -5 }        # a constant
 *     HR20: { type: string, length: 8, value: "BOILER-1" }
 *     HR30.3: { generator: square, period: 2s } # a register bit
 *     C0: { generator: square, period: 20s }    # coils and discrete inputs are bools
 *     IR0: { type: float64, generator: random-walk, min: 0, max: 10, step: 0.1 }
 *   2: {}
 * ```
 *
 * Keys are any address the driver accepts (`HR100`, `40101`, `HR100.3`…). `type` defaults
 * to `bool` for bits and `uint16` for registers, `order` to `ABCD`. A point without
 * `generator` holds `value` (default 0). Generator fields: see `simulators/generators.ts`.
 */

import { isRegisterTable, type ModbusAddress, parseAddress } from "../core/address.ts";
import { BYTE_ORDERS, type ByteOrder, DATA_TYPES, type DataType } from "../core/spec.ts";
import {
  checkGeneratorSpec,
  type GeneratorName,
  type GeneratorSpec,
} from "../../../simulators/generators.ts";

/** One point of the map as written. */
export interface PointSpec {
  type?: DataType;
  order?: ByteOrder;
  /** String length in registers. */
  length?: number;
  generator?: GeneratorName;
  value?: number | boolean | string | bigint;
  min?: number;
  max?: number;
  period?: string | number;
  step?: number;
  every?: string | number;
  seed?: number;
}

/** A register map: points by address, per unit id. */
export interface SimulatorMap {
  /** Generator update interval (duration string or ms). */
  update?: string | number;
  units: Record<string | number, Record<string, PointSpec>>;
}

/** A point, checked and resolved. */
export interface Point {
  unitId: number;
  key: string;
  address: ModbusAddress;
  type: DataType;
  order: ByteOrder;
  length: number;
  /** The generator, or undefined for a constant point. */
  generator: GeneratorSpec | undefined;
  value: number | boolean | string | bigint;
}

/** Checks and resolves a map; throws a `RangeError` naming the unit and address. */
export function resolveMap(map: SimulatorMap): Point[] {
  const points: Point[] = [];
  for (const [unitKey, unit] of Object.entries(map.units ?? {})) {
    const unitId = Number(unitKey);
    if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) {
      throw new RangeError(`Cannot use unit id "${unitKey}": expected an integer 0..255`);
    }
    for (const [key, spec] of Object.entries(unit ?? {})) {
      const where = `unit ${unitId}, ${key}`;
      try {
        points.push(resolvePoint(unitId, key, spec ?? {}));
      } catch (e) {
        throw new RangeError(`Cannot load simulator point (${where}): ${(e as Error).message}`);
      }
    }
  }
  return points;
}

function resolvePoint(unitId: number, key: string, spec: PointSpec): Point {
  const address = parseAddress(key);
  const bitLike = !isRegisterTable(address.table) || address.bit !== undefined;
  const type = spec.type ?? (bitLike ? "bool" : "uint16");
  if (!DATA_TYPES.includes(type)) throw new RangeError(`unknown type "${type}"`);
  if (bitLike && type !== "bool") throw new RangeError(`a bit holds a bool, not ${type}`);
  if (!bitLike && type === "bool") throw new RangeError(`a register holds numbers; name a bit`);
  const order = spec.order ?? "ABCD";
  if (!BYTE_ORDERS.includes(order)) throw new RangeError(`unknown byte order "${order}"`);
  const length = spec.length ?? 1;
  let generator: GeneratorSpec | undefined;
  if (spec.generator !== undefined) {
    const { type: _t, order: _o, length: _l, ...g } = spec;
    generator = g as GeneratorSpec;
    checkGeneratorSpec(generator);
  }
  return {
    unitId,
    key,
    address,
    type,
    order,
    length,
    generator,
    value: spec.value ?? (type === "string" ? "" : type === "bool" ? false : 0),
  };
}
