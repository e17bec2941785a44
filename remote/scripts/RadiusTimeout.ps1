# Get/Test/Set of RADIUS timeouts long enough for a person to approve MFA on a phone.
#  - RRAS (VPN server): every RADIUS authentication server entry for our NPS servers has Timeout >= desired
#    (Get-/Set-RemoteAccessRadius). An NPS server RRAS lacks is reported, never added: that needs its secret.
#  - NPS that forwards (remoteServerGroups = true): every server in every remote RADIUS server group has
#    timeout >= desired (netsh nps show/set remoteserver).
# A timeout longer than desired is left alone.
# Input:  { mode: "get" | "set", npsServers: [names], timeoutSeconds, remoteServerGroups: bool }
# Result: { rrasServers: [{ serverName, timeout }], missing: [names], remoteServers: [{ group, address, timeout }],
#           drift: [{ name, expected, found }], changed: [names] }

# Get-RemoteAccessRadius returns RemoteAccessRadiusServer CIM instances: Timeout, Score, Port... at the top,
# ServerName and Purpose inside the embedded ServerPurpose instance (Learn: previous-versions/windows/desktop/
# ramgmtpsprov/remoteaccessradiusserver). Read through PSObject.Properties so Set-StrictMode does not throw
# on a property one shape lacks; a top-level ServerName is taken when ServerPurpose is absent.
# No RemoteAccess module (the Remote Access role is not installed) fails with RemoteAccessNotInstalled.
function Get-RrasAuthenticationServer {
    try {
        $servers = @(Get-RemoteAccessRadius -Purpose Authentication)
    } catch [System.Management.Automation.CommandNotFoundException] {
        Stop-HostScript -Code 'RemoteAccessNotInstalled' -Message ('this host has no Remote Access role: Get-RemoteAccessRadius (the RemoteAccess module) is missing. ' +
            'Is it a VPN (RRAS) server? Install the role, or correct the host name in vpnServers.')
    }
    foreach ($server in $servers) {
        $purpose = Get-InputValue $server 'ServerPurpose'
        $name = Get-InputValue $purpose 'ServerName' (Get-InputValue $server 'ServerName')
        $use = Get-InputValue $purpose 'Purpose' (Get-InputValue $server 'Purpose' 'Authentication')
        if ("$use" -ne 'Authentication' -or $null -eq $name) { continue }
        @{ serverName = [string]$name; timeout = [int](Get-InputValue $server 'Timeout' 0) }
    }
}

# Parses `netsh nps show remoteserver`: one block per server, "Remote RADIUS server group name = ...",
# "Address = ...", "Timeout (seconds) = ..." lines.
function Get-RemoteRadiusServer {
    $lines = @(netsh nps show remoteserver)
    if ($LASTEXITCODE -ne 0) { Stop-HostScript -Code 'NetshFailed' -Message "netsh nps show remoteserver failed: $($lines -join ' ')" }
    $servers = @()
    $current = @{}
    foreach ($line in $lines) {
        if ($line -match '^\s*Remote RADIUS server group name\s*=\s*(.+?)\s*$') { $current = @{ group = $Matches[1] } }
        elseif ($line -match '^\s*Address\s*=\s*(.+?)\s*$') { $current.address = $Matches[1] }
        elseif ($line -match '^\s*Timeout \(seconds\)\s*=\s*(\d+)\s*$') {
            $current.timeout = [int]$Matches[1]
            if ($current.ContainsKey('group') -and $current.ContainsKey('address')) { $servers += $current }
            $current = @{}
        }
    }
    $servers
}

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
            $drift += @{ name = "nps-group:$($server.group)/$($server.address)"; group = $server.group; address = $server.address; expected = $Desired; found = $server.timeout }
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
                $output = @(netsh nps set remoteserver "remoteservergroup=$($entry.group)" "address=$($entry.address)" "timeout=$desired")
                if ($LASTEXITCODE -ne 0) { Stop-HostScript -Code 'NetshFailed' -Message "netsh nps set remoteserver failed for $($entry.name): $($output -join ' ')" }
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
        remoteServers = $remote
        drift = @($drift | ForEach-Object { @{ name = $_.name; expected = $_.expected; found = $_.found } })
        changed = $changed
    }
}

Invoke-HostScript -Name 'RadiusTimeout' -Main { param($Data) Invoke-RadiusTimeout $Data }
exit $script:HostScriptExitCode
