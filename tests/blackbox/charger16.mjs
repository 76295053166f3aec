#!/usr/bin/env node
// Black-box OCPP 1.6J charge point for Kilowatt, built on the independent
// `ocpp-rpc` package in strict mode: every CALLRESULT the CSMS sends is checked
// against ocpp-rpc's own OCPP 1.6 JSON schemas (not ours).
//
// Usage: node charger16.mjs <ws-base-url> <station-id> <id-tag> [password]
//   e.g. node charger16.mjs ws://127.0.0.1:9000/ocpp CP-1 TAG-1
// The station id is appended to ws-base-url as the last path segment.
//
// Prints exactly ONE JSON line on stdout and exits 0 (all good) or 1.
// Frame-level traffic goes to stderr (set BLACKBOX_QUIET=1 to silence it).
// Env: BLACKBOX_CALL_TIMEOUT_MS (default 15000), BLACKBOX_TOTAL_TIMEOUT_MS
// (default 90000), BLACKBOX_LINGER_MS (default 500), BLACKBOX_QUIET.

import ocppRpc from 'ocpp-rpc';

const { RPCClient, RPCError, createRPCError } = ocppRpc;

const PROTOCOL = 'ocpp1.6';
const CALL_TIMEOUT_MS = Number(process.env.BLACKBOX_CALL_TIMEOUT_MS || 15000);
const TOTAL_TIMEOUT_MS = Number(process.env.BLACKBOX_TOTAL_TIMEOUT_MS || 90000);
const QUIET = Boolean(process.env.BLACKBOX_QUIET);
// Grace period before closing so CSMS-initiated calls still in flight
// (e.g. the GetConfiguration Kilowatt sends after boot) get answered.
const LINGER_MS = Number(process.env.BLACKBOX_LINGER_MS ?? 500);

const EXPECTED_ERRORS = {
  unknownAction: 'NotImplemented',
  wrongType: 'TypeConstraintViolation',
};

// CALLERROR codes OCPP-J 1.6 allows (section 4.2.3), plus the corrected
// spellings from the 1.6 errata / OCPP 2.0.1 that peers also use.
const OCPP16_ERROR_CODES = new Set([
  'NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError',
  'SecurityError', 'FormationViolation', 'PropertyConstraintViolation',
  'OccurenceConstraintViolation', 'TypeConstraintViolation', 'GenericError',
  'FormatViolation', 'OccurrenceConstraintViolation',
]);

const log = (...args) => { if (!QUIET) console.error('[charger16]', ...args); };

const result = {
  ok: false,
  transactionId: null,
  bootStatus: null,
  authorizeStatus: null,
  startStatus: null,
  stopStatus: null,
  errors: { unknownAction: null, wrongType: null },
  failures: [],
  heartbeatInterval: null,
  serverCalls: [],
};
const failures = result.failures;
const fail = (msg) => { log('FAILURE:', msg); failures.push(msg); };

let printed = false;
function finish(code) {
  if (printed) return;
  printed = true;
  result.ok = code === 0 && failures.length === 0;
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

const argv = process.argv.slice(2);
if (argv.length < 3 || argv.length > 4) {
  console.error('usage: node charger16.mjs <ws-base-url> <station-id> <id-tag> [password]');
  process.exit(2);
}
const [baseUrl, stationId, idTag, password] = argv;

const watchdog = setTimeout(() => {
  fail(`overall timeout after ${TOTAL_TIMEOUT_MS} ms`);
  finish(1);
}, TOTAL_TIMEOUT_MS);
watchdog.unref();

const now = () => new Date().toISOString();

function describeError(err) {
  if (err instanceof RPCError) {
    const extra = err.details?.errors ? ` ${JSON.stringify(err.details.errors)}` : '';
    return `${err.rpcErrorCode}: ${err.message}${extra}`;
  }
  return `${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`;
}

// ---------------------------------------------------------------- client ---

const client = new RPCClient({
  endpoint: baseUrl.replace(/\/+$/, ''),
  identity: stationId,
  protocols: [PROTOCOL],
  strictMode: true,
  password: password ?? null,
  reconnect: false,
  callTimeoutMs: CALL_TIMEOUT_MS,
});

// Raw bookkeeping, so we see exactly what went over the wire (ocpp-rpc maps
// CALLERROR codes it does not know to RPCGenericError / 'GenericError').
const outboundIdByMethod = new Map(); // method -> msgId of our latest call
const rawCallErrors = new Map();      // msgId -> [4, id, code, desc, details]

client.on('message', ({ message, outbound }) => {
  log(outbound ? '>>' : '<<', String(message).slice(0, 2000));
});
client.on('call', ({ outbound, payload }) => {
  if (outbound) outboundIdByMethod.set(payload[2], payload[1]);
});
client.on('response', ({ outbound, payload }) => {
  if (!outbound && payload[0] === 4) rawCallErrors.set(payload[1], payload);
});
client.on('badMessage', ({ buffer, error }) => {
  fail(`bad message from CSMS (${describeError(error)}): ${String(buffer).slice(0, 300)}`);
});

// Set when a CSMS response to one of our calls fails schema validation; the
// step that made the call turns it into a readable failure.
let lastResponseValidationFailure = null;
client.on('strictValidationFailure', ({ method, error, outbound, isCall }) => {
  const why = describeError(error);
  if (!outbound && !isCall) {
    lastResponseValidationFailure = { method, why };
  } else if (!outbound && isCall) {
    fail(`strict mode: CSMS-initiated ${method}.req failed ocpp-rpc schema validation: ${why}`);
  } else if (outbound && !isCall) {
    fail(`strict mode: our own ${method}.conf failed validation (charger bug): ${why}`);
  } else {
    fail(`strict mode: our own ${method}.req failed validation (charger bug): ${why}`);
  }
});

let disconnected = false;
client.on('disconnect', ({ code, reason }) => {
  disconnected = true;
  log(`disconnected: ${code} ${reason}`);
});

// ------------------------------------------------- CSMS-initiated calls ---

const accepted = () => ({ status: 'Accepted' });
const SERVER_CALL_RESPONSES = {
  GetConfiguration: (params) => {
    const res = { configurationKey: [] };
    if (Array.isArray(params?.key) && params.key.length) res.unknownKey = params.key;
    return res;
  },
  ChangeConfiguration: accepted,
  ChangeAvailability: accepted,
  TriggerMessage: accepted,
  RemoteStartTransaction: accepted,
  RemoteStopTransaction: accepted,
  Reset: accepted,
  ClearCache: accepted,
  DataTransfer: accepted,
  SetChargingProfile: accepted,
  ClearChargingProfile: accepted,
  SendLocalList: accepted,
  CancelReservation: accepted,
  ReserveNow: accepted,
  UnlockConnector: () => ({ status: 'Unlocked' }),
  GetLocalListVersion: () => ({ listVersion: 0 }),
  GetCompositeSchedule: () => ({ status: 'Rejected' }),
  GetDiagnostics: () => ({}),
  UpdateFirmware: () => ({}),
};

client.handle(({ method, params }) => {
  result.serverCalls.push(method);
  const make = SERVER_CALL_RESPONSES[method];
  if (!make) throw createRPCError('NotImplemented', `charger16 does not implement ${method}`);
  return make(params);
});

// ----------------------------------------------------------------- steps ---

async function call(label, method, params) {
  if (disconnected) {
    fail(`${label}: skipped, connection is closed`);
    return undefined;
  }
  lastResponseValidationFailure = null;
  try {
    return await client.call(method, params);
  } catch (err) {
    const v = lastResponseValidationFailure;
    if (v && v.method === method) {
      fail(`${label}: CSMS response failed ocpp-rpc strict schema validation (${method}.conf): ${v.why}`);
    } else {
      fail(`${label}: call rejected: ${describeError(err)}`);
    }
    return undefined;
  } finally {
    lastResponseValidationFailure = null;
  }
}

function expectStatus(label, actual, expected) {
  if (actual !== expected) fail(`${label}: expected status ${expected}, got ${JSON.stringify(actual)}`);
}

// Send a call that must be answered by a CALLERROR; returns the raw error code.
async function expectCallError(label, method, params, expectedCode) {
  if (disconnected) {
    fail(`${label}: skipped, connection is closed`);
    return null;
  }
  // Strict mode refuses to *send* calls that fail the local schema (or whose
  // action has no schema at all: ProtocolError "Schema ... is missing"), so
  // the deliberate bad calls go out with strict mode off on the same
  // connection (a second connection with the same identity could evict this one).
  client.reconfigure({ strictMode: false });
  try {
    const res = await client.call(method, params);
    fail(`${label}: expected CALLERROR ${expectedCode}, got CALLRESULT ${JSON.stringify(res)}`);
    return null;
  } catch (err) {
    const raw = rawCallErrors.get(outboundIdByMethod.get(method));
    if (!raw) {
      fail(`${label}: expected CALLERROR ${expectedCode}, call failed without one: ${describeError(err)}`);
      return null;
    }
    const [, , code, description, details] = raw;
    if (!OCPP16_ERROR_CODES.has(code)) fail(`${label}: CALLERROR code ${JSON.stringify(code)} is not an OCPP 1.6 error code`);
    if (typeof description !== 'string') fail(`${label}: CALLERROR errorDescription is not a string`);
    if (details === null || typeof details !== 'object' || Array.isArray(details)) {
      fail(`${label}: CALLERROR errorDetails is not a JSON object`);
    }
    if (code !== expectedCode) fail(`${label}: expected CALLERROR ${expectedCode}, got ${code}`);
    return code;
  } finally {
    client.reconfigure({ strictMode: true });
  }
}

function sampled(value, measurand, unit, context) {
  return { value: String(value), context, measurand, unit };
}

async function session() {
  try {
    await client.connect();
  } catch (err) {
    const http = typeof err.code === 'number' ? ` (HTTP ${err.code})` : '';
    fail(`connect to ${baseUrl}/${stationId} failed${http}: ${describeError(err)}`);
    return;
  }
  if (client.protocol !== PROTOCOL) {
    fail(`CSMS selected subprotocol ${JSON.stringify(client.protocol)}, expected ${PROTOCOL}; strict mode would be inactive`);
    return;
  }

  // BootNotification
  const boot = await call('BootNotification', 'BootNotification', {
    chargePointVendor: 'Kilowatt-Blackbox',
    chargePointModel: 'ocpp-rpc-strict',
    chargePointSerialNumber: `BB-${stationId}`.slice(0, 25),
    firmwareVersion: '1.0.0',
  });
  result.bootStatus = boot?.status ?? null;
  if (boot) expectStatus('BootNotification', boot.status, 'Accepted');
  let heartbeatTimer = null;
  if (boot) {
    result.heartbeatInterval = boot.interval;
    if (!(Number.isInteger(boot.interval) && boot.interval > 0)) {
      fail(`BootNotification: interval should be a positive integer, got ${JSON.stringify(boot.interval)}`);
    } else {
      // A real charger heartbeats at the returned interval; keep doing so for
      // as long as the session lasts (usually shorter than one interval).
      heartbeatTimer = setInterval(() => {
        call('Heartbeat (periodic)', 'Heartbeat', {});
      }, boot.interval * 1000);
      heartbeatTimer.unref();
    }
  }

  try {
    const hb = await call('Heartbeat', 'Heartbeat', {});
    if (hb && Number.isNaN(Date.parse(hb.currentTime))) fail(`Heartbeat: unparsable currentTime ${hb.currentTime}`);

    for (const connectorId of [0, 1]) {
      await call(`StatusNotification(${connectorId}, Available)`, 'StatusNotification', {
        connectorId, errorCode: 'NoError', status: 'Available', timestamp: now(),
      });
    }

    const auth = await call('Authorize', 'Authorize', { idTag });
    result.authorizeStatus = auth?.idTagInfo?.status ?? null;
    if (auth) expectStatus('Authorize', result.authorizeStatus, 'Accepted');

    await call('StatusNotification(1, Preparing)', 'StatusNotification', {
      connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: now(),
    });

    const start = await call('StartTransaction', 'StartTransaction', {
      connectorId: 1, idTag, meterStart: 1000, timestamp: now(),
    });
    result.startStatus = start?.idTagInfo?.status ?? null;
    if (start) {
      expectStatus('StartTransaction', result.startStatus, 'Accepted');
      result.transactionId = start.transactionId;
    }
    const transactionId = result.transactionId;

    await call('StatusNotification(1, Charging)', 'StatusNotification', {
      connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: now(),
    });

    if (!Number.isInteger(transactionId)) {
      fail('no transactionId from StartTransaction; MeterValues and StopTransaction skipped');
    } else {
      const readings = [[2000, 7200], [3500, 7400], [5000, 7300]];
      for (const [i, [wh, w]] of readings.entries()) {
        const mv = await call(`MeterValues #${i + 1}`, 'MeterValues', {
          connectorId: 1,
          transactionId,
          meterValue: [{
            timestamp: now(),
            sampledValue: [
              sampled(wh, 'Energy.Active.Import.Register', 'Wh', 'Sample.Periodic'),
              sampled(w, 'Power.Active.Import', 'W', 'Sample.Periodic'),
            ],
          }],
        });
        if (mv && Object.keys(mv).length) fail(`MeterValues #${i + 1}: expected empty response, got ${JSON.stringify(mv)}`);
      }

      const stop = await call('StopTransaction', 'StopTransaction', {
        idTag,
        meterStop: 6000,
        timestamp: now(),
        transactionId,
        reason: 'Local',
        transactionData: [{
          timestamp: now(),
          sampledValue: [sampled(6000, 'Energy.Active.Import.Register', 'Wh', 'Transaction.End')],
        }],
      });
      // idTagInfo is optional in StopTransaction.conf; if present it must be Accepted.
      result.stopStatus = stop?.idTagInfo?.status ?? null;
      if (stop?.idTagInfo) expectStatus('StopTransaction', result.stopStatus, 'Accepted');
    }

    for (const status of ['Finishing', 'Available']) {
      await call(`StatusNotification(1, ${status})`, 'StatusNotification', {
        connectorId: 1, errorCode: 'NoError', status, timestamp: now(),
      });
    }

    // Deliberate protocol errors: our CSMS must answer with the right CALLERROR.
    result.errors.unknownAction = await expectCallError(
      'unknown action FooBar', 'FooBar', {}, EXPECTED_ERRORS.unknownAction);
    result.errors.wrongType = await expectCallError(
      'StartTransaction with string connectorId', 'StartTransaction',
      { connectorId: '1', idTag, meterStart: 1000, timestamp: now() },
      EXPECTED_ERRORS.wrongType);

    // The connection must survive the bad calls.
    await call('Heartbeat after errors', 'Heartbeat', {});
  } finally {
    if (heartbeatTimer) clearInterval(heartbeatTimer);
  }
}

try {
  await session();
} catch (err) {
  fail(`unexpected exception: ${err?.stack ?? err}`);
}
try {
  if (client.state === RPCClient.OPEN) {
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS));
    await client.close({ code: 1000, reason: 'blackbox done', awaitPending: true });
  }
} catch (err) {
  log('close failed:', describeError(err));
}
finish(failures.length ? 1 : 0);
