/**
 * One structured logger for the node. Lines are JSON objects with a fixed set of
 * content-free fields: callers pass ids, sizes, counts and codes — never prompts,
 * completions, API keys or request bodies. `redactFields` is a second line of defence
 * against a careless caller, not the primary control.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names that could only carry content or secrets; dropped whatever the caller meant. */
const FORBIDDEN = new Set(["prompt", "messages", "content", "completion", "text", "body", "input", "authorization", "api_key", "key"]);

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where JSON lines go; stderr by default so stdout stays for the banner. */
  readonly sink?: (line: string) => void;
  readonly base?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? "info"];
  const sink = options.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (ORDER[level] < min) return;
      const record: Record<string, unknown> = { ts: new Date().toISOString(), level, msg };
      for (const src of [base, fields ?? {}]) {
        for (const [k, v] of Object.entries(src)) {
          if (v === undefined || FORBIDDEN.has(k.toLowerCase())) continue;
          record[k] = v;
        }
      }
      sink(JSON.stringify(record));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.base ?? {});
}

/** For tests and embedding: a logger that drops everything. */
export const silentLogger: Logger = createLogger({ sink: () => {} });
