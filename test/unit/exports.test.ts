/**
 * The public API, pinned (trio's test_exports.py): the exact sorted list of names src/index.ts
 * exports at run time, and of the types it re-exports. Adding or removing a public name is a
 * decision: make it here too, with the change that needs it (and in CHANGELOG.md).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as shoal from '../../src/index.js';

const VALUES = [
  'AgentFailedError',
  'AgentStoppedError',
  'CancelledError',
  'Chan',
  'ClosedError',
  'CodecError',
  'ConfigError',
  'Conn',
  'ConnectError',
  'ConnectionResetError',
  'HTTP_DEFAULTS',
  'HandlerError',
  'HarnessOptionError',
  'HttpContext',
  'HttpServer',
  'MAX_PENDING',
  'METRICS_CONTENT_TYPE',
  'MailboxFullError',
  'ModuleNotAllowedError',
  'NOT_READY',
  'Op',
  'PayloadTooLargeError',
  'ReplRefusedError',
  'RingCorruptError',
  'Runtime',
  'SETTINGS',
  'SharedChan',
  'ShoalError',
  'TaskLoadError',
  'TcpServer',
  'TimeoutError',
  'TooManyPendingError',
  'WorkerExitedError',
  'after',
  'afterOp',
  'asAgent',
  'chan',
  'connect',
  'currentAgent',
  'deferred',
  'dropping',
  'every',
  'fixed',
  'formatLoadReport',
  'formatSuiteTable',
  'fromDescriptor',
  'isCancellation',
  'isChannelDescriptor',
  'isTracing',
  'loopDelay',
  'openScope',
  'promiseOp',
  'readConfig',
  'runLoad',
  'runSuite',
  'scope',
  'select',
  'setAmbient',
  'setTracing',
  'sharedChan',
  'sleep',
  'sliding',
  'spawn',
  'suiteChart',
  'taskCount',
  'taskSignal',
  'tasks',
  'timeout',
  'watchSlowSlices',
  'yieldNow',
];

const TYPES = [
  'Agent',
  'AgentClass',
  'AgentInfo',
  'AgentOptions',
  'BlockingOptions',
  'BufferKind',
  'BufferSpec',
  'CallOptions',
  'CaseReport',
  'CaseStats',
  'ChanStats',
  'ChannelDescriptor',
  'CloseOptions',
  'Config',
  'ConnHandler',
  'ConnWaitOptions',
  'ConnectOptions',
  'Deferred',
  'Handler',
  'HttpCloseOptions',
  'HttpHandlerError',
  'HttpLimits',
  'HttpServerStats',
  'HttpTlsOptions',
  'LatencySummary',
  'ListenOptions',
  'LiveAgent',
  'LiveTask',
  'LoadOptions',
  'LoadProgress',
  'LoadReport',
  'LoadTestOptions',
  'LoaderHost',
  'LoopDelayStats',
  'MailboxPolicy',
  'MapOptions',
  'MapProgress',
  'MetricsServeOptions',
  'MetricsServer',
  'ModuleAllowList',
  'ModuleRef',
  'NotReady',
  'OpValue',
  'PutOptions',
  'ReactorStats',
  'Readiness',
  'Remote',
  'ReplOptions',
  'ReplServer',
  'ReplServerStats',
  'RestartOptions',
  'RunOptions',
  'RuntimeOptions',
  'RuntimeStats',
  'Scope',
  'ScopeOptions',
  'ScopeSpawnOptions',
  'SelectArg',
  'SelectOptions',
  'Selected',
  'ServeOptions',
  'ServerCloseOptions',
  'Setting',
  'SharedChanOptions',
  'SharedChannel',
  'SlowSlice',
  'SlowSliceWatcher',
  'SpawnOptions',
  'StopOptions',
  'SuiteOptions',
  'SuiteReport',
  'TakeManyOptions',
  'TakeOptions',
  'Task',
  'TaskArgs',
  'TaskInfo',
  'TaskState',
  'TcpServerStats',
  'Tick',
  'TimeoutOptions',
  'TimerHandle',
  'TimerOptions',
  'WaitOptions',
  'WorkerAgentStats',
  'WorkerStats',
];

/** `a` and `b` as "added: ... / removed: ..." for the failure message. */
function diff(actual: string[], pinned: string[]): string {
  const added = actual.filter((n) => !pinned.includes(n));
  const removed = pinned.filter((n) => !actual.includes(n));
  return `new in src/index.ts: [${added.join(', ')}]; gone from it: [${removed.join(', ')}] (update test/unit/exports.test.ts if intended)`;
}

test('src/index.ts exports exactly the pinned names at run time', () => {
  const names = Object.keys(shoal).sort();
  assert.equal(names, VALUES, diff(names, VALUES));
});

test('src/index.ts re-exports exactly the pinned types', () => {
  const path = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
  const text = readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const types: string[] = [];
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const raw of m[2]!.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const isType = m[1] !== undefined || item.startsWith('type ');
      const name = item
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (isType) types.push(name);
    }
  }
  types.sort();
  assert.equal(types, TYPES, diff(types, TYPES));
});

test('the pinned lists are sorted and without duplicates', () => {
  for (const list of [VALUES, TYPES]) {
    assert.equal([...new Set(list)].sort(), list);
  }
});

test.run();
