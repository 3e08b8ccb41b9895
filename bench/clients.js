// clients.js: the client side of the memory measurement, in its own child process (forked
// by run.js with --expose-gc) so that its RSS holds nothing but these connections.
//
//   node --expose-gc bench/clients.js <node|mbedtls> <port>
//
// { type: 'warmup', count }: makes and closes `count` connections, then replies with
//                            { rss, heap } after gc() (the baseline).
// { type: 'open', count }:   opens `count` connections, 50 handshakes at a time, keeps them
//                            idle IDLE_SETTLE_MS, then replies with { rss, heap } after gc().
'use strict';

const {
  impl, clientContext, handshake, workers, memorySample, exitWithParent, IDLE_SETTLE_MS,
} = require('./common');

const [name, port] = process.argv.slice(2);
const tls = impl(name);
const secureContext = clientContext(tls);
const open = [];

async function connectAll(count, keep) {
  let started = 0;
  await workers(Math.min(50, count), async () => {
    while (started < count) {
      started++;
      const socket = await handshake(tls, Number(port), secureContext);
      socket.on('error', () => {});
      if (keep) open.push(socket);
      else socket.destroy();
    }
  });
}

process.on('message', async (msg) => {
  await connectAll(msg.count, msg.type === 'open');
  if (msg.type === 'open') await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
  process.send({ type: msg.type, connections: open.length, ...memorySample(open) });
});
exitWithParent();
