// cli/index.js: `mbedtls-stream client|server|demo [key=value ...]`: picks the subcommand,
// parses its arguments (cli/args.js) and runs it. Exit status: 0 success, 1 failure, 2 usage.
'use strict';

const args = require('./args');
const { Reporter } = require('./report');

const COMMANDS = ['client', 'server', 'demo'];

function topUsage() {
  return [
    'usage: mbedtls-stream <command> [key=value ...]',
    '',
    'commands:',
    '    client   connect to a TLS or DTLS server and report, as Mbed TLS\'s ssl_client2',
    '    server   serve connections one after another, as Mbed TLS\'s ssl_server2',
    '    demo     run the client against a node https server on a free port',
    '',
    '`mbedtls-stream <command> --help` lists the command\'s arguments.',
  ].join('\n');
}

// Runs the CLI with argv (without node and the script); resolves with the exit status.
async function main(argv, { stdout = process.stdout, stderr = process.stderr } = {}) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    stdout.write(`${topUsage()}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!COMMANDS.includes(command)) {
    stderr.write(`mbedtls-stream: unknown command '${command}'; accepted: ${COMMANDS.join(', ')}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = args.parse(command, rest);
  } catch (err) {
    if (!(err instanceof args.UsageError)) throw err;
    stderr.write(`mbedtls-stream ${command}: ${err.message}\n(mbedtls-stream ${command} --help for more)\n`);
    return 2;
  }
  if (parsed.help) {
    stdout.write(`${args.usage(command)}\n`);
    return 0;
  }
  const reporter = new Reporter({ json: parsed.json, out: stdout });
  let status;
  if (command === 'client') status = await require('./client').runClient(parsed.options, reporter);
  else if (command === 'server') status = await require('./server').runServer(parsed.options, reporter);
  else status = await require('./demo').runDemo(reporter);
  if (parsed.json) stdout.write(`${JSON.stringify(reporter.report, null, 2)}\n`);
  return status;
}

module.exports = { main };
