import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CancelledError, TimeoutError, ShoalError, isCancellation } from '../../src/core/errors.js';

test('errors carry a stable code and their class name', () => {
  const c = new CancelledError('stop', { cause: 'why' });
  assert.is(c.code, 'ERR_SHOAL_CANCELLED');
  assert.is(c.name, 'CancelledError');
  assert.is(c.cause, 'why');
  assert.ok(c instanceof ShoalError);
  assert.is(new TimeoutError().code, 'ERR_SHOAL_TIMEOUT');
  assert.ok(isCancellation(c));
  assert.not.ok(isCancellation(new TimeoutError()));
});

test.run();
