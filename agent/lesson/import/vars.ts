// Shell variables in startups, read as far as a reading can: `NAME=value` and `export NAME=value`
// lines (the importer's own exports among them) give values; `$NAME`, `${NAME}`,
// `${NAME:-default}` and `${NAME:=default}` after them are replaced, so addresses written with
// variables can be read. What stays unknown is left as written.

const ASSIGN = /^(?:export\s+)?([A-Za-z_]\w*)=(?:'([^']*)'|"([^"$`]*)"|([^\s'"$`;&|]*))\s*(?:#.*)?$/;
const REF = /\$\{([A-Za-z_]\w*)(?::?([-=])([^}]*))?\}|\$([A-Za-z_]\w*)/g;

export function expandVars(script: string): string {
  const values = new Map<string, string>();
  return script.split('\n').map((line) => {
    const out = line.replace(REF, (whole, braced: string | undefined, op: string | undefined, dflt: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare!;
      const v = values.get(name);
      if (v !== undefined && v !== '') return v;
      if (op !== undefined) {
        if (op === '=') values.set(name, dflt ?? '');
        return dflt ?? '';
      }
      return whole;
    });
    const m = ASSIGN.exec(out.trim());
    if (m) values.set(m[1]!, m[2] ?? m[3] ?? m[4] ?? '');
    return out;
  }).join('\n');
}

/** Variable references left in a text (after expandVars): `$IP`, `${ADDR}`. */
export const unresolvedVars = (text: string) => [...text.matchAll(REF)].map((m) => m[0]);
