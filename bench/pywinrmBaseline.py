# The baseline the bench compares our fleet read with: pywinrm (Debian's python3-winrm) running one
# PowerShell command per setting per host, hosts in parallel (a thread each), as an Ansible-style run does:
# one Session per host (one connection), and each command the way Session.run_ps sends it,
# `powershell -encodedcommand <base64 UTF-16LE>` through the cmd shell (run_cmd: shell, command, receive,
# signal, delete). run_ps itself is not called: in 0.3.0 it passes stderr bytes to a text function.
# Reads {"hosts": [{url, auth, username, password, caFile, scripts}]} on stdin; prints
# {"seconds": wall time of all hosts, "commands": n, "failed": n}.
import base64
import json
import sys
import threading
import time

import winrm

request = json.load(sys.stdin)
failed = []
commands = []


def read_host(host):
    session = winrm.Session(
        host["url"],
        auth=(host["username"], host["password"]),
        transport=host["auth"],
        server_cert_validation="validate",
        ca_trust_path=host["caFile"],
    )
    for script in host["scripts"]:
        encoded = base64.b64encode(script.encode("utf_16_le")).decode("ascii")
        response = session.run_cmd("powershell -encodedcommand {0}".format(encoded))
        commands.append(1)
        if response.status_code != 0:
            failed.append("{0}: exit {1}: {2}".format(host["url"], response.status_code, response.std_err[:300]))


threads = [threading.Thread(target=read_host, args=(host,)) for host in request["hosts"]]
started = time.monotonic()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"seconds": time.monotonic() - started, "commands": len(commands), "failed": failed}))
