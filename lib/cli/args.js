// cli/args.js: the command line of `mbedtls-stream client|server|demo`, in the key=value form
// of Mbed TLS's example programs (ssl_client2, ssl_server2), so a command line from their
// documentation works with the program's name changed. Parsing only; no I/O.
'use strict';

// Each key: [default, what it is]. The defaults are ssl_client2's and ssl_server2's where
// they have the key (server_port 4433, psk_identity Client_identity, ...).
const COMMON = {
  server_addr: [undefined, 'client: address to connect to (default: server_name); server: address to bind (default: all)'],
  server_port: ['4433', 'TCP (or UDP with dtls=1) port'],
  ca_file: [undefined, 'PEM file of trusted CA certificates (default: node\'s bundled roots)'],
  ca_path: [undefined, 'folder whose PEM files are the trusted CA certificates'],
  crt_file: [undefined, 'PEM certificate (chain) of our own'],
  key_file: [undefined, 'PEM private key of crt_file'],
  key_pwd: [undefined, 'password of key_file'],
  auth_mode: [undefined, 'none|optional|required: verification of the peer (client default required, server none)'],
  debug_level: ['0', '0..4: Mbed TLS debug output (1 errors, 2 state changes, 3 information, 4 hex dumps)'],
  force_version: [undefined, 'tls12|tls13|dtls12: the only protocol version to speak'],
  force_ciphersuite: [undefined, 'the only cipher suite to offer, by Mbed TLS, IANA or OpenSSL name'],
  psk: [undefined, 'pre-shared key in hex'],
  psk_identity: ['Client_identity', 'identity of psk'],
  alpn: [undefined, 'comma-separated list of ALPN protocols, most preferred first'],
  tickets: ['1', '1: session tickets on (the only value supported)'],
  dtls: ['0', '1: DTLS 1.2 over UDP instead of TLS over TCP'],
};

const CLIENT = {
  server_name: ['localhost', 'name of the server: SNI and the name its certificate must carry'],
  ...COMMON,
  max_frag_len: [undefined, '512|1024|2048|4096: ask the server for records this small (TLS 1.2)'],
  reconnect: ['0', 'number of reconnections with the saved session (resumption)'],
  request: [undefined, 'data to send (\\r \\n \\t \\\\ escapes); default: GET / HTTP/1.0 with Host'],
};

const SERVER = { ...COMMON };

const DEMO = {};

const KEYS = { client: CLIENT, server: SERVER, demo: DEMO };
const FLAGS = { client: ['--json', '--help'], server: ['--help'], demo: ['--json', '--help'] };

class UsageError extends Error {
  get name() { return 'UsageError'; }
}

// argv (after the subcommand) -> { options: { key: value as a string }, json, help }.
// Throws a UsageError naming the accepted keys for an unknown key or a malformed argument.
function parse(command, argv) {
  const accepted = KEYS[command];
  const result = { options: {}, json: false, help: false };
  for (const [key, [value]] of Object.entries(accepted)) {
    if (value !== undefined) result.options[key] = value;
  }
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h' || arg === 'help') {
      result.help = true;
      continue;
    }
    if (arg.startsWith('--')) {
      if (!FLAGS[command].includes(arg)) {
        throw new UsageError(`unknown option ${arg}; accepted: ${FLAGS[command].join(', ')}`);
      }
      result.json = result.json || arg === '--json';
      continue;
    }
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq) : arg;
    if (!Object.hasOwn(accepted, key)) {
      const keys = Object.keys(accepted);
      throw new UsageError(`unknown argument '${key}'; ${command} accepts ` +
        `${keys.length ? keys.join(', ') : 'no key=value arguments'}, and ${FLAGS[command].join(', ')}`);
    }
    if (eq < 0) throw new UsageError(`argument '${key}' needs a value: ${key}=VALUE`);
    result.options[key] = arg.slice(eq + 1);
  }
  if (!result.help && command !== 'demo') check(result.options);
  return result;
}

const CHOICES = {
  auth_mode: ['none', 'optional', 'required'],
  debug_level: ['0', '1', '2', '3', '4'],
  force_version: ['tls12', 'tls13', 'dtls12'],
  max_frag_len: ['512', '1024', '2048', '4096'],
  tickets: ['1'],
  dtls: ['0', '1'],
};

function check(options) {
  for (const [key, allowed] of Object.entries(CHOICES)) {
    if (options[key] !== undefined && !allowed.includes(options[key])) {
      throw new UsageError(`${key}=${options[key]} is not one of ${allowed.join(', ')}`);
    }
  }
  const port = Number(options.server_port);
  if (!/^\d+$/.test(options.server_port) || port > 65535) {
    throw new UsageError(`server_port=${options.server_port} is not a port number (0 to 65535)`);
  }
  if (options.reconnect !== undefined && !/^\d+$/.test(options.reconnect)) {
    throw new UsageError(`reconnect=${options.reconnect} is not a number of reconnections`);
  }
  if (options.psk !== undefined && !/^([0-9a-fA-F]{2})+$/.test(options.psk)) {
    throw new UsageError('psk must be an even number of hex digits');
  }
  if (options.force_version === 'dtls12') options.dtls = '1';
  if (options.dtls === '1' && options.force_version && options.force_version !== 'dtls12') {
    throw new UsageError(`force_version=${options.force_version} cannot go with dtls=1 (DTLS 1.2 only)`);
  }
  if (options.key_file && !options.crt_file) throw new UsageError('key_file needs crt_file');
  if (options.crt_file && !options.key_file) throw new UsageError('crt_file needs key_file');
}

// The text of `--help` for a command.
function usage(command) {
  const lines = [];
  if (command === 'demo') {
    lines.push('usage: mbedtls-stream demo [--json]', '',
      'Starts a node https server on a free port, runs the client against it and prints its report.');
    return lines.join('\n');
  }
  lines.push(`usage: mbedtls-stream ${command} [key=value ...]${command === 'client' ? ' [--json]' : ''}`, '');
  lines.push(command === 'client'
    ? 'Connects, reports each step as Mbed TLS\'s ssl_client2 does, sends the request and prints the answer.\nExit status 0 on success, 1 on failure, 2 on a usage error. --json prints the report as one JSON object.'
    : 'Serves HTTPS (or DTLS) connections one after another until interrupted, answering as\nMbed TLS\'s ssl_server2 does. Without crt_file it serves the development certificate.');
  lines.push('', 'acceptable parameters:');
  for (const [key, [value, text]] of Object.entries(KEYS[command])) {
    lines.push(`    ${`${key}=%s`.padEnd(24)}${text}${value !== undefined ? ` (default: ${JSON.stringify(value)})` : ''}`);
  }
  return lines.join('\n');
}

// request=... : backslash escapes as a shell user writes them.
function unescape(text) {
  return text.replace(/\\(.)/g, (_, c) => ({ r: '\r', n: '\n', t: '\t' })[c] ?? c);
}

module.exports = { parse, usage, unescape, UsageError, KEYS };
