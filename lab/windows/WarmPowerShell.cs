// A warm PowerShell for the lab's Windows hosts: one pwsh process serves one command at a time, each in a
// fresh runspace, so starting pwsh (about 2 s of CPU and 200 MiB under `dotnet pwsh`) is paid once per
// worker instead of once per WinRM command. Compiled by Add-Type in the worker (lab/winrm/powershellPool.ts
// starts it); it speaks JSON lines on stdin/stdout:
//   in:  {"type":"run","script":"...","env":{...}}  {"type":"input","data":"..."}  {"type":"end"}
//   out: {"type":"ready","pid":N}  {"type":"stdout","data":"..."}  {"type":"stderr","data":"..."}  {"type":"exit","code":N}
//
// What a command sees is what `powershell.exe -NonInteractive -EncodedCommand` gives it (the PowerShell
// command-line reference, about_PowerShell_exe / about_Pwsh):
//   - output objects are formatted by the formatter (Out-String -Stream stands in for Out-Default);
//   - Write-Host goes to stdout (PSHOST-tagged information records), not to the information stream's CLIXML;
//   - errors and warnings go to stderr as CLIXML (`#< CLIXML`, <S S="Error">, <S S="warning">), which
//     pywinrm's run_ps and our client turn back into text;
//   - `exit N` ends the command with N (ExitException reaches PSHost.SetShouldExit); otherwise the exit code
//     is 0, or 1 when the last statement failed or a terminating error ended the script;
//   - `$input` is standard input, line by line, as it arrives; it ends when the client closes stdin.
// Isolation between commands: a new runspace each time (opened while the worker waits for the command),
// and the process environment reset to what the worker started with, since `$env:X = ...` writes the process's environment. Static .NET state (types
// loaded by Add-Type) does persist within a worker; docs/lab.md says so.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Text;
using System.Text.Json;
using System.Threading;

namespace NpsmfaLab
{
    public sealed class WarmHost : PSHost
    {
        private readonly Guid id = Guid.NewGuid();
        public int? ExitCode;
        public override string Name { get { return "ConsoleHost"; } }
        public override Version Version { get { return new Version(5, 1); } }
        public override Guid InstanceId { get { return id; } }
        // No UI: Write-Host then arrives as an information record tagged PSHOST, which we write to stdout.
        public override PSHostUserInterface UI { get { return null; } }
        public override CultureInfo CurrentCulture { get { return CultureInfo.CurrentCulture; } }
        public override CultureInfo CurrentUICulture { get { return CultureInfo.CurrentUICulture; } }
        public override void EnterNestedPrompt() { throw new NotSupportedException("no nested prompt in a non-interactive host"); }
        public override void ExitNestedPrompt() { }
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
        public override void SetShouldExit(int exitCode) { ExitCode = exitCode; }
    }

    public static class WarmPowerShell
    {
        private static readonly object writeLock = new object();
        private static readonly IDictionary startEnvironment = Environment.GetEnvironmentVariables();
        private static readonly BlockingQueue runs = new BlockingQueue();
        // Set by the reader when a run arrives, before any of its input can: the pool sends the next run
        // only after this one's exit.
        private static volatile Command current;

        private sealed class Command
        {
            public Command(JsonElement request) { Request = request; }
            public readonly JsonElement Request;
            public readonly PSDataCollection<object> Input = new PSDataCollection<object>();
            public readonly StringBuilder PartialLine = new StringBuilder();
        }

        private sealed class BlockingQueue
        {
            private readonly Queue<Command> items = new Queue<Command>();
            /** null: stdin closed, the worker ends. */
            public void Add(Command item) { lock (items) { items.Enqueue(item); Monitor.Pulse(items); } }
            public Command Take()
            {
                lock (items)
                {
                    while (items.Count == 0) Monitor.Wait(items);
                    return items.Dequeue();
                }
            }
        }

        public static void Serve()
        {
            var reader = new Thread(ReadRequests) { IsBackground = true };
            reader.Start();
            Prepare(Environment.GetEnvironmentVariable("NPSMFA_WARM_SHIM"));
            // The pid lets the pool tell a command that computes from one that sleeps (powershellPool.ts).
            Send("ready", null, null, Environment.ProcessId);
            while (true)
            {
                var command = runs.Take();
                if (command == null) return;
                Run(command);
            }
        }

        // Stdin is read on its own thread so input for the running command arrives while it runs.
        private static void ReadRequests()
        {
            string line;
            while ((line = Console.In.ReadLine()) != null)
            {
                var message = JsonDocument.Parse(line).RootElement.Clone();
                var type = message.GetProperty("type").GetString();
                if (type == "run")
                {
                    current = new Command(message);
                    runs.Add(current);
                    continue;
                }
                var command = current;
                if (command == null) continue;
                lock (command)
                {
                    if (type == "input") AddInput(command, message.GetProperty("data").GetString());
                    else if (type == "end")
                    {
                        if (command.PartialLine.Length > 0) command.Input.Add(command.PartialLine.ToString());
                        command.PartialLine.Clear();
                        command.Input.Complete();
                    }
                }
            }
            runs.Add(null);
        }

        // Like a process reading redirected stdin: one string per line, CR LF or LF ending it.
        private static void AddInput(Command command, string data)
        {
            foreach (var ch in data)
            {
                if (ch == '\n')
                {
                    var text = command.PartialLine.ToString();
                    command.Input.Add(text.EndsWith("\r") ? text.Substring(0, text.Length - 1) : text);
                    command.PartialLine.Clear();
                }
                else command.PartialLine.Append(ch);
            }
        }

        private static void Run(Command command)
        {
            var request = command.Request;
            var env = request.GetProperty("env");
            foreach (var variable in env.EnumerateObject())
                Environment.SetEnvironmentVariable(variable.Name, variable.Value.GetString());
            // Error records are formatted once the command is done: the runspace is busy until then.
            var errors = new List<object>();
            var shim = Environment.GetEnvironmentVariable("NPSMFA_SHIM_MODULE") ?? "";
            if (prepared == null || preparedShim != shim) Prepare(shim);
            var host = prepared.Item1;
            int exitCode;
            using (var runspace = prepared.Item2)
            {
                prepared = null;
                using (var ps = PowerShell.Create())
                {
                    ps.Runspace = runspace;
                    // The statement after the script records $? of its last statement: the console host's exit code.
                    ps.AddScript(request.GetProperty("script").GetString() + "\n$global:NpsmfaLabLastSucceeded = $?").AddCommand("Out-String").AddParameter("Stream");
                    var output = new PSDataCollection<PSObject>();
                    output.DataAdded += (sender, e) => Send("stdout", output[e.Index] + "\r\n", null);
                    ps.Streams.Information.DataAdded += (sender, e) =>
                    {
                        var record = ps.Streams.Information[e.Index];
                        if (!record.Tags.Contains("PSHOST")) return;
                        var message = record.MessageData as HostInformationMessage;
                        var text = message != null ? message.Message : Convert.ToString(record.MessageData, CultureInfo.InvariantCulture);
                        Send("stdout", message != null && message.NoNewLine == true ? text : text + "\r\n", null);
                    };
                    ps.Streams.Error.DataAdded += (sender, e) => { lock (errors) errors.Add(ps.Streams.Error[e.Index]); };
                    ps.Streams.Warning.DataAdded += (sender, e) => { lock (errors) errors.Add(ps.Streams.Warning[e.Index]); };
                    bool lastFailed = false;
                    try
                    {
                        ps.EndInvoke(ps.BeginInvoke(command.Input, output));
                        lastFailed = LastStatementFailed(runspace);
                    }
                    catch (RuntimeException failure)
                    {
                        // A terminating error: the console host prints it and the process exits 1.
                        if (host.ExitCode == null) errors.Add(failure.ErrorRecord);
                        lastFailed = true;
                    }
                    finally { current = null; }
                    exitCode = host.ExitCode ?? (lastFailed ? 1 : 0);
                }
                if (errors.Count > 0)
                {
                    var clixml = new StringBuilder("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">");
                    foreach (var item in errors)
                    {
                        var warning = item as WarningRecord;
                        clixml.Append(warning != null ? Clixml("warning", warning.Message) : Clixml("Error", Format(runspace, (ErrorRecord)item)));
                    }
                    Send("stderr", clixml.Append("</Objs>").ToString(), null);
                }
            }
            ResetEnvironment();
            Send("exit", null, exitCode);
            Prepare(shim);
        }

        private static Tuple<WarmHost, Runspace> prepared;
        private static string preparedShim;

        // The next command's runspace, opened while the worker waits: a fresh runspace with the shim already
        // imported (its functions read the host's state file named by the environment at call time, so
        // importing it early changes nothing a command sees; the command's own `Import-Module` of the shim
        // then finds it loaded). CreateDefault, not CreateDefault2 with the Management and Utility modules
        // imported: it registers their cmdlets as built-in entries, and the first Get-Date or Out-String of
        // a command then costs no module set-up, about 30 ms of CPU per command. The difference a script can
        // see, Get-Module not listing those two, is in docs/lab.md.
        private static void Prepare(string shim)
        {
            var iss = InitialSessionState.CreateDefault();
            if (!string.IsNullOrEmpty(shim) && System.IO.File.Exists(shim)) iss.ImportPSModule(new[] { shim });
            var host = new WarmHost();
            var runspace = RunspaceFactory.CreateRunspace(host, iss);
            runspace.Open();
            prepared = Tuple.Create(host, runspace);
            preparedShim = shim ?? "";
        }

        private static bool LastStatementFailed(Runspace runspace)
        {
            var succeeded = runspace.SessionStateProxy.GetVariable("NpsmfaLabLastSucceeded");
            return succeeded is bool && !(bool)succeeded;
        }

        // The error as the console shows it ($ErrorView's default), formatted by the runspace itself.
        private static string Format(Runspace runspace, ErrorRecord record)
        {
            using (var ps = PowerShell.Create())
            {
                ps.Runspace = runspace;
                ps.AddCommand("Out-String");
                var text = new StringBuilder();
                foreach (var line in ps.Invoke(new object[] { record })) text.Append(line);
                return text.ToString().Trim('\r', '\n');
            }
        }

        // One <S> per line, as Windows PowerShell writes its error stream for a non-console parent.
        private static string Clixml(string stream, string text)
        {
            var parts = new StringBuilder();
            foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
                parts.Append("<S S=\"").Append(stream).Append("\">").Append(Escape(line)).Append("_x000D__x000A_</S>");
            return parts.ToString();
        }

        // CLIXML's string encoding (MS-PSRP 2.2.5.3.2, Encoding Strings): XML entities, control characters as
        // _xHHHH_, and an underscore as _x005F_ where it would otherwise read as the start of such an escape.
        // \G anchors at the index given to IsMatch: no copy of the rest of the text per underscore.
        private static readonly System.Text.RegularExpressions.Regex EscapeLike =
            new System.Text.RegularExpressions.Regex(@"\G_x[0-9A-Fa-f]{4}_");

        private static string Escape(string text)
        {
            var escaped = new StringBuilder();
            for (var index = 0; index < text.Length; index++)
            {
                var ch = text[index];
                if (ch == '&') escaped.Append("&amp;");
                else if (ch == '<') escaped.Append("&lt;");
                else if (ch == '>') escaped.Append("&gt;");
                else if (ch < 0x20) escaped.Append(string.Format(CultureInfo.InvariantCulture, "_x{0:X4}_", (int)ch));
                else if (ch == '_' && EscapeLike.IsMatch(text, index)) escaped.Append("_x005F_");
                else escaped.Append(ch);
            }
            return escaped.ToString();
        }

        private static void ResetEnvironment()
        {
            foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
                if (!startEnvironment.Contains(variable.Key)) Environment.SetEnvironmentVariable((string)variable.Key, null);
            foreach (DictionaryEntry variable in startEnvironment)
                Environment.SetEnvironmentVariable((string)variable.Key, (string)variable.Value);
        }

        private static void Send(string type, string data, int? code, int? pid = null)
        {
            var message = new Dictionary<string, object> { { "type", type } };
            if (data != null) message["data"] = data;
            if (code != null) message["code"] = code.Value;
            if (pid != null) message["pid"] = pid.Value;
            var line = JsonSerializer.Serialize(message);
            lock (writeLock)
            {
                Console.Out.Write(line + "\n");
                Console.Out.Flush();
            }
        }
    }
}
