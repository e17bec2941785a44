# Get/Test/Set of RADIUS timeouts long enough for a person to approve MFA on a phone.
#  - RRAS (VPN server): every RADIUS authentication server entry for our NPS servers has Timeout >= desired
#    (Get-/Set-RemoteAccessRadius). An NPS server RRAS lacks is reported, never added: that needs its secret.
#  - RADIUS proxy NPS (remoteServerGroups = true): every server in every remote RADIUS server group has
#    timeout >= desired and a blackout ("Number of seconds between requests when server is identified as
#    unavailable") >= its timeout, as Learn's RD Gateway page asks (howto-mfa-nps-extension-rdg), through NPS's
#    SDO API. Apply only saves the configuration; the running IAS refreshes it on ISdoServiceControl::ResetService
#    (Learn: windows/win32/api/sdoias/nn-sdoias-isdoservicecontrol), so Set resets it after a change, and a
#    fingerprint under HKLM:\SOFTWARE\npsmfa records what IAS was last reset with: a proxy whose forwarding
#    settings differ from it (or that has none, e.g. raised by a version of this tool that only applied) is
#    reported as resetPending, and Set resets it.
# A timeout longer than desired is left alone.
# Input:  { mode: "get" | "set", npsServers: [names], timeoutSeconds, remoteServerGroups: bool }
# Result: { rrasServers: [{ serverName, timeout }], missing: [names], remoteServers: [{ group, address, timeout, blackout }],
#           drift: [{ name, expected, found }], changed: [names], resetPending, reset }

$ForwardingLoadedValue = 'ForwardingLoadedFingerprint'

function Get-TimeoutDrift {
    param([object[]] $RrasServers, [string[]] $NpsServers, [object[]] $RemoteServers, [int] $Desired)
    $drift = @()
    foreach ($name in $NpsServers) {
        $entry = @($RrasServers | Where-Object { $_.serverName -ieq $name })
        if ($entry.Count -gt 0 -and $entry[0].timeout -lt $Desired) {
            $drift += @{ name = "rras:$name"; serverName = $entry[0].serverName; expected = $Desired; found = $entry[0].timeout }
        }
    }
    foreach ($server in $RemoteServers) {
        $entry = "nps-group:$($server.group)/$($server.address)"
        if ($server.timeout -lt $Desired) {
            $drift += @{ name = $entry; sdo = $server.sdo; property = $SdoServerTimeout; expected = $Desired; found = $server.timeout }
        }
        $timeout = [Math]::Max($server.timeout, $Desired)
        if ($server.blackout -lt $timeout) {
            $drift += @{ name = "$entry blackout"; sdo = $server.sdo; property = $SdoServerBlackout; expected = $timeout; found = $server.blackout }
        }
    }
    $drift
}

# What IAS forwards with, as one text: each remote server's group, address, timeout and blackout.
function Get-ForwardingFingerprint {
    param([object[]] $RemoteServers)
    ConvertTo-Sha256Hex ((@($RemoteServers | ForEach-Object { "$($_.group)/$($_.address)=$($_.timeout)/$($_.blackout)" }) | Sort-Object) -join "`n")
}

function Test-ForwardingResetPending {
    param([object[]] $RemoteServers)
    $recorded = $null
    if (Test-Path -Path $IasLoadedKey) {
        $property = (Get-ItemProperty -Path $IasLoadedKey).PSObject.Properties[$ForwardingLoadedValue]
        if ($null -ne $property) { $recorded = [string]$property.Value }
    }
    $recorded -ne (Get-ForwardingFingerprint $RemoteServers)
}

# A running IAS refreshes its configuration on ResetService; a stopped one reads it when it starts.
function Reset-IasForwarding {
    param([object[]] $RemoteServers)
    $reset = $false
    if ([string](Get-Service -Name IAS).Status -eq 'Running') {
        $sdo = Get-IasServiceSdo
        $sdo.service.ResetService()
        $reset = $true
    }
    if (-not (Test-Path -Path $IasLoadedKey)) { $null = New-Item -Path $IasLoadedKey -Force }
    Set-ItemProperty -Path $IasLoadedKey -Name $ForwardingLoadedValue -Value (Get-ForwardingFingerprint $RemoteServers)
    $reset
}

function Invoke-RadiusTimeout {
    param($Data)
    Set-Step 'read input'
    $mode = Get-InputValue $Data 'mode' 'get'
    $npsServers = @(Get-InputValue $Data 'npsServers' @() | ForEach-Object { [string]$_ })
    $desired = [int](Get-InputValue $Data 'timeoutSeconds' 60)
    $withGroups = [bool](Get-InputValue $Data 'remoteServerGroups' $false)

    $rras = @()
    if ($npsServers.Count -gt 0) {
        Set-Step 'read RRAS RADIUS servers'
        $rras = @(Get-RrasAuthenticationServer)
    }
    $missing = @($npsServers | Where-Object { $name = $_; @($rras | Where-Object { $_.serverName -ieq $name }).Count -eq 0 })
    $remote = @()
    if ($withGroups) {
        Set-Step 'read NPS remote RADIUS server groups'
        $remote = @(Get-RemoteRadiusServer)
    }
    $drift = @(Get-TimeoutDrift -RrasServers $rras -NpsServers $npsServers -RemoteServers $remote -Desired $desired)
    $resetPending = $false
    if ($withGroups) { $resetPending = Test-ForwardingResetPending $remote }
    $changed = @()
    $reset = $false

    if ($mode -eq 'set') {
        if ($missing.Count -gt 0) {
            Stop-HostScript -Code 'RadiusServerMissing' -Message ("RRAS has no RADIUS authentication server entry for $($missing -join ', '): add it with " +
                "Add-RemoteAccessRadius (it needs the shared secret), then apply again. Nothing was changed.") -Details @{ missing = $missing }
        }
        foreach ($entry in $drift) {
            Set-Step "set $($entry.name)"
            if ($entry.name -like 'rras:*') {
                Set-RemoteAccessRadius -ServerName $entry.serverName -Purpose Authentication -Timeout $desired
            } else {
                $entry.sdo.PutProperty($entry.property, $entry.expected)
                $entry.sdo.Apply()
            }
            $changed += $entry.name
        }
        if ($changed.Count -gt 0) {
            Set-Step 'read back timeouts'
            if ($npsServers.Count -gt 0) { $rras = @(Get-RrasAuthenticationServer) }
            if ($withGroups) { $remote = @(Get-RemoteRadiusServer) }
            $drift = @(Get-TimeoutDrift -RrasServers $rras -NpsServers $npsServers -RemoteServers $remote -Desired $desired)
            if ($drift.Count -gt 0) { Stop-HostScript -Code 'TimeoutNotApplied' -Message "timeouts still short after writing: $(($drift | ForEach-Object { $_.name }) -join ', ')" }
        }
        if ($withGroups -and ($changed.Count -gt 0 -or $resetPending)) {
            Set-Step 'reset IAS so it forwards with the new settings'
            $reset = Reset-IasForwarding $remote
            $resetPending = $false
        }
    }

    @{
        rrasServers = $rras
        missing = $missing
        remoteServers = @($remote | ForEach-Object { @{ group = $_.group; address = $_.address; timeout = $_.timeout; blackout = $_.blackout } })
        drift = @($drift | ForEach-Object { @{ name = $_.name; expected = $_.expected; found = $_.found } })
        changed = $changed
        resetPending = $resetPending
        reset = $reset
    }
}

Invoke-HostScript -Name 'RadiusTimeout' -Main { param($Data) Invoke-RadiusTimeout $Data }
exit $script:HostScriptExitCode
