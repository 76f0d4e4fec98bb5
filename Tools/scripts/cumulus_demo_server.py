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


def start_server(cumulus, data, config, log_path, listen="127.0.0.1:0"):
    """Starts `cumulus serve` on `data`; returns the process, its port and its output file (open for reading)."""
    log = open(log_path, "w+", encoding="utf-8")
    server = subprocess.Popen([cumulus, "serve", "--data-dir", data, "--config", config, "--listen", listen],
                              stdout=log, stderr=subprocess.STDOUT, text=True)
    for _ in range(600):
        log.seek(0)
        match = re.search(r"on port (\d+)", log.read())
        if match:
            return server, int(match.group(1)), log
        if server.poll() is not None:
            break
        time.sleep(0.05)
    log.seek(0)
    output = log.read()
    stop_server(server)
    raise RuntimeError("cumulus serve did not start:\n" + output)


def stop_server(server):
    """Stops a server gracefully (SIGTERM), killing it after 30 s."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def demo_server(cumulus, tenants=2, users=12, days=1, page_size=50):
    """Yields the world: url, data, tenant, tokens, the server's output (log) and `restart(data)`, which stops the
    server and serves `data` (another directory, or the same) on the same port."""
    work = tempfile.mkdtemp(prefix="cumulus-demo-server.")
    data = os.path.join(work, "data")
    servers = []
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
        server, port, log = start_server(cumulus, data, config, os.path.join(work, "serve.out"))
        servers.append(server)

        def token(*arguments):
            return run(cumulus, "token", "--config", config, *arguments).strip()

        def restart(directory):
            stop_server(servers[-1])
            path = os.path.join(work, f"serve-{len(servers) + 1}.out")
            servers.append(start_server(cumulus, directory, config, path, listen=f"127.0.0.1:{port}")[0])

        yield {
            "url": f"http://127.0.0.1:{port}/",
            "data": data,
            "tenant": tenant,
            "supervisor": token("--tid", azure, "--oid", supervisor),
            "admin": token("--tid", str(uuid.uuid4()), "--groups", platform),
            "presence_feed": token("--tid", azure, "--roles", "PresenceFeed"),
            "log": log,
            "restart": restart,
            "seconds_to_start": time.monotonic() - started,
        }
    finally:
        for server in servers:
            stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
