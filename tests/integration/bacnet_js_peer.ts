/**
 * @module
 * A BACnet/IP device served by an independent stack, npm `@bacnet-js/client` (its server side:
 * request events and response encoders), for interop tests of our client: Who-Is/I-Am,
 * ReadProperty, ReadPropertyMultiple (per-property errors), WriteProperty with a priority
 * array and relinquish, SubscribeCOV with confirmed and unconfirmed notifications, and
 * unknown-object / unknown-property errors. Values live in a small table of ours; every
 * encoding on the wire is the library's.
 *
 * The library binds `options.port || 47808` (port 0 is taken as "default"), so a free port is
 * found first; it ignores requests from exactly 127.0.0.1:47808 (DENO_NOTES), which no test
 * uses.
 */

import B from "@bacnet-js/client";
import dgram from "node:dgram";

const Bacnet = B.default;
type Client = InstanceType<typeof Bacnet>;
type Address = Parameters<Client["readProperty"]>[0];
type AppData = { type: number; value: unknown };

/** BACnet numbers used here (ASHRAE 135 clause 21). */
const Prop = {
  objectIdentifier: 75,
  objectName: 77,
  objectType: 79,
  objectList: 76,
  presentValue: 85,
  statusFlags: 111,
  reliability: 103,
  outOfService: 81,
  units: 117,
  priorityArray: 87,
  relinquishDefault: 104,
  maxApdu: 62,
  segmentation: 107,
  vendorId: 120,
  systemStatus: 112,
  all: 8,
} as const;
const Tag = {
  null: 0,
  boolean: 1,
  unsigned: 2,
  real: 4,
  string: 7,
  bits: 8,
  enumerated: 9,
  oid: 12,
};
const Service = { readProperty: 12, writeProperty: 15, subscribeCov: 5, rpm: 14 } as const;
const ErrorClass = { object: 1, property: 2 } as const;
const ErrorCode = { unknownObject: 31, unknownProperty: 32, writeAccessDenied: 40 } as const;

/** An object of the peer device. */
export interface PeerObject {
  type: number;
  instance: number;
  name: string;
  /** Analog (real) or binary (enumerated 0/1) present value. */
  value: number;
  /** Commandable: a 16-slot priority array over `value` as relinquish default. */
  commandable?: boolean;
  priority?: (number | null)[];
}

interface Sub {
  to: Address;
  processId: number;
  object: { type: number; instance: number };
  confirmed: boolean;
  lifetime: number;
}

/** A running @bacnet-js/client device. */
export interface BacnetJsDevice extends AsyncDisposable {
  readonly port: number;
  readonly instance: number;
  readonly objects: PeerObject[];
  readonly subs: Sub[];
  /** Requests received by service name, to show which services our client used. */
  readonly served: Record<string, number>;
  /** Sets a present value (the relinquish default of a commandable object) and notifies COV subscribers. */
  setValue(type: number, instance: number, value: number): Promise<void>;
  close(): Promise<void>;
}

/** A free UDP port on 127.0.0.1 (the library cannot bind port 0). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const isBinary = (type: number) => type >= 3 && type <= 5;
const effective = (o: PeerObject) =>
  o.priority?.find((p) => p !== null && p !== undefined) ?? o.value;

function pvData(o: PeerObject): AppData {
  return isBinary(o.type)
    ? { type: Tag.enumerated, value: effective(o) }
    : { type: Tag.real, value: effective(o) };
}

const flags = (): AppData => ({ type: Tag.bits, value: { value: [0], bitsUsed: 4 } });

/** Starts a device `instance` with `objects` on a free port of 127.0.0.1. */
export async function startBacnetJsDevice(
  instance: number,
  objects: PeerObject[],
): Promise<BacnetJsDevice> {
  const port = await freeUdpPort();
  const client: Client = new Bacnet({
    port,
    interface: "127.0.0.1",
    broadcastAddress: "127.0.0.1",
    apduTimeout: 2000,
  });
  client.on("error", () => {});
  await new Promise<void>((r) => client.on("listening", () => r()));
  const subs: Sub[] = [];
  const served: Record<string, number> = {};
  const count = (name: string) => served[name] = (served[name] ?? 0) + 1;
  const find = (id: { type: number; instance: number }) =>
    objects.find((o) => o.type === id.type && o.instance === id.instance);
  const isDevice = (id: { type: number; instance: number }) =>
    id.type === 8 && (id.instance === instance || id.instance === 4194303);

  /** A property's values, or the error class/code the device answers. */
  function read(
    id: { type: number; instance: number },
    prop: number,
    index = 0xffffffff,
  ): AppData[] | { cls: number; code: number } {
    const all = whole(id, prop);
    if (index === 0xffffffff || !Array.isArray(all)) return all;
    if (index === 0) return [{ type: Tag.unsigned, value: all.length }];
    const one = all[index - 1];
    return one ? [one] : { cls: ErrorClass.property, code: 42 }; // invalid-array-index
  }

  function whole(
    id: { type: number; instance: number },
    prop: number,
  ): AppData[] | { cls: number; code: number } {
    if (isDevice(id)) {
      switch (prop) {
        case Prop.objectIdentifier:
          return [{ type: Tag.oid, value: { type: 8, instance } }];
        case Prop.objectName:
          return [{ type: Tag.string, value: `bacnet-js ${instance}` }];
        case Prop.objectType:
          return [{ type: Tag.enumerated, value: 8 }];
        case Prop.maxApdu:
          return [{ type: Tag.unsigned, value: 1476 }];
        case Prop.segmentation:
          return [{ type: Tag.enumerated, value: 3 }];
        case Prop.vendorId:
          return [{ type: Tag.unsigned, value: 260 }];
        case Prop.systemStatus:
          return [{ type: Tag.enumerated, value: 0 }];
        case Prop.objectList:
          return [
            { type: Tag.oid, value: { type: 8, instance } },
            ...objects.map((o) => ({
              type: Tag.oid,
              value: { type: o.type, instance: o.instance },
            })),
          ];
      }
      return { cls: ErrorClass.property, code: ErrorCode.unknownProperty };
    }
    const o = find(id);
    if (!o) return { cls: ErrorClass.object, code: ErrorCode.unknownObject };
    switch (prop) {
      case Prop.objectIdentifier:
        return [{ type: Tag.oid, value: { type: o.type, instance: o.instance } }];
      case Prop.objectName:
        return [{ type: Tag.string, value: o.name }];
      case Prop.objectType:
        return [{ type: Tag.enumerated, value: o.type }];
      case Prop.presentValue:
        return [pvData(o)];
      case Prop.statusFlags:
        return [flags()];
      case Prop.reliability:
        return [{ type: Tag.enumerated, value: 0 }];
      case Prop.outOfService:
        return [{ type: Tag.boolean, value: false }];
      case Prop.units:
        if (!isBinary(o.type)) return [{ type: Tag.enumerated, value: 62 }];
        break;
      case Prop.priorityArray:
        if (o.commandable) {
          return o.priority!.map((p) =>
            p === null || p === undefined
              ? { type: Tag.null, value: null }
              : isBinary(o.type)
              ? { type: Tag.enumerated, value: p }
              : { type: Tag.real, value: p }
          );
        }
        break;
      case Prop.relinquishDefault:
        if (o.commandable) return [{ ...pvData({ ...o, priority: [] }) }];
        break;
    }
    return { cls: ErrorClass.property, code: ErrorCode.unknownProperty };
  }

  function notify(s: Sub, o: PeerObject): Promise<void> {
    const values = [
      { property: { id: Prop.presentValue, index: 0xffffffff }, value: [pvData(o)] },
      { property: { id: Prop.statusFlags, index: 0xffffffff }, value: [flags()] },
    ];
    if (s.confirmed) {
      return client.confirmedCOVNotification(
        s.to,
        s.object,
        s.processId,
        instance,
        s.lifetime,
        values as never,
      ).catch(() => {});
    }
    client.unconfirmedCOVNotification(
      s.to,
      s.processId,
      instance,
      s.object,
      s.lifetime,
      values as never,
    );
    return Promise.resolve();
  }

  client.on("whoIs", (m) => {
    count("whoIs");
    const { lowLimit, highLimit } = m.payload;
    if (lowLimit !== undefined && (instance < lowLimit || instance > (highLimit ?? lowLimit))) {
      return;
    }
    client.iAmResponse(m.header!.sender, instance, 3, 260);
  });
  client.on("readProperty", (m) => {
    count("readProperty");
    const { objectId, property } = m.payload;
    const r = read(objectId, property.id, property.index);
    if (!Array.isArray(r)) {
      client.errorResponse(m.header!.sender, Service.readProperty, m.invokeId!, r.cls, r.code);
      return;
    }
    const id = isDevice(objectId) ? { type: 8, instance } : objectId;
    client.readPropertyResponse(m.header!.sender, m.invokeId!, id, property, r as never);
  });
  client.on("readPropertyMultiple", (m) => {
    count("readPropertyMultiple");
    const out = m.payload.properties.map((spec) => {
      const props = spec.properties.length === 1 && spec.properties[0]!.id === Prop.all
        ? [Prop.objectIdentifier, Prop.objectName, Prop.objectType, Prop.presentValue]
          .map((id) => ({ id, index: 0xffffffff }))
        : spec.properties;
      return {
        objectId: isDevice(spec.objectId) ? { type: 8, instance } : spec.objectId,
        values: props.map((p) => {
          const r = read(spec.objectId, p.id, p.index);
          return {
            property: { id: p.id, index: p.index },
            value: Array.isArray(r)
              ? r
              : [{ value: { type: "BacnetError", errorClass: r.cls, errorCode: r.code } }],
          };
        }),
      };
    });
    client.readPropertyMultipleResponse(m.header!.sender, m.invokeId!, out as never);
  });
  client.on("writeProperty", (m) => {
    count("writeProperty");
    const { objectId, value } = m.payload;
    const o = find(objectId);
    const sender = m.header!.sender;
    if (!o) {
      client.errorResponse(
        sender,
        Service.writeProperty,
        m.invokeId!,
        ErrorClass.object,
        ErrorCode.unknownObject,
      );
      return;
    }
    if (value.property.id !== Prop.presentValue || !o.commandable) {
      client.errorResponse(
        sender,
        Service.writeProperty,
        m.invokeId!,
        ErrorClass.property,
        ErrorCode.writeAccessDenied,
      );
      return;
    }
    const slot = (value.priority || 16) - 1;
    const v = value.value[0] as AppData | undefined;
    o.priority![slot] = !v || v.type === Tag.null ? null : Number(v.value);
    client.simpleAckResponse(sender, Service.writeProperty, m.invokeId!);
    for (const s of subs) {
      if (s.object.type === o.type && s.object.instance === o.instance) void notify(s, o);
    }
  });
  client.on("subscribeCov", (m) => {
    count("subscribeCov");
    const p = m.payload as typeof m.payload & { cancellationRequest?: boolean };
    const o = find(p.monitoredObjectId);
    const sender = m.header!.sender;
    if (!o) {
      client.errorResponse(
        sender,
        Service.subscribeCov,
        m.invokeId!,
        ErrorClass.object,
        ErrorCode.unknownObject,
      );
      return;
    }
    const at = subs.findIndex((s) =>
      s.processId === p.subscriberProcessId && s.object.type === o.type &&
      s.object.instance === o.instance
    );
    if (at >= 0) subs.splice(at, 1);
    client.simpleAckResponse(sender, Service.subscribeCov, m.invokeId!);
    if (p.cancellationRequest) return;
    const s: Sub = {
      to: sender,
      processId: p.subscriberProcessId,
      object: { type: o.type, instance: o.instance },
      confirmed: p.issueConfirmedNotifications,
      lifetime: p.lifetime,
    };
    subs.push(s);
    void notify(s, o); // the initial notification (13.14.1.1.3)
  });

  const close = () => {
    client.close();
    return Promise.resolve();
  };
  return {
    port,
    instance,
    objects,
    subs,
    served,
    async setValue(type, inst, value) {
      const o = find({ type, instance: inst });
      if (!o) throw new Error(`No object ${type}:${inst} on the bacnet-js device`);
      o.value = value;
      await Promise.all(
        subs.filter((s) => s.object.type === type && s.object.instance === inst)
          .map((s) => notify(s, o)),
      );
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
