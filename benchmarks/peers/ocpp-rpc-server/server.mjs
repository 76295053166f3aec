// Benchmark peer (b): a minimal OCPP 1.6J CSMS on the npm package `ocpp-rpc`
// in strict mode (every request and response validated against ocpp-rpc's own
// OCPP 1.6 schemas), answering what the Kilowatt simulator sends. No
// persistence; every station and id tag is accepted.
//
// Usage: node server.mjs <port> [host]     prints "listening <port>" when ready.

import { createServer } from 'node:http';
import ocppRpc from 'ocpp-rpc';

const { RPCServer } = ocppRpc;
const port = Number(process.argv[2] || 9000);
const host = process.argv[3] || '127.0.0.1';
const HEARTBEAT_INTERVAL_S = 300;
let nextTransactionId = 1;

const server = new RPCServer({
  protocols: ['ocpp1.6'],
  strictMode: true,
  // Kilowatt's default keep-alive pings every socket every 30 s (a dead one is noticed within 60 s);
  // ocpp-rpc closes a socket whose ping is unanswered at the next one, so 30 s gives the same ping
  // traffic and the same detection time.
  pingIntervalMs: 30000,
});

server.auth((accept) => accept());

server.on('client', (client) => {
  client.on('error', () => {});
  client.handle('BootNotification', () => ({
    status: 'Accepted', interval: HEARTBEAT_INTERVAL_S, currentTime: new Date().toISOString(),
  }));
  client.handle('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
  client.handle('StatusNotification', () => ({}));
  client.handle('Authorize', () => ({ idTagInfo: { status: 'Accepted' } }));
  client.handle('StartTransaction', () => ({
    transactionId: nextTransactionId++, idTagInfo: { status: 'Accepted' },
  }));
  client.handle('MeterValues', () => ({}));
  client.handle('StopTransaction', () => ({}));
});

// Our own HTTP server (as ocpp-rpc documents) only to get the same listen backlog as Kilowatt's.
const http = createServer({ noDelay: true }, (req, res) => { res.statusCode = 404; res.end(); });
http.on('upgrade', server.handleUpgrade);
await new Promise((resolve, reject) => http.listen({ port, host, backlog: 2048 }, (err) => (err ? reject(err) : resolve())));
console.log(`listening ${port}`);

const stop = async () => { await server.close({ force: true }); http.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
