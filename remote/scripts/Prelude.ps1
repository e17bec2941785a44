# Prepended to every host script (remote/hostScripts.ts and the Pester tests compose them the same way).
# Data arrives as base64 JSON and is decoded here, never spliced into script text; one JSON document
# leaves on stdout: {"ok":true,"script":...,"result":{...}} or {"ok":false,"script":...,"error":{...}}
# with exit code 1. Windows PowerShell 5.1 compatible.
# The one line before this prelude defines $InputBase64: `$InputBase64 = '<base64>'` (the base64 alphabet
# cannot end a single-quoted string) when sent over WinRM, a param() block when run as a file in Pester.

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0
$script:HostScriptStep = 'decode input'
$script:HostScriptExitCode = 0

# Names the step a failure belongs to, for the structured error.
function Set-Step {
    param([string] $Name)
    $script:HostScriptStep = $Name
}

# Offers TLS 1.2 for this session's HTTPS requests, before any is made. Windows PowerShell 5.1 runs on .NET
# Framework 4.x, whose ServicePointManager leaves TLS 1.2 out for an app that targets an older framework unless
# SchUseStrongCrypto or SystemDefaultTlsVersions is set (Learn: dotnet/framework/network-programming/tls), and
# Entra's login endpoints accept only TLS 1.2 and later. Learn (howto-mfa-nps-extension): "You might be required
# to first enable TLS 1.2 for PowerShell". Added to what the session offers, so TLS 1.3 stays where it is on.
function Enable-Tls12 {
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
}

function ConvertTo-IsoTime {
    param([datetime] $Time)
    $Time.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [System.Globalization.CultureInfo]::InvariantCulture)
}

# Fails the script with a code and details that travel in the error document.
function Stop-HostScript {
    param([string] $Code, [string] $Message, [hashtable] $Details = @{})
    $exception = New-Object System.Exception $Message
    throw (New-Object System.Management.Automation.ErrorRecord $exception, $Code, 'InvalidResult', $Details)
}

# The value of a property of a decoded JSON object, or $Default when it is absent.
function Get-InputValue {
    param($Object, [string] $Name, $Default = $null)
    if ($null -eq $Object) { return $Default }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return $Default }
    $property.Value
}

function Invoke-HostScript {
    param([string] $Name, [scriptblock] $Main)
    # Several scripts can run in one command (remote/hostScripts.ts): each starts at the first step.
    $script:HostScriptStep = 'decode input'
    try {
        $json = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($InputBase64))
        $data = ConvertFrom-Json $json
        $result = $null
        foreach ($output in @(& $Main $data)) {
            if ($output -is [System.Collections.IDictionary]) { $result = $output }
        }
        $document = @{ ok = $true; script = $Name; result = $result }
    } catch {
        $script:HostScriptExitCode = 1
        $details = @{}
        if ($_.TargetObject -is [System.Collections.IDictionary]) { $details = $_.TargetObject }
        $document = @{
            ok = $false
            script = $Name
            error = @{
                step = $script:HostScriptStep
                code = ($_.FullyQualifiedErrorId -split ',')[0]
                message = $_.Exception.Message
                details = $details
            }
        }
    }
    ConvertTo-Json -InputObject $document -Depth 12 -Compress
}
