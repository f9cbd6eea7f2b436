/**
 * Every `SHOAL_*` environment variable shoal reads, in one table: name, default, unit, meaning,
 * and the rule a value must follow. Nothing else in src/ reads `process.env`.
 *
 * Runs on any thread (workers inherit the main thread's environment). Owns nothing: it parses
 * `process.env` when asked. Bottom layer: imports only core/errors.
 *
 * Validated once per thread that matters: `Runtime.start` on the main thread (it rejects with
 * ConfigError before any thread starts) and the pool worker's entry point at boot. Module-level
 * reads (tunables read once when a module loads) use `settingOrDefault`, which never throws, so
 * that importing shoal cannot fail on a bad variable: the validation above names it instead.
 */
import { ShoalError } from './core/errors.js';

/**
 * An environment variable has a value shoal cannot use. `variable` names it, `value` is what was
 * given.
 *
 * @example
 * await Runtime.start().catch((e) => e.code === 'ERR_SHOAL_CONFIG' && console.error(e.variable, e.value));
 */
export class ConfigError extends ShoalError {
  static readonly code = 'ERR_SHOAL_CONFIG';
  /** the variable, e.g. 'SHOAL_TRANSPORT' */
  readonly variable: string;
  /** the value it was set to */
  readonly value: string;
  constructor(variable: string, value: string, rule: string) {
    super(ConfigError.code, `environment variable ${variable}=${JSON.stringify(value)} is invalid: ${rule}`);
    this.variable = variable;
    this.value = value;
  }
}

/** The parsed settings (see SETTINGS for each one's variable, default and meaning). */
export interface Config {
  transport: 'shared' | 'message';
  trace: boolean;
  ambient: boolean;
  reactorAwakeUs: number;
  netAwakeUs: number;
  netHoldUs: number;
  netRingWithinUs: number;
  netScratchReads: boolean;
  demoNetLoad: boolean;
  replToken: string;
  agentDirect: boolean;
  replHistory: string;
}

/** One variable: how it is documented and parsed. */
export interface Setting<K extends keyof Config = keyof Config> {
  variable: string;
  key: K;
  default: Config[K];
  unit: string;
  meaning: string;
  /** the value, or a string saying what the rule is when `raw` breaks it */
  parse(raw: string): Config[K] | { invalid: string };
}

const MAX_US = 10_000_000; // 10 s: more is surely a typo for a spin/hold window

function micros(raw: string): number | { invalid: string } {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > MAX_US) return { invalid: `an integer number of µs in [0, ${MAX_US}]` };
  return n;
}

function flag(raw: string): boolean | { invalid: string } {
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false' || raw === '') return false;
  return { invalid: "'1' or '0' (also 'true' / 'false')" };
}

/**
 * The table of every variable (README "Environment variables" lists the same).
 *
 * @example
 * for (const s of SETTINGS) console.log(s.variable, s.default, s.unit, s.meaning);
 */
export const SETTINGS: readonly Setting[] = [
  {
    variable: 'SHOAL_TRANSPORT',
    key: 'transport',
    default: 'shared',
    unit: "'shared' | 'message'",
    meaning:
      'how threads exchange tasks and channel values: shared-memory rings, or MessagePort batches ' +
      "(the fallback, kept tested); `Runtime.start({ transport })` and a channel's `transport` option override it",
    parse: (raw) => (raw === 'shared' || raw === 'message' ? raw : { invalid: "'shared' or 'message'" }),
  },
  {
    variable: 'SHOAL_TRACE',
    key: 'trace',
    default: false,
    unit: 'flag',
    meaning: 'record where each green thread was spawned (tasks() shows the stack); costs a stack per spawn',
    parse: flag,
  },
  {
    variable: 'SHOAL_AMBIENT',
    key: 'ambient',
    default: false,
    unit: 'flag',
    meaning:
      'run green threads outside the pool inside the ambient task context (AsyncLocalStorage); ' +
      'pool tasks use `Runtime.start({ ambient })` instead',
    parse: flag,
  },
  {
    variable: 'SHOAL_REACTOR_AWAKE_US',
    key: 'reactorAwakeUs',
    default: 100,
    unit: 'µs',
    meaning: 'longest the reactor (main thread) stays awake after its last work; 0 parks at once',
    parse: micros,
  },
  {
    variable: 'SHOAL_NET_AWAKE_US',
    key: 'netAwakeUs',
    default: 200,
    unit: 'µs',
    meaning: "longest a worker's TCP host stays awake after its last work; 0 never stays awake",
    parse: micros,
  },
  {
    variable: 'SHOAL_NET_HOLD_US',
    key: 'netHoldUs',
    default: 5000,
    unit: 'µs',
    meaning: 'with few connections open, how long a worker stays awake while the reactor rings often; 0 no hold',
    parse: micros,
  },
  {
    variable: 'SHOAL_NET_RING_WITHIN_US',
    key: 'netRingWithinUs',
    default: 2000,
    unit: 'µs',
    meaning: 'longest a write from a long worker turn waits before it rings the reactor; 0 rings at turn end only',
    parse: micros,
  },
  {
    variable: 'SHOAL_NET_SCRATCH_READS',
    key: 'netScratchReads',
    default: true,
    unit: 'flag',
    meaning: "read sockets into a scratch buffer, skipping Node's stream layer; 0 uses 'data' events",
    parse: flag,
  },
  {
    variable: 'SHOAL_DEMO_NET_LOAD',
    key: 'demoNetLoad',
    default: false,
    unit: 'flag',
    meaning: 'internal: set by `shoal demo` on the load-generator child process it forks',
    parse: flag,
  },
  {
    variable: 'SHOAL_REPL_TOKEN',
    key: 'replToken',
    default: '',
    unit: 'text',
    meaning: '`shoal repl` / `shoal top`: the REPL token when `--token` is not given (not visible in `ps`)',
    // the rule rt.repl() applies to a token it is given (src/inspect/repl-server.ts); empty = unset
    parse: (raw) =>
      raw === '' || /^[!-~]{8,256}$/.test(raw)
        ? raw
        : { invalid: '8 to 256 printable ASCII characters without spaces' },
  },
  {
    variable: 'SHOAL_REPL_HISTORY',
    key: 'replHistory',
    default: '~/.shoal_repl_history',
    unit: 'file path',
    meaning: '`shoal repl`: where line history is kept; set to `off` to keep none',
    // a path that says where it is (absolute, ./ ../ or ~/), so a stray word is not taken for a file
    parse: (raw) =>
      raw === 'off' || /^(\/|\.{1,2}\/|~\/)/.test(raw)
        ? raw
        : { invalid: "a file path starting with /, ./, ../ or ~/, or 'off'" },
  },
  {
    variable: 'SHOAL_AGENT_DIRECT',
    key: 'agentDirect',
    default: true,
    unit: 'flag',
    meaning: 'a worker sends to an agent on another worker over their shared-memory rings (0: through the main thread)',
    parse: flag,
  },
];

const byKey = new Map<keyof Config, Setting>(SETTINGS.map((s) => [s.key, s]));

function parseOne<K extends keyof Config>(s: Setting<K>, env: NodeJS.ProcessEnv): Config[K] {
  const raw = env[s.variable];
  if (raw === undefined) return s.default;
  const v = s.parse(raw);
  if (typeof v === 'object' && v !== null && 'invalid' in v)
    throw new ConfigError(s.variable, raw, `expected ${v.invalid}`);
  return v as Config[K];
}

/**
 * Parse and validate every variable; throws ConfigError naming the first invalid one.
 *
 * @example
 * const { transport } = readConfig(); // throws ConfigError for SHOAL_TRANSPORT=bogus
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const s of SETTINGS) out[s.key] = parseOne(s, env);
  return Object.freeze(out as Config);
}

/**
 * One setting, validated now: throws ConfigError when its variable is invalid.
 *
 * @example
 * if (setting('transport') === 'message') console.log('MessagePort fallback');
 */
export function setting<K extends keyof Config>(key: K, env: NodeJS.ProcessEnv = process.env): Config[K] {
  return parseOne(byKey.get(key) as Setting<K>, env);
}

/**
 * One setting for a module-level read: its default when the variable is invalid (never throws, so
 * that importing a module cannot fail; readConfig() at start and at worker boot reports it).
 */
export function settingOrDefault<K extends keyof Config>(key: K, env: NodeJS.ProcessEnv = process.env): Config[K] {
  const s = byKey.get(key) as Setting<K>;
  try {
    return parseOne(s, env);
  } catch {
    return s.default;
  }
}
