'use strict';
// Load, at the size that proves each behaviour: many handshakes at once all complete; a
// paused reader while the peer sends far more than the reader may buffer (memory bounded,
// the sender held back by TCP, every byte intact); connections and secure contexts created
// and dropped leave memory at its baseline. The scenarios live in load-scenarios.js;
// `npm run load` (bench/load.js) runs them again at soak size (1,000 handshakes at once,
// 100 MiB, 10,000 connections, 10,000 contexts).
//
// Nothing here bounds a duration: the timeouts leave room for a sanitizer build (3-5x
// slower) on a machine whose cores are busy with something else.

const scenarios = require('./load-scenarios');
const { useCleanup } = require('./helpers');

const print = (summary) => console.log(summary.replace(/^/gm, '      '));

describe('load', function () {
  this.timeout(240000);
  const cleanup = useCleanup();

  // More than the server accepts per event-loop turn, all in their handshake together.
  const AT_ONCE = 100;
  it(`${AT_ONCE} connections handshaking at once all complete`, async () => {
    const r = await scenarios.handshakesAtOnce(cleanup, { count: AT_ONCE });
    print(r.summary);
    scenarios.checkHandshakesAtOnce(r);
  });

  // Well above what the reader may grow by (40 MiB) and twice what may leave the sender
  // while paused, so a reader that kept reading, or buffered it all, fails.
  const PAYLOAD_MIB = 64;
  it(`our client pausing while node's server sends ${PAYLOAD_MIB} MiB: bounded memory, sender held back, data intact`, async () => {
    const r = await scenarios.pausedReader(cleanup, { sender: 'node', mibs: PAYLOAD_MIB });
    print(r.summary);
    scenarios.checkPausedReader(r);
  });

  it(`node's client pausing while our server sends ${PAYLOAD_MIB} MiB: bounded memory, sender held back, data intact`, async () => {
    const r = await scenarios.pausedReader(cleanup, { sender: 'ours', mibs: PAYLOAD_MIB });
    print(r.summary);
    scenarios.checkPausedReader(r);
  });

  // Each of the churn client's ten ways to end a connection 30 times.
  const CONNECTIONS = 300;
  it(`${CONNECTIONS} connections opened and dropped leave memory at baseline`, async () => {
    const r = await scenarios.connectionChurn(cleanup, { count: CONNECTIONS, warmup: 100, concurrency: 20 });
    print(r.summary);
    scenarios.checkConnectionChurn(r);
  });

  const CONTEXTS = 500;
  it(`${CONTEXTS} secure contexts created and dropped, twice, leave memory at baseline`, async () => {
    const r = await scenarios.contextChurn(cleanup, { count: CONTEXTS, alive: 250 });
    print(r.summary);
    scenarios.checkContextChurn(r);
  });
});
