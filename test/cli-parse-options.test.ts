// Option values refused at parse time name the option and say what it takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberOrAuto } from '../src/cli/parse-options.js';

test('--zoom takes a number or the word auto, and names itself when given anything else', () => {
  const zoom = numberOrAuto('--zoom');
  assert.equal(zoom('1.5'), 1.5);
  assert.equal(zoom('auto'), 'auto');
  assert.equal(zoom(' AUTO '), 'auto');
  for (const bad of ['fast', '', '1.5x']) assert.throws(() => zoom(bad), new RegExp(`--zoom needs a number or auto, got "${bad}"`));
});
