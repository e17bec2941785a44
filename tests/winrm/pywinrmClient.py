# The reference client: pywinrm (Debian's python3-winrm 0.3.0). Each script goes the way Session.run_ps
# sends it, `powershell -encodedcommand <base64 UTF-16LE>` through the cmd shell. run_ps itself is not
# called: in 0.3.0 it passes stderr bytes to _clean_error_msg, which expects text and raises on Python 3.
# Reads a JSON request on stdin, prints a JSON list of {stdout, stderr, exitCode}. "messageEncryption"
# ("always" over plain http) makes pywinrm seal every message with the NTLM session keys.
import base64
import json
import sys

import winrm

request = json.load(sys.stdin)
session = winrm.Session(
    request["url"],
    auth=(request["username"], request["password"]),
    transport=request["auth"],
    server_cert_validation="validate",
    ca_trust_path=request["caFile"],
    message_encryption=request.get("messageEncryption", "auto"),
)
results = []
for script in request["scripts"]:
    encoded = base64.b64encode(script.encode("utf_16_le")).decode("ascii")
    response = session.run_cmd("powershell -encodedcommand {0}".format(encoded))
    results.append(
        {
            "stdout": response.std_out.decode("utf-8"),
            "stderr": session._clean_error_msg(response.std_err.decode("utf-8")),
            "exitCode": response.status_code,
        }
    )
print(json.dumps(results))
