// Kernel parameters written by field name from one declared list, checked against the WGSL `struct Params`.
// Every field is a 4-byte scalar, so the WGSL uniform layout is simply the declaration order.

export type ParamType = "u32" | "i32" | "f32";
export type ParamFields = readonly (readonly [name: string, type: ParamType])[];
export type ParamValues<F extends ParamFields> = { [K in F[number][0]]: number };

export interface ParamLayout<F extends ParamFields> {
  fields: F;
  /** Byte size, padded to 16 as uniform buffers require. */
  size: number;
  encode(values: ParamValues<F>, into?: ArrayBuffer): ArrayBuffer;
}

export function defineParams<const F extends ParamFields>(fields: F): ParamLayout<F> {
  const size = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  return {
    fields,
    size,
    encode(values, into = new ArrayBuffer(size)) {
      const view = new DataView(into);
      const record = values as Record<string, number>;
      fields.forEach(([name, type], i) => {
        const v = record[name];
        if (v === undefined || Number.isNaN(v)) throw new Error(`uniform field ${name} has no value`);
        if (type === "f32") view.setFloat32(i * 4, v, true);
        else if (type === "i32") view.setInt32(i * 4, v, true);
        else view.setUint32(i * 4, v, true);
      });
      return into;
    },
  };
}

/** The fields of `struct Params` in a WGSL source, in order: what the launcher's list must equal. */
export function wgslParamFields(source: string, structName = "Params"): [string, string][] {
  const match = new RegExp(`struct\\s+${structName}\\s*\\{([^}]*)\\}`).exec(source);
  if (!match) return [];
  return match[1]
    .split(/[,;\n]/)
    .map((s) => s.replace(/\/\/.*$/, "").trim())
    .filter(Boolean)
    .map((decl) => {
      const [name, type] = decl.split(":").map((s) => s.trim());
      return [name, type] as [string, string];
    });
}
