"""A real `cumulus serve` on loopback over a small demo world, for the OData client and dashboard browser tests.

`demo_server(cumulus, tenants=…, users=…, days=…)` makes the world with `cumulus demo --no-serve`, gives its first
tenant a user supervisor (`cumulus import`, assignRole), writes a server configuration with a fresh HS256 key,
starts `cumulus serve --listen 127.0.0.1:0`, and mints tokens with `cumulus token`: the supervisor's, a system
admin's and the tenant's presence feed's. Stops the server (SIGTERM) and removes the directory afterwards.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid


def run(*arguments, stdin=None):
    return subprocess.run(list(arguments), input=stdin, capture_output=True, text=True, check=True).stdout


@contextlib.contextmanager
def demo_server(cumulus, tenants=2, users=12, days=1, page_size=50):
    work = tempfile.mkdtemp(prefix="cumulus-demo-server.")
    data = os.path.join(work, "data")
    server = None
    try:
        started = time.monotonic()
        out = run(cumulus, "demo", "--data-dir", data, "--tenants", str(tenants), "--users-per-tenant", str(users),
                  "--days", str(days), "--no-serve")
        tenant = re.search(r", id ([0-9a-f-]{36})\)", out).group(1)
        state = json.loads(run(cumulus, "state", "--data-dir", data, "tenant", tenant))
        azure = state["azureTenantId"]
        supervisor, platform = str(uuid.uuid4()), str(uuid.uuid4())
        occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        line = json.dumps({"command": "assignRole", "actor": "systemAdmin", "occurredAt": occurred,
                           "tenant": tenant, "principal": supervisor, "role": "userSupervisor"})
        run(cumulus, "import", "--data-dir", data, "-", stdin=line + "\n")
        config = os.path.join(work, "serve.json")
        with open(config, "w", encoding="utf-8") as handle:
            json.dump({"issuer": "https://login.example/cumulus-test", "audience": "api://cumulus",
                       "platformAdminGroups": [platform],
                       "keys": [{"kid": "test", "alg": "HS256", "secret": secrets.token_hex(32)}],
                       "odata": {"pageSize": page_size, "signingSecret": secrets.token_hex(32)}}, handle)
        log = open(os.path.join(work, "serve.out"), "w+", encoding="utf-8")
        server = subprocess.Popen([cumulus, "serve", "--data-dir", data, "--config", config, "--listen", "127.0.0.1:0"],
                                  stdout=log, stderr=subprocess.STDOUT, text=True)
        port = None
        for _ in range(600):
            log.seek(0)
            match = re.search(r"on port (\d+)", log.read())
            if match:
                port = int(match.group(1))
                break
            if server.poll() is not None:
                break
            time.sleep(0.05)
        if port is None:
            log.seek(0)
            raise RuntimeError("cumulus serve did not start:\n" + log.read())

        def token(*arguments):
            return run(cumulus, "token", "--config", config, *arguments).strip()

        yield {
            "url": f"http://127.0.0.1:{port}/",
            "data": data,
            "tenant": tenant,
            "supervisor": token("--tid", azure, "--oid", supervisor),
            "admin": token("--tid", str(uuid.uuid4()), "--groups", platform),
            "presence_feed": token("--tid", azure, "--roles", "PresenceFeed"),
            "log": log,
            "seconds_to_start": time.monotonic() - started,
        }
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
