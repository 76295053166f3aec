#!/usr/bin/env node
// Black-box OCPP 2.0.1 / 2.1 charging station for Kilowatt, built on the independent
// `ocpp-rpc` package in strict mode: every CALLRESULT and every CSMS-initiated CALL Kilowatt
// sends is checked against ocpp-rpc's own copy of the OCPP JSON schemas (not ours), and so is
// everything this script sends.
//
// Usage: node charger201.mjs <ocpp2.0.1|ocpp2.1> <ws-base-url> <station-id> <id-token> [password]
//   e.g. node charger201.mjs ocpp2.0.1 ws://127.0.0.1:9000/ocpp CS-1 RFID-1
// The station id is appended to ws-base-url as the last path segment.
//
// stdout: JSON lines. Progress lines carry an "event" key ({"event":"ready"}, {"event":
// "remoteStarted",...}); the LAST line is the report (no "event" key). Exit 0 when the report's
// `ok` is true, 1 otherwise, 2 on bad usage. The wire log goes to stderr (BLACKBOX_QUIET=1 silences it).
//
// Env: BLACKBOX_OPERATOR=1: after the station's own session, print {"event":"ready"} and keep
// answering the CSMS until a line "done" (or EOF) arrives on stdin: the operator drives the API
// meanwhile. BLACKBOX_REPORT_WAIT_MS (default 3000): how long to wait for the CSMS's GetBaseReport
// before sending the device model report unasked. BLACKBOX_CALL_TIMEOUT_MS (15000),
// BLACKBOX_TOTAL_TIMEOUT_MS (120000), BLACKBOX_LINGER_MS (500), BLACKBOX_QUIET.

import { createRequire } from 'node:module';
import readline from 'node:readline';
import ocppRpc from 'ocpp-rpc';

const require = createRequire(import.meta.url);
const { RPCClient, RPCError, createRPCError, createValidator } = ocppRpc;

const PROTOCOLS = ['ocpp2.0.1', 'ocpp2.1'];
const CALL_TIMEOUT_MS = Number(process.env.BLACKBOX_CALL_TIMEOUT_MS || 15000);
const TOTAL_TIMEOUT_MS = Number(process.env.BLACKBOX_TOTAL_TIMEOUT_MS || 120000);
const REPORT_WAIT_MS = Number(process.env.BLACKBOX_REPORT_WAIT_MS ?? 3000);
const LINGER_MS = Number(process.env.BLACKBOX_LINGER_MS ?? 500);
const OPERATOR = Boolean(process.env.BLACKBOX_OPERATOR);
const QUIET = Boolean(process.env.BLACKBOX_QUIET);

// OCPP-J 2.0.1 (Part 4) section 4.3 error codes; 2.1 has the same set.
const OCPP2_ERROR_CODES = new Set([
  'FormatViolation', 'GenericError', 'InternalError', 'MessageTypeNotSupported', 'NotImplemented',
  'NotSupported', 'OccurrenceConstraintViolation', 'PropertyConstraintViolation', 'ProtocolError',
  'RpcFrameworkError', 'SecurityError', 'TypeConstraintViolation',
]);

const argv = process.argv.slice(2);
if (argv.length < 4 || argv.length > 5 || !PROTOCOLS.includes(argv[0])) {
  console.error(`usage: node charger201.mjs <${PROTOCOLS.join('|')}> <ws-base-url> <station-id> <id-token> [password]`);
  process.exit(2);
}
const [PROTOCOL, baseUrl, stationId, idToken, password] = argv;

const log = (...args) => { if (!QUIET) console.error(`[charger201 ${PROTOCOL}]`, ...args); };
const emit = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const result = {
  ok: false,
  protocol: PROTOCOL,
  bootStatus: null,
  heartbeatInterval: null,
  authorize: {},           // IdToken type -> idTokenInfo.status (and certificateStatus for eMAID)
  localTransaction: null,  // {transactionId, started, ended}: idTokenInfo statuses
  dataTransferStatus: null,
  getBaseReport: null,     // {requestId, reportBase} when the CSMS asked for the device model
  reportRequestId: null,   // the requestId the NotifyReport parts carried
  remoteStarts: [],        // {remoteStartId, transactionId, evseId, idToken}
  remoteStops: [],         // {transactionId, status}
  resets: [],              // {type, evseId}
  variablesGot: [],        // [{component, variable, attributeStatus}]
  variablesSet: [],
  errors: {},              // bad frame label -> CALLERROR code received
  serverCalls: [],         // every CSMS-initiated action, in order
  failures: [],
};
const failures = result.failures;
const fail = (msg) => { log('FAILURE:', msg); failures.push(msg); };

let printed = false;
function finish() {
  if (printed) return;
  printed = true;
  result.ok = failures.length === 0;
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

const watchdog = setTimeout(() => {
  fail(`overall timeout after ${TOTAL_TIMEOUT_MS} ms`);
  finish();
}, TOTAL_TIMEOUT_MS);
watchdog.unref();

const now = () => new Date().toISOString();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function describeError(err) {
  if (err instanceof RPCError) {
    const extra = err.details?.errors ? ` ${JSON.stringify(err.details.errors)}` : '';
    return `${err.rpcErrorCode}: ${err.message}${extra}`;
  }
  return `${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`;
}

// ----------------------------------------------------------- validators ---

// ocpp-rpc 2.2.1 ships the OCPP 2.1 schemas with the ids `urn:<Action>Request` /
// `urn:<Action>Response`, but looks schemas up as `urn:<Action>.req` / `.conf` (as for 1.6 and
// 2.0.1), so its stock 2.1 validator finds none and refuses every call with ProtocolError (upstream
// mikuso/ocpp-rpc pull request 94). We build the 2.1 validator from the very same bundled schemas,
// renaming only the ids, with ocpp-rpc's own createValidator: the schemas stay ocpp-rpc's.
function ocpp21Validator() {
  const schemas = require('ocpp-rpc/lib/schemas/ocpp2_1.json').map((schema) => ({
    ...schema,
    $id: schema.$id.replace(/Request$/, '.req').replace(/Response$/, '.conf'),
  }));
  return createValidator('ocpp2.1', schemas);
}

// ---------------------------------------------------------------- client ---

const client = new RPCClient({
  endpoint: baseUrl.replace(/\/+$/, ''),
  identity: stationId,
  protocols: [PROTOCOL],
  strictMode: true,
  strictModeValidators: PROTOCOL === 'ocpp2.1' ? [ocpp21Validator()] : [],
  password: password ?? null,
  reconnect: false,
  callTimeoutMs: CALL_TIMEOUT_MS,
});

// Raw frames we sent on purpose (bad frames): message id -> label. The CSMS's CALLERROR for one of
// them matches no pending call, so ocpp-rpc reports it as a bad message; we read it there.
const rawSent = new Map();
const rawAnswers = new Map(); // message id -> [4, id, code, description, details]
const rawWaiters = new Map(); // message id -> resolve

client.on('message', ({ message, outbound }) => {
  log(outbound ? '>>' : '<<', String(message).slice(0, 2000));
});
client.on('badMessage', ({ buffer, error }) => {
  let frame = null;
  try { frame = JSON.parse(String(buffer)); } catch { /* not JSON: a real bad message */ }
  if (Array.isArray(frame) && frame[0] === 4 && rawSent.has(frame[1])) {
    rawAnswers.set(frame[1], frame);
    rawWaiters.get(frame[1])?.();
    return;
  }
  fail(`bad message from CSMS (${describeError(error)}): ${String(buffer).slice(0, 300)}`);
});

// Set when a CSMS response to one of our calls fails schema validation; the step that made the
// call turns it into a readable failure.
let lastResponseValidationFailure = null;
client.on('strictValidationFailure', ({ method, error, outbound, isCall }) => {
  const why = describeError(error);
  if (!outbound && !isCall) {
    lastResponseValidationFailure = { method, why };
  } else if (!outbound && isCall) {
    fail(`strict mode: CSMS-initiated ${method} request failed ocpp-rpc schema validation: ${why}`);
  } else if (outbound && !isCall) {
    fail(`strict mode: our own ${method} response failed validation (charger bug): ${why}`);
  } else {
    fail(`strict mode: our own ${method} request failed validation (charger bug): ${why}`);
  }
});

let disconnected = false;
client.on('disconnect', ({ code, reason }) => {
  disconnected = true;
  log(`disconnected: ${code} ${reason}`);
});

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
      fail(`${label}: CSMS response failed ocpp-rpc strict schema validation (${method}Response): ${v.why}`);
    } else {
      fail(`${label}: call rejected: ${describeError(err)}`);
    }
    return undefined;
  } finally {
    lastResponseValidationFailure = null;
  }
}

function expectEqual(label, actual, expected) {
  if (actual !== expected) fail(`${label}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// ------------------------------------------------------ the device model ---

// What this station reports in NotifyReport and reads/writes for GetVariables/SetVariables.
const deviceModel = [
  { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, value: '300', mutability: 'ReadWrite', dataType: 'integer', unit: 's' },
  { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'NetworkProfileConnectionAttempts' }, value: '3', mutability: 'ReadWrite', dataType: 'integer' },
  { component: { name: 'AuthCtrlr' }, variable: { name: 'AuthorizeRemoteStart' }, value: 'true', mutability: 'ReadWrite', dataType: 'boolean' },
  { component: { name: 'TxCtrlr' }, variable: { name: 'EVConnectionTimeOut' }, value: '60', mutability: 'ReadWrite', dataType: 'integer', unit: 's' },
  { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' }, value: '22000', mutability: 'ReadOnly', dataType: 'decimal', unit: 'W', maxLimit: 22000 },
  { component: { name: 'EVSE', evse: { id: 2 } }, variable: { name: 'Power' }, value: '11000', mutability: 'ReadOnly', dataType: 'decimal', unit: 'W', maxLimit: 11000 },
  { component: { name: 'Connector', evse: { id: 2, connectorId: 2 } }, variable: { name: 'ConnectorType' }, value: 'cType2', mutability: 'ReadOnly', dataType: 'string' },
  { component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, value: null, mutability: 'WriteOnly', dataType: 'string' },
];

const sameComponent = (a, b) => a.name === b.name && (a.instance ?? '') === (b.instance ?? '')
  && (a.evse?.id ?? 0) === (b.evse?.id ?? 0) && (a.evse?.connectorId ?? 0) === (b.evse?.connectorId ?? 0);
const findVariable = (component, variable) => deviceModel.find(
  (v) => sameComponent(v.component, component) && v.variable.name === variable.name && (variable.instance ?? '') === '');

function reportData(entry) {
  const attribute = { type: 'Actual', mutability: entry.mutability, persistent: true, constant: entry.mutability === 'ReadOnly' };
  if (entry.value !== null) attribute.value = entry.value;
  const characteristics = { dataType: entry.dataType, supportsMonitoring: entry.dataType !== 'string' };
  if (entry.unit) characteristics.unit = entry.unit;
  if (entry.maxLimit !== undefined) characteristics.maxLimit = entry.maxLimit;
  return { component: entry.component, variable: entry.variable, variableAttribute: [attribute], variableCharacteristics: characteristics };
}

// ------------------------------------------------------------ the EVSEs ---

const EVSES = [{ id: 1, connectors: [1] }, { id: 2, connectors: [1, 2] }];
const transactions = new Map(); // station transactionId -> {evseId, connectorId, seqNo, meterWh}
let transactionCounter = 0;
const newTransactionId = () => `${stationId}-${Date.now().toString(36)}-${++transactionCounter}`;

async function status(evseId, connectorId, connectorStatus) {
  await call(`StatusNotification(${evseId}/${connectorId}, ${connectorStatus})`, 'StatusNotification', {
    timestamp: now(), connectorStatus, evseId, connectorId,
  });
}

const energy = (wh, context, extra = {}) => ({ value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' }, ...extra });

async function transactionEvent(label, transactionId, eventType, triggerReason, fields = {}) {
  const tx = transactions.get(transactionId);
  const { info = {}, ...rest } = fields;
  const payload = {
    eventType,
    timestamp: now(),
    triggerReason,
    seqNo: tx.seqNo++,
    transactionInfo: { transactionId, ...info },
    ...rest,
  };
  return call(label, 'TransactionEvent', payload);
}

// A transaction started by the CSMS (RequestStartTransaction): Started with its remoteStartId.
async function runRemoteStart(params) {
  const evseId = params.evseId ?? 2;
  const transactionId = newTransactionId();
  transactions.set(transactionId, { evseId, connectorId: 1, seqNo: 0, meterWh: 20000 });
  await status(evseId, 1, 'Occupied');
  const started = await transactionEvent('TransactionEvent Started (RemoteStart)', transactionId, 'Started', 'RemoteStart', {
    evse: { id: evseId, connectorId: 1 },
    idToken: params.idToken,
    meterValue: [{ timestamp: now(), sampledValue: [energy(20000, 'Transaction.Begin')] }],
    info: { chargingState: 'Charging', remoteStartId: params.remoteStartId },
  });
  const entry = { remoteStartId: params.remoteStartId, transactionId, evseId, idToken: params.idToken, status: started?.idTokenInfo?.status ?? null };
  result.remoteStarts.push(entry);
  emit({ event: 'remoteStarted', ...entry });
}

async function runRemoteStop(transactionId) {
  const tx = transactions.get(transactionId);
  tx.meterWh += 4200;
  await transactionEvent('TransactionEvent Ended (RemoteStop)', transactionId, 'Ended', 'RemoteStop', {
    meterValue: [{ timestamp: now(), sampledValue: [energy(tx.meterWh, 'Transaction.End')] }],
    info: { stoppedReason: 'Remote', chargingState: 'Idle' },
  });
  transactions.delete(transactionId);
  await status(tx.evseId, tx.connectorId, 'Available');
  emit({ event: 'remoteStopped', transactionId });
}

// Work a handler starts after its answer went out (a station answers RequestStartTransaction
// before it sends the TransactionEvent that the start causes).
const afterAnswer = [];
function later(work) {
  const done = new Promise((resolve) => setTimeout(resolve, 50)).then(work).catch((err) => fail(`after answer: ${err?.stack ?? err}`));
  afterAnswer.push(done);
}

// ------------------------------------------------- CSMS-initiated calls ---

let getBaseReportArrived = null;
const getBaseReportSeen = new Promise((resolve) => { getBaseReportArrived = resolve; });

const accepted = () => ({ status: 'Accepted' });
const SERVER_CALL_RESPONSES = {
  GetBaseReport: (params) => {
    result.getBaseReport = { requestId: params.requestId, reportBase: params.reportBase };
    getBaseReportArrived(params.requestId);
    return { status: 'Accepted' };
  },
  GetReport: () => ({ status: 'EmptyResultSet' }),
  GetVariables: (params) => ({
    getVariableResult: params.getVariableData.map(({ component, variable, attributeType }) => {
      const entry = findVariable(component, variable);
      const answer = { component, variable };
      if (attributeType) answer.attributeType = attributeType;
      if (!entry) {
        answer.attributeStatus = deviceModel.some((v) => sameComponent(v.component, component)) ? 'UnknownVariable' : 'UnknownComponent';
      } else if ((attributeType ?? 'Actual') !== 'Actual') {
        answer.attributeStatus = 'NotSupportedAttributeType';
      } else if (entry.mutability === 'WriteOnly') {
        answer.attributeStatus = 'Rejected';
      } else {
        answer.attributeStatus = 'Accepted';
        answer.attributeValue = entry.value;
      }
      result.variablesGot.push({ component: component.name, variable: variable.name, attributeStatus: answer.attributeStatus });
      return answer;
    }),
  }),
  SetVariables: (params) => ({
    setVariableResult: params.setVariableData.map(({ component, variable, attributeType, attributeValue }) => {
      const entry = findVariable(component, variable);
      const answer = { component, variable };
      if (attributeType) answer.attributeType = attributeType;
      if (!entry) {
        answer.attributeStatus = deviceModel.some((v) => sameComponent(v.component, component)) ? 'UnknownVariable' : 'UnknownComponent';
      } else if ((attributeType ?? 'Actual') !== 'Actual') {
        answer.attributeStatus = 'NotSupportedAttributeType';
      } else if (entry.mutability === 'ReadOnly') {
        answer.attributeStatus = 'Rejected';
      } else if (entry.dataType === 'integer' && !/^-?\d+$/.test(attributeValue)) {
        answer.attributeStatus = 'Rejected';
      } else {
        entry.value = entry.mutability === 'WriteOnly' ? null : attributeValue;
        answer.attributeStatus = 'Accepted';
      }
      result.variablesSet.push({ component: component.name, variable: variable.name, value: attributeValue, attributeStatus: answer.attributeStatus });
      return answer;
    }),
  }),
  RequestStartTransaction: (params) => {
    const busy = [...transactions.values()].some((tx) => tx.evseId === (params.evseId ?? 2));
    if (busy) return { status: 'Rejected' };
    later(() => runRemoteStart(params));
    return { status: 'Accepted' };
  },
  RequestStopTransaction: (params) => {
    const known = transactions.has(params.transactionId);
    result.remoteStops.push({ transactionId: params.transactionId, status: known ? 'Accepted' : 'Rejected' });
    if (!known) return { status: 'Rejected' };
    later(() => runRemoteStop(params.transactionId));
    return { status: 'Accepted' };
  },
  Reset: (params) => {
    result.resets.push({ type: params.type, evseId: params.evseId ?? null });
    emit({ event: 'reset', type: params.type });
    // OnIdle with a transaction running is Scheduled (B12.FR.01); this station does not reboot.
    return { status: params.type === 'OnIdle' && transactions.size ? 'Scheduled' : 'Accepted' };
  },
  ChangeAvailability: accepted,
  TriggerMessage: (params) => {
    if (params.requestedMessage === 'Heartbeat') {
      later(() => call('Heartbeat (triggered)', 'Heartbeat', {}));
      return { status: 'Accepted' };
    }
    return { status: 'NotImplemented' };
  },
  UnlockConnector: () => ({ status: 'Unlocked' }),
  ClearCache: accepted,
  DataTransfer: () => ({ status: 'UnknownVendorId' }),
  GetTransactionStatus: (params) => {
    const response = { messagesInQueue: false };
    if (params.transactionId) response.ongoingIndicator = transactions.has(params.transactionId);
    return response;
  },
  SetChargingProfile: accepted,
  ClearChargingProfile: () => ({ status: 'Unknown' }),
  GetChargingProfiles: () => ({ status: 'NoProfiles' }),
  GetCompositeSchedule: () => ({ status: 'Rejected' }),
  GetLocalListVersion: () => ({ versionNumber: 0 }),
  SendLocalList: accepted,
  ReserveNow: accepted,
  CancelReservation: () => ({ status: 'Rejected' }),
  CostUpdated: () => ({}),
  GetInstalledCertificateIds: () => ({ status: 'NotFound' }),
  GetDisplayMessages: () => ({ status: 'Unknown' }),
  ClearDisplayMessage: () => ({ status: 'Unknown' }),
  SetMonitoringBase: accepted,
  SetMonitoringLevel: accepted,
  GetMonitoringReport: () => ({ status: 'EmptyResultSet' }),
};

client.handle(({ method, params }) => {
  result.serverCalls.push(method);
  const make = SERVER_CALL_RESPONSES[method];
  if (!make) throw createRPCError('NotImplemented', `charger201 does not implement ${method}`);
  return make(params);
});

// ------------------------------------------------------------ bad frames ---

// Each frame goes out raw (strict mode would refuse to send it) and must be answered by the
// CALLERROR named, with the message id it carried ("-1" when it has none the CSMS could read).
const BAD_FRAMES = [
  { label: 'unknownAction', id: 'bad-1', frame: '[2,"bad-1","FlyToTheMoon",{}]', code: 'NotImplemented' },
  { label: 'csmsOnlyAction', id: 'bad-2', frame: '[2,"bad-2","Reset",{"type":"Immediate"}]', code: 'NotSupported' },
  { label: 'extraProperty', id: 'bad-3', frame: '[2,"bad-3","Heartbeat",{"extra":1}]', code: 'FormatViolation' },
  {
    label: 'missingField', id: 'bad-4', code: 'OccurrenceConstraintViolation',
    frame: '[2,"bad-4","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z","evseId":1,"connectorId":1}]',
  },
  {
    label: 'wrongType', id: 'bad-5', code: 'TypeConstraintViolation',
    frame: '[2,"bad-5","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Available","evseId":"1","connectorId":1}]',
  },
  {
    label: 'badEnumValue', id: 'bad-6', code: 'PropertyConstraintViolation',
    frame: '[2,"bad-6","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Charging","evseId":1,"connectorId":1}]',
  },
  { label: 'unknownMessageType', id: 'bad-7', frame: '[9,"bad-7","Heartbeat",{}]', code: 'MessageTypeNotSupported' },
  { label: 'noPayload', id: 'bad-8', frame: '[2,"bad-8","Heartbeat"]', code: 'RpcFrameworkError' },
  { label: 'notJson', id: '-1', frame: 'this is not json', code: 'RpcFrameworkError' },
];

async function sendBadFrame({ label, id, frame, code }) {
  if (disconnected) {
    fail(`bad frame ${label}: skipped, connection is closed`);
    return;
  }
  rawSent.set(id, label);
  rawAnswers.delete(id);
  const answered = new Promise((resolve) => rawWaiters.set(id, resolve));
  client.sendRaw(frame);
  const timer = sleep(CALL_TIMEOUT_MS).then(() => 'timeout');
  if ((await Promise.race([answered, timer])) === 'timeout') {
    fail(`bad frame ${label}: no CALLERROR with message id ${JSON.stringify(id)} within ${CALL_TIMEOUT_MS} ms`);
    return;
  }
  rawWaiters.delete(id);
  const [, , received, description, details] = rawAnswers.get(id);
  result.errors[label] = received;
  if (!OCPP2_ERROR_CODES.has(received)) fail(`bad frame ${label}: ${JSON.stringify(received)} is not an OCPP 2.0.1 error code`);
  if (typeof description !== 'string') fail(`bad frame ${label}: errorDescription is not a string`);
  if (details === null || typeof details !== 'object' || Array.isArray(details)) fail(`bad frame ${label}: errorDetails is not a JSON object`);
  if (received !== code) fail(`bad frame ${label}: expected CALLERROR ${code}, got ${received} (${description})`);
}

// ----------------------------------------------------------------- steps ---

async function boot() {
  const booted = await call('BootNotification', 'BootNotification', {
    reason: 'PowerUp',
    chargingStation: {
      model: 'ocpp-rpc-strict',
      vendorName: 'Kilowatt-Blackbox',
      serialNumber: `BB-${stationId}`.slice(0, 25),
      firmwareVersion: '2.0.1-bb',
      modem: { iccid: '89310410106543789301', imsi: '262011234567890' },
    },
  });
  result.bootStatus = booted?.status ?? null;
  if (!booted) return false;
  expectEqual('BootNotification status', booted.status, 'Accepted');
  result.heartbeatInterval = booted.interval;
  if (!(Number.isInteger(booted.interval) && booted.interval > 0)) fail(`BootNotification: interval ${JSON.stringify(booted.interval)} is not a positive integer`);
  if (Number.isNaN(Date.parse(booted.currentTime))) fail(`BootNotification: unparsable currentTime ${booted.currentTime}`);
  return booted.status === 'Accepted';
}

async function authorizeEveryType() {
  const tokens = [
    ['ISO14443', idToken],
    ['ISO15693', 'E004010012345678'],
    ['eMAID', 'NL-KWT-C12345678-X'],
    ['KeyCode', '4711'],
    ['Local', 'local-42'],
    ['MacAddress', '00:1A:2B:3C:4D:5E'],
    ['Central', 'central-7'],
    ['NoAuthorization', ''],
  ];
  for (const [type, token] of tokens) {
    const request = { idToken: { idToken: token, type } };
    if (type === 'eMAID') {
      request.idToken.additionalInfo = [{ additionalIdToken: 'KWT-CONTRACT-1', type: 'ContractId' }];
      request.iso15118CertificateHashData = [{
        hashAlgorithm: 'SHA256',
        issuerNameHash: 'a'.repeat(64),
        issuerKeyHash: 'b'.repeat(64),
        serialNumber: '1f2e3d',
        responderURL: 'http://ocsp.example/',
      }];
    }
    const answer = await call(`Authorize(${type})`, 'Authorize', request);
    result.authorize[type] = answer?.idTokenInfo?.status ?? null;
    if (answer?.certificateStatus) result.authorize[`${type}.certificateStatus`] = answer.certificateStatus;
  }
}

async function localTransaction() {
  const transactionId = newTransactionId();
  transactions.set(transactionId, { evseId: 1, connectorId: 1, seqNo: 0, meterWh: 1000 });
  const token = { idToken, type: 'ISO14443' };
  const signed = {
    signedMeterData: Buffer.from('OCMF|{"RD":[{"RV":2.5,"RU":"kWh"}]}').toString('base64'),
    signingMethod: 'ECDSA-secp256r1-SHA256',
    encodingMethod: 'OCMF',
    publicKey: Buffer.from('-----BEGIN PUBLIC KEY-----').toString('base64'),
  };
  await status(1, 1, 'Occupied');
  const started = await transactionEvent('TransactionEvent Started', transactionId, 'Started', 'Authorized', {
    evse: { id: 1, connectorId: 1 },
    idToken: token,
    meterValue: [{ timestamp: now(), sampledValue: [energy(1000, 'Transaction.Begin')] }],
    info: { chargingState: 'EVConnected' },
  });
  await transactionEvent('TransactionEvent Updated (charging)', transactionId, 'Updated', 'ChargingStateChanged', {
    numberOfPhasesUsed: 3,
    cableMaxCurrent: 32,
    info: { chargingState: 'Charging' },
  });
  // kWh, kW with a multiplier, a signed register reading, per-phase currents.
  await transactionEvent('TransactionEvent Updated (meter values)', transactionId, 'Updated', 'MeterValuePeriodic', {
    meterValue: [{
      timestamp: now(),
      sampledValue: [
        { value: 2.5, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' }, signedMeterValue: signed },
        { value: 7.4, context: 'Sample.Periodic', measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W', multiplier: 3 } },
        { value: 10.7, context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1', unitOfMeasure: { unit: 'A' } },
        { value: 10.6, context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L2', unitOfMeasure: { unit: 'A' } },
        { value: 10.9, context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L3', unitOfMeasure: { unit: 'A' } },
        { value: 61, context: 'Sample.Periodic', measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } },
      ],
    }],
    info: { chargingState: 'Charging' },
  });
  const ended = await transactionEvent('TransactionEvent Ended', transactionId, 'Ended', 'EVCommunicationLost', {
    idToken: token,
    meterValue: [{ timestamp: now(), sampledValue: [energy(6000, 'Transaction.End', { signedMeterValue: signed })] }],
    info: { stoppedReason: 'EVDisconnected', chargingState: 'Idle' },
  });
  transactions.delete(transactionId);
  await status(1, 1, 'Available');
  result.localTransaction = {
    transactionId,
    started: started?.idTokenInfo?.status ?? null,
    ended: ended?.idTokenInfo?.status ?? null,
  };
}

async function mainMeter() {
  const answer = await call('MeterValues (EVSE 0)', 'MeterValues', {
    evseId: 0,
    meterValue: [{
      timestamp: now(),
      sampledValue: [
        { value: 1234.567, context: 'Sample.Clock', measurand: 'Energy.Active.Import.Register', location: 'Inlet', unitOfMeasure: { unit: 'kWh' } },
        { value: 230.1, context: 'Sample.Clock', measurand: 'Voltage', phase: 'L1-N', location: 'Inlet', unitOfMeasure: { unit: 'V' } },
        { value: 0.229, context: 'Sample.Clock', measurand: 'Voltage', phase: 'L2-N', location: 'Inlet', unitOfMeasure: { unit: 'V', multiplier: 3 } },
      ],
    }],
  });
  if (answer && Object.keys(answer).length) fail(`MeterValues: expected an empty response, got ${JSON.stringify(answer)}`);
}

async function deviceModelReport() {
  // A station reports its device model when asked (GetBaseReport, right after an accepted boot);
  // a CSMS that did not ask gets it anyway, under a requestId of the station's choosing.
  const asked = await Promise.race([getBaseReportSeen, sleep(REPORT_WAIT_MS).then(() => null)]);
  const requestId = asked ?? 0;
  result.reportRequestId = requestId;
  const generatedAt = now();
  const reported = deviceModel.map(reportData);
  const half = Math.ceil(reported.length / 2);
  await call('NotifyReport part 0 (tbc)', 'NotifyReport', { requestId, generatedAt, tbc: true, seqNo: 0, reportData: reported.slice(0, half) });
  await call('NotifyReport part 1', 'NotifyReport', { requestId, generatedAt, tbc: false, seqNo: 1, reportData: reported.slice(half) });
}

async function dataTransfer() {
  const answer = await call('DataTransfer', 'DataTransfer', {
    vendorId: 'com.kilowatt.blackbox',
    messageId: 'SessionSummary',
    data: { sessions: 1, energyWh: 5000, note: 'data may be any JSON in 2.0.1' },
  });
  result.dataTransferStatus = answer?.status ?? null;
}

async function waitForOperator() {
  emit({ event: 'ready', transactionsRunning: transactions.size });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'done') break;
  }
  lines.close();
  await Promise.all(afterAnswer);
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
  if (!(await boot())) return;
  for (const evse of EVSES) {
    for (const connectorId of evse.connectors) await status(evse.id, connectorId, 'Available');
  }
  const hb = await call('Heartbeat', 'Heartbeat', {});
  if (hb && Number.isNaN(Date.parse(hb.currentTime))) fail(`Heartbeat: unparsable currentTime ${hb.currentTime}`);
  await authorizeEveryType();
  await localTransaction();
  await mainMeter();
  await deviceModelReport();
  await dataTransfer();
  if (OPERATOR) await waitForOperator();
  await Promise.all(afterAnswer);
  for (const bad of BAD_FRAMES) await sendBadFrame(bad);
  await call('Heartbeat after the bad frames', 'Heartbeat', {}); // the connection survived them
}

try {
  await session();
} catch (err) {
  fail(`unexpected exception: ${err?.stack ?? err}`);
}
try {
  if (client.state === RPCClient.OPEN) {
    await sleep(LINGER_MS);
    await client.close({ code: 1000, reason: 'blackbox done', awaitPending: true });
  }
} catch (err) {
  log('close failed:', describeError(err));
}
finish();
