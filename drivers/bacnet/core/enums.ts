/**
 * @module
 * BACnet code tables (ASHRAE 135) as `as const` objects: object types, property
 * identifiers, engineering units, error classes and codes, reliability, segmentation. Names
 * are the standard's, in kebab case (`analog-input`, `present-value`), as flows write them.
 */

/** Object types by name (the ones a gateway reads; any number is accepted as `type-N`). */
export const ObjectType = {
  "analog-input": 0,
  "analog-output": 1,
  "analog-value": 2,
  "binary-input": 3,
  "binary-output": 4,
  "binary-value": 5,
  calendar: 6,
  command: 7,
  device: 8,
  "event-enrollment": 9,
  file: 10,
  group: 11,
  loop: 12,
  "multi-state-input": 13,
  "multi-state-output": 14,
  "notification-class": 15,
  program: 16,
  schedule: 17,
  averaging: 18,
  "multi-state-value": 19,
  "trend-log": 20,
  accumulator: 23,
  "pulse-converter": 24,
  "integer-value": 45,
  "positive-integer-value": 48,
  "large-analog-value": 46,
  "characterstring-value": 40,
} as const;

/** Property identifiers by name. */
export const PropertyId = {
  "active-text": 4,
  "all": 8,
  "apdu-timeout": 11,
  "application-software-version": 12,
  "cov-increment": 22,
  "description": 28,
  "event-state": 36,
  "firmware-revision": 44,
  "inactive-text": 46,
  "location": 58,
  "max-apdu-length-accepted": 62,
  "max-pres-value": 65,
  "min-pres-value": 69,
  "model-name": 70,
  "number-of-apdu-retries": 73,
  "number-of-states": 74,
  "object-identifier": 75,
  "object-list": 76,
  "object-name": 77,
  "object-type": 79,
  "optional": 80,
  "out-of-service": 81,
  "polarity": 84,
  "present-value": 85,
  "priority-array": 87,
  "protocol-object-types-supported": 96,
  "protocol-services-supported": 97,
  "protocol-version": 98,
  "reliability": 103,
  "relinquish-default": 104,
  "required": 105,
  "resolution": 106,
  "segmentation-supported": 107,
  "state-text": 110,
  "status-flags": 111,
  "system-status": 112,
  "units": 117,
  "vendor-identifier": 120,
  "vendor-name": 121,
  "protocol-revision": 139,
  "database-revision": 155,
  "max-segments-accepted": 167,
  "property-list": 371,
} as const;

/** Confirmed service choices. */
export const ConfirmedService = {
  confirmedCovNotification: 1,
  subscribeCov: 5,
  readProperty: 12,
  readPropertyMultiple: 14,
  writeProperty: 15,
  reinitializeDevice: 20,
} as const;

/** Unconfirmed service choices. */
export const UnconfirmedService = {
  iAm: 0,
  unconfirmedCovNotification: 2,
  whoIs: 8,
} as const;

/** Error classes. */
export const ErrorClass = [
  "device",
  "object",
  "property",
  "resources",
  "security",
  "services",
  "vt",
  "communication",
] as const;

/** Error codes by number (the ones devices send most; others print as `code-N`). */
export const ErrorCodeNames: Record<number, string> = {
  0: "other",
  2: "configuration-in-progress",
  3: "device-busy",
  9: "invalid-data-type",
  25: "operational-problem",
  30: "timeout",
  31: "unknown-object",
  32: "unknown-property",
  37: "value-out-of-range",
  40: "write-access-denied",
  42: "invalid-array-index",
  43: "cov-subscription-failed",
  44: "not-cov-property",
  45: "optional-functionality-not-supported",
  50: "property-is-not-an-array",
};

/** Error code numbers by name. */
export const ErrorCode = {
  other: 0,
  deviceBusy: 3,
  invalidDataType: 9,
  unknownObject: 31,
  unknownProperty: 32,
  valueOutOfRange: 37,
  writeAccessDenied: 40,
  invalidArrayIndex: 42,
  notCovProperty: 44,
  optionalFunctionalityNotSupported: 45,
} as const;

/** Reject reasons. */
export const RejectReason = [
  "other",
  "buffer-overflow",
  "inconsistent-parameters",
  "invalid-parameter-data-type",
  "invalid-tag",
  "missing-required-parameter",
  "parameter-out-of-range",
  "too-many-arguments",
  "undefined-enumeration",
  "unrecognized-service",
] as const;

/** Abort reasons. */
export const AbortReason = [
  "other",
  "buffer-overflow",
  "invalid-apdu-in-this-state",
  "preempted-by-higher-priority-task",
  "segmentation-not-supported",
  "security-error",
  "insufficient-security",
  "window-size-out-of-range",
  "application-exceeded-reply-time",
  "out-of-resources",
  "tsm-timeout",
  "apdu-too-long",
] as const;

/** Reliability values (0 is no-fault-detected). */
export const Reliability = [
  "no-fault-detected",
  "no-sensor",
  "over-range",
  "under-range",
  "open-loop",
  "shorted-loop",
  "no-output",
  "unreliable-other",
  "process-error",
  "multi-state-fault",
  "configuration-error",
  "member-fault",
  "communication-failure",
] as const;

/** Segmentation support as I-Am carries it. */
export const Segmentation = ["both", "transmit", "receive", "none"] as const;

/** Engineering units (BACnetEngineeringUnits 0..104 and a few common ones above). */
const UNIT_LIST = [
  "square-meters",
  "square-feet",
  "milliamperes",
  "amperes",
  "ohms",
  "volts",
  "kilovolts",
  "megavolts",
  "volt-amperes",
  "kilovolt-amperes",
  "megavolt-amperes",
  "volt-amperes-reactive",
  "kilovolt-amperes-reactive",
  "megavolt-amperes-reactive",
  "degrees-phase",
  "power-factor",
  "joules",
  "kilojoules",
  "watt-hours",
  "kilowatt-hours",
  "btus",
  "therms",
  "ton-hours",
  "joules-per-kilogram-dry-air",
  "btus-per-pound-dry-air",
  "cycles-per-hour",
  "cycles-per-minute",
  "hertz",
  "grams-of-water-per-kilogram-dry-air",
  "percent-relative-humidity",
  "millimeters",
  "meters",
  "inches",
  "feet",
  "watts-per-square-foot",
  "watts-per-square-meter",
  "lumens",
  "luxes",
  "foot-candles",
  "kilograms",
  "pounds-mass",
  "tons",
  "kilograms-per-second",
  "kilograms-per-minute",
  "kilograms-per-hour",
  "pounds-mass-per-minute",
  "pounds-mass-per-hour",
  "watts",
  "kilowatts",
  "megawatts",
  "btus-per-hour",
  "horsepower",
  "tons-refrigeration",
  "pascals",
  "kilopascals",
  "bars",
  "pounds-force-per-square-inch",
  "centimeters-of-water",
  "inches-of-water",
  "millimeters-of-mercury",
  "centimeters-of-mercury",
  "inches-of-mercury",
  "degrees-celsius",
  "degrees-kelvin",
  "degrees-fahrenheit",
  "degree-days-celsius",
  "degree-days-fahrenheit",
  "years",
  "months",
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "meters-per-second",
  "kilometers-per-hour",
  "feet-per-second",
  "feet-per-minute",
  "miles-per-hour",
  "cubic-feet",
  "cubic-meters",
  "imperial-gallons",
  "liters",
  "us-gallons",
  "cubic-feet-per-minute",
  "cubic-meters-per-second",
  "imperial-gallons-per-minute",
  "liters-per-second",
  "liters-per-minute",
  "us-gallons-per-minute",
  "degrees-angular",
  "degrees-celsius-per-hour",
  "degrees-celsius-per-minute",
  "degrees-fahrenheit-per-hour",
  "degrees-fahrenheit-per-minute",
  "no-units",
  "parts-per-million",
  "parts-per-billion",
  "percent",
  "percent-per-second",
  "per-minute",
  "per-second",
  "psi-per-degree-fahrenheit",
  "radians",
  "revolutions-per-minute",
] as const;

/** The name of a units value (`units-N` when not in the table). */
export function unitName(n: number): string {
  return UNIT_LIST[n] ?? (n === 135 ? "cubic-meters-per-hour" : `units-${n}`);
}

/** The number of a units name, or undefined. */
export function unitNumber(name: string): number | undefined {
  if (name === "cubic-meters-per-hour") return 135;
  const i = (UNIT_LIST as readonly string[]).indexOf(name);
  if (i >= 0) return i;
  const m = /^units-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A short unit symbol for flows (`°C`), or the BACnet name. */
export function unitSymbol(n: number): string {
  const s: Record<number, string> = {
    62: "°C",
    64: "°F",
    63: "K",
    98: "%",
    29: "%RH",
    47: "W",
    48: "kW",
    19: "kWh",
    53: "Pa",
    54: "kPa",
    55: "bar",
    5: "V",
    3: "A",
    27: "Hz",
    84: "cfm",
    87: "l/s",
    88: "l/min",
    135: "m³/h",
    96: "ppm",
    104: "rpm",
    73: "s",
  };
  return s[n] ?? unitName(n);
}

const OBJECT_NAMES = new Map<number, string>(
  Object.entries(ObjectType).map(([k, v]) => [v, k]),
);
const PROPERTY_NAMES = new Map<number, string>(
  Object.entries(PropertyId).map(([k, v]) => [v, k]),
);

/** An object type's name (`type-N` when unknown). */
export function objectTypeName(n: number): string {
  return OBJECT_NAMES.get(n) ?? `type-${n}`;
}

/** A property's name (`property-N` when unknown). */
export function propertyName(n: number): string {
  return PROPERTY_NAMES.get(n) ?? `property-${n}`;
}

/** An object type's number from its name or `type-N`/a number; undefined when unknown. */
export function objectTypeNumber(name: string): number | undefined {
  const v = (ObjectType as Record<string, number>)[name];
  if (v !== undefined) return v;
  const m = /^(?:type-)?(\d+)$/.exec(name);
  return m && Number(m[1]) < 1024 ? Number(m[1]) : undefined;
}

/** A property's number from its name or `property-N`/a number; undefined when unknown. */
export function propertyNumber(name: string): number | undefined {
  const v = (PropertyId as Record<string, number>)[name];
  if (v !== undefined) return v;
  const m = /^(?:property-)?(\d+)$/.exec(name);
  return m && Number(m[1]) < 4194304 ? Number(m[1]) : undefined;
}

/** Short object type aliases accepted in addresses (`ai:3`, `bo:1`). */
export const OBJECT_ALIASES: Record<string, string> = {
  ai: "analog-input",
  ao: "analog-output",
  av: "analog-value",
  bi: "binary-input",
  bo: "binary-output",
  bv: "binary-value",
  msi: "multi-state-input",
  mso: "multi-state-output",
  msv: "multi-state-value",
  dev: "device",
};
