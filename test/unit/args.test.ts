/**
 * core/args.ts: every check throws the class, code and message its call sites promise, and
 * returns the value it accepted. The old homes (op.ts, shm/layout.ts) still export the same
 * functions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as args from '../../src/core/args.js';
import * as op from '../../src/core/op.js';
import * as layout from '../../src/shm/layout.js';
import { errorKind } from '../fixtures/errors.js';

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

test('the builders carry their codes', () => {
  assert.is(
    errorKind(() => args.badType('x')),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => args.outOfRange('x')),
    'RangeError:ERR_OUT_OF_RANGE',
  );
  assert.is(
    errorKind(() => {
      throw args.stateError('x');
    }),
    'Error:ERR_INVALID_STATE',
  );
  assert.is(
    errorKind(() => {
      throw args.typeError('x', 'ERR_INVALID_ARG_VALUE');
    }),
    'TypeError:ERR_INVALID_ARG_VALUE',
  );
  assert.is(
    errorKind(() => {
      throw args.codeError(RangeError, 'ERR_X', 'x');
    }),
    'RangeError:ERR_X',
  );
});

test('checkInt: TypeError for a non-number, RangeError outside [min, max], the value otherwise', () => {
  assert.is(args.checkInt('n', 3, 0, 3), 3);
  assert.is(
    errorKind(() => args.checkInt('n', '3', 0, 3)),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    message(() => args.checkInt('n', '3', 0, 3)),
    'n must be a number, got string',
  );
  assert.is(
    errorKind(() => args.checkInt('n', 1.5, 0, 3)),
    'RangeError:ERR_OUT_OF_RANGE',
  );
  assert.is(
    message(() => args.checkInt('n', 4, 0, 3)),
    'n must be an integer in [0, 3], got 4',
  );
});

test('checkPowerOfTwo, checkSize, checkPositiveInt, checkDurationMs', () => {
  assert.is(args.checkPowerOfTwo('cap', 8, 1, 16), 8);
  assert.is(
    message(() => args.checkPowerOfTwo('cap', 6, 1, 16)),
    'cap must be a power of two, got 6',
  );
  assert.is(
    message(() => args.checkSize('size', -1, 0, 10)),
    'size must be an integer >= 0 and <= 10, got -1',
  );
  assert.is(args.checkPositiveInt('workers', 2), 2);
  assert.is(
    message(() => args.checkPositiveInt('workers', 0)),
    'workers must be a positive integer, got 0',
  );
  assert.is(
    errorKind(() => args.checkPositiveInt('workers', '2')),
    'RangeError:ERR_OUT_OF_RANGE',
  );
  assert.is(args.checkDurationMs('t', 0.5), 0.5);
  assert.is(
    message(() => args.checkDurationMs('t', Infinity)),
    't must be a non-negative finite number of ms, got Infinity',
  );
  assert.is(
    errorKind(() => args.checkDurationMs('t', Number.NaN)),
    'RangeError:ERR_OUT_OF_RANGE',
  );
});

test('checkBoolean, checkString, checkFunction name what the caller gave', () => {
  assert.is(
    message(() => args.checkBoolean('on', 1)),
    'on must be a boolean, got number',
  );
  assert.is(
    message(() => args.checkString('name', 5)),
    'name must be a string, got number',
  );
  assert.is(
    message(() => args.checkFunction('fn', null)),
    'fn must be a function, got null',
  );
  assert.is(args.typeName(null), 'null');
  assert.is(args.typeName([]), 'object');
});

test('validateTimeout, validateSignal, validateOptions', () => {
  assert.is(args.validateTimeout(0), 0);
  assert.is(
    message(() => args.validateTimeout('1', 'ms')),
    'ms must be a number of ms, got string',
  );
  assert.is(
    errorKind(() => args.validateTimeout(args.MAX_TIMEOUT_MS + 1)),
    'RangeError:ERR_OUT_OF_RANGE',
  );
  const s = new AbortController().signal;
  assert.is(args.validateSignal(s), s);
  assert.is(args.validateSignal(undefined), undefined);
  assert.is(
    message(() => args.validateSignal({})),
    'signal must be an AbortSignal, got object',
  );
  assert.is(
    message(() => args.validateOptions(null)),
    'options must be an object, got null',
  );
  args.validateOptions(undefined);
  args.validateOptions({});
});

test('the old homes export the same functions', () => {
  assert.is(op.codeError, args.codeError);
  assert.is(op.validateTimeout, args.validateTimeout);
  assert.is(op.validateSignal, args.validateSignal);
  assert.is(op.validateOptions, args.validateOptions);
  assert.is(op.MAX_TIMEOUT_MS, args.MAX_TIMEOUT_MS);
  assert.is(layout.checkInt, args.checkInt);
  assert.is(layout.checkPowerOfTwo, args.checkPowerOfTwo);
  assert.is(layout.isPowerOfTwo, args.isPowerOfTwo);
  assert.is(layout.outOfRange, args.outOfRange);
  assert.is(layout.badType, args.badType);
});

test.run();
