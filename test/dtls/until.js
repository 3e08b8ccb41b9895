'use strict';
// Waiting on a condition in the DTLS tests, without a deadline of its own (mocha's timeout is
// the deadline, so a slow machine only waits longer): until(predicate) resolves once
// predicate() (which may return a promise) holds, checking every 20 ms. A test file calls
// afterEach(stopWaiting): a wait still running when its test ended (timed out) then gives up
// instead of polling forever and keeping mocha from exiting.

let generation = 0;

async function until(predicate) {
  const started = generation;
  while (!(await predicate())) {
    if (started !== generation) throw new Error('gave up waiting: the test is over');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function stopWaiting() {
  generation++;
}

module.exports = { until, stopWaiting };
