"""CPU of whole charging sessions, 1.6 against 2.0.1, in one process: ``python -m benchmarks.session_profile N ocpp1.6|ocpp2.0.1``.

Starts Kilowatt on a throw-away SQLite file, connects N stations of the version over real
websockets (plain JSON frames, no simulator), boots them, then runs one session on each at
once under cProfile: 1.6 StatusNotification Preparing, StartTransaction, StatusNotification
Charging, StopTransaction, StatusNotification Available; 2.0.1 StatusNotification Occupied,
TransactionEvent Started (with a register reading), Ended (with one), StatusNotification
Available. Prints the process CPU per session and per message (clients included: they run in the
same process and cost about the same for both versions) and the server functions by cumulative
time. cProfile inflates Python-heavy paths; compare the two versions in one sitting.
"""
from __future__ import annotations

import asyncio
import cProfile
import io
import itertools
import json
import pstats
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from websockets.asyncio.client import connect

from kilowatt.app import Application
from kilowatt.config import Settings
from kilowatt.logs import configure_logging

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
ids = itertools.count()

def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

async def call(ws, action, payload):
    mid = str(next(ids))
    await ws.send(json.dumps([2, mid, action, payload]))
    while True:
        frame = json.loads(await ws.recv())
        if frame[0] == 2:  # a CALL from the CSMS: answer minimal
            await ws.send(json.dumps([3, frame[1], {"status": "Accepted"} if frame[2] != "GetConfiguration" else {"configurationKey": []}]))
            continue
        if frame[1] == mid:
            assert frame[0] == 3, frame
            return frame[2]

async def session16(ws, i):
    await call(ws, "StatusNotification", {"connectorId": 1, "status": "Preparing", "errorCode": "NoError", "timestamp": now()})
    st = await call(ws, "StartTransaction", {"connectorId": 1, "idTag": "TAG", "meterStart": 1000, "timestamp": now()})
    await call(ws, "StatusNotification", {"connectorId": 1, "status": "Charging", "errorCode": "NoError", "timestamp": now()})
    await call(ws, "StopTransaction", {"transactionId": st["transactionId"], "meterStop": 2000, "timestamp": now(), "reason": "Local"})
    await call(ws, "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError", "timestamp": now()})

def mv(v):
    return [{"timestamp": now(), "sampledValue": [{"value": v, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}]

async def session201(ws, i):
    await call(ws, "StatusNotification", {"timestamp": now(), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1})
    tx = f"TX-{i}"
    await call(ws, "TransactionEvent", {"eventType": "Started", "timestamp": now(), "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {"transactionId": tx, "chargingState": "Charging"}, "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "TAG", "type": "ISO14443"}, "meterValue": mv(1000)})
    await call(ws, "TransactionEvent", {"eventType": "Ended", "timestamp": now(), "triggerReason": "StopAuthorized", "seqNo": 1,
        "transactionInfo": {"transactionId": tx, "chargingState": "Idle", "stoppedReason": "Local"},
        "meterValue": mv(2000)})
    await call(ws, "StatusNotification", {"timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1})

async def run(proto):
    with tempfile.TemporaryDirectory() as tmp:
        app = Application(Settings(database_url=f"sqlite+aiosqlite:///{Path(tmp)/'k.db'}", host="127.0.0.1", ocpp_port=0, http_port=0,
                                   configuration_fetch_delay_s=3600))
        await app.start()
        for i in range(N):
            await app.services.stations.create(f"CP-{i}")
        await app.services.authorization.create("TAG")
        url = f"ws://127.0.0.1:{app.ocpp_port}/ocpp"
        sockets = []
        for i in range(N):
            ws = await connect(f"{url}/CP-{i}", subprotocols=[proto])
            sockets.append(ws)
            boot = {"chargePointVendor": "V", "chargePointModel": "M"} if proto == "ocpp1.6" else {"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}}
            await call(ws, "BootNotification", boot)
        await asyncio.sleep(1)
        prof = cProfile.Profile()
        cpu = time.process_time()
        prof.enable()
        fn = session16 if proto == "ocpp1.6" else session201
        await asyncio.gather(*(fn(ws, i) for i, ws in enumerate(sockets)))
        prof.disable()
        cpu = time.process_time() - cpu
        msgs = N * (5 if proto == "ocpp1.6" else 4)
        print(f"== {proto}: {N} sessions, {msgs} msgs, CPU {cpu*1e3:.0f} ms (incl. clients), {cpu/N*1e6:.0f} us/session, {cpu/msgs*1e6:.0f} us/msg")
        s = io.StringIO()
        st = pstats.Stats(prof, stream=s).sort_stats("cumulative")
        st.print_stats(r"kilowatt/(ocpp|services|rpc|storage|gateway)", 45)
        print("\n".join(s.getvalue().splitlines()[:80]))
        for ws in sockets:
            await ws.close()
        await app.stop()

if __name__ == "__main__":
    configure_logging("WARNING")
    asyncio.run(run(sys.argv[2] if len(sys.argv) > 2 else "ocpp1.6"))
