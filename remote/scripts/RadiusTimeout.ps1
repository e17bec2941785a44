# Get/Test/Set of RADIUS timeouts long enough for a person to approve MFA on a phone.
#  - RRAS (VPN server): every RADIUS authentication server entry for our NPS servers has Timeout >= desired
#    (Get-/Set-RemoteAccessRadius). An NPS server RRAS lacks is reported, never added: that needs its secret.
#  - RADIUS proxy NPS (remoteServerGroups = true): every server in every remote RADIUS server group has
#    timeout >= desired (NPS's SDO API).
# A timeout longer than desired is left alone.
# Input:  { mode: "get" | "set", npsServers: [names], timeoutSeconds, remoteServerGroups: bool }
# Result: { rrasServers: [{ serverName, timeout }], missing: [names], remoteServers: [{ group, address, timeout }],
#           drift: [{ name, expected, found }], changed: [names] }

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
        if ($server.timeout -lt $Desired) {
            $drift += @{ name = "nps-group:$($server.group)/$($server.address)"; sdo = $server.sdo; expected = $Desired; found = $server.timeout }
        }
    }
    $drift
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
    $changed = @()

    if ($mode -eq 'set') {
        if ($missing.Count -gt 0) {
            Stop-HostScript -Code 'RadiusServerMissing' -Message ("RRAS has no RADIUS authentication server entry for $($missing -join ', '): add it with " +
                "Add-RemoteAccessRadius (it needs the shared secret), then apply again. Nothing was changed.") -Details @{ missing = $missing }
        }
        foreach ($entry in $drift) {
            Set-Step "set the timeout of $($entry.name)"
            if ($entry.name -like 'rras:*') {
                Set-RemoteAccessRadius -ServerName $entry.serverName -Purpose Authentication -Timeout $desired
            } else {
                $entry.sdo.PutProperty($SdoServerTimeout, $desired)
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
    }

    @{
        rrasServers = $rras
        missing = $missing
        remoteServers = @($remote | ForEach-Object { @{ group = $_.group; address = $_.address; timeout = $_.timeout } })
        drift = @($drift | ForEach-Object { @{ name = $_.name; expected = $_.expected; found = $_.found } })
        changed = $changed
    }
}

Invoke-HostScript -Name 'RadiusTimeout' -Main { param($Data) Invoke-RadiusTimeout $Data }
exit $script:HostScriptExitCode
