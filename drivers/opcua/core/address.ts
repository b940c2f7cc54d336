/**
 * @module
 * Tag addresses of the `opcua` driver: a NodeId in its text form (`ns=2;s=Boiler.Temp`,
 * `i=2258`, `ns=3;g=...`, `ns=4;b=...`, `nsu=urn:x;s=...`) or a browse path from the Objects
 * folder (`/Objects/Boiler/Temp`, `/Objects/2:Boiler/2:Temp`). Pure syntax: a path is
 * resolved on the server once per connection.
 */

/** A parsed address. */
export type Address =
  | { kind: "nodeId"; text: string }
  | { kind: "path"; segments: { ns?: number; name: string }[] };

const NODE_ID =
  /^(?:(?:ns=[0-9]+|nsu=[^;]+);)?(?:i=[0-9]+|s=.+|g=[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|b=[A-Za-z0-9+/=]*)$/;

/** Parses an address; throws a RangeError saying what is wrong. */
export function parseAddress(text: string): Address {
  const a = text.trim();
  if (a.startsWith("/")) {
    const parts = a.split("/").slice(1);
    if (parts[0] === "Objects") parts.shift();
    else if (parts[0] === "0:Objects") parts.shift();
    else {
      throw new RangeError(
        `A browse path starts at /Objects, e.g. /Objects/Boiler/Temp; got "${text}"`,
      );
    }
    if (parts.length === 0 || parts.some((p) => p === "")) {
      throw new RangeError(`The browse path "${text}" has an empty segment`);
    }
    return {
      kind: "path",
      segments: parts.map((p) => {
        const m = /^([0-9]+):(.+)$/.exec(p);
        return m ? { ns: Number(m[1]), name: m[2]! } : { name: p };
      }),
    };
  }
  if (!NODE_ID.test(a)) {
    throw new RangeError(
      `"${text}" is neither a NodeId (ns=2;s=Name, ns=2;i=42, ns=2;g=<guid>, ns=2;b=<base64>) nor a browse path (/Objects/Folder/Name)`,
    );
  }
  return { kind: "nodeId", text: a };
}
