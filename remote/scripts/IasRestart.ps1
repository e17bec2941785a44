# Restart of IAS (Network Policy Server) followed by a health check, and the later phase that needs a
# healthy restart first: removing NPS certificates the restarted service no longer uses. Expired certificates
# of the extension's subject go before the restart: Learn (howto-mfa-nps-extension) says to delete them, as
# they "can cause issues with the NPS Extension starting", which would fail the health check.
# Input:  { mode: "get" | "restart", force (default true), healthCheckSeconds, authzLogNames: [..],
#           retireCertificates?: { subject, keepThumbprint }, checkExtensionToken?: bool }
# Result: { status, udp1812Listening, authzErrors: [{ id, timeCreated, message }], timings: {...}, retired: [..] (expired, then superseded),
#           restarted, restartPending, loadedThumbprint }
# A restart that is not forced happens only when IasLoaded.ps1 finds one pending; a healthy restart records
# what IAS now runs (Set-IasLoadedMarker).
# Health: IAS Running, UDP 1812 listening, no Critical or Error AuthZ event during the whole check window,
# the extension's DLLs registered, and a token acquired as the extension acquires it.

$PollMilliseconds = 250

function Get-IasStatus { [string](Get-Service -Name IAS).Status }

function Test-RadiusListening {
    @(Get-NetUDPEndpoint -LocalPort 1812 -ErrorAction SilentlyContinue).Count -gt 0
}

function Get-AuthzError {
    param([string[]] $LogNames, [datetime] $Since)
    # Critical (1) and Error (2): certificate problems are logged at Critical as well.
    @(Get-WinEvent -FilterHashtable @{ LogName = $LogNames; Level = @(1, 2); StartTime = $Since } -ErrorAction SilentlyContinue |
            ForEach-Object { @{ id = [int]$_.Id; timeCreated = ConvertTo-IsoTime $_.TimeCreated; message = [string]$_.Message } })
}

# Test-ExtensionToken, the token request the extension makes, is in HostFacts.ps1: the doctor's probe makes it too.

function Assert-RetireInput {
    param($Retire)
    $subject = [string](Get-InputValue $Retire 'subject')
    $keep = [string](Get-InputValue $Retire 'keepThumbprint')
    if (-not $subject -or $keep -notmatch '^[0-9A-Fa-f]{40}$') { Stop-HostScript -Code 'InvalidInput' -Message 'retireCertificates needs a subject and the 40-hex thumbprint to keep' }
    @{ subject = $subject; keep = $keep }
}

# Certificates of the subject whose NotAfter has passed, never the one to keep.
function Remove-ExpiredCertificate {
    param($Retire)
    $wanted = Assert-RetireInput $Retire
    $now = Get-Date
    foreach ($certificate in @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object { $_.Subject -eq $wanted.subject -and $_.Thumbprint -ne $wanted.keep -and $_.NotAfter -lt $now })) {
        Remove-Item -Path "Cert:\LocalMachine\My\$($certificate.Thumbprint)" -DeleteKey
        $certificate.Thumbprint
    }
}

function Remove-SupersededCertificate {
    param($Retire)
    $wanted = Assert-RetireInput $Retire
    $subject = $wanted.subject
    $keep = $wanted.keep
    if (-not (Test-Path -Path "Cert:\LocalMachine\My\$keep")) {
        Stop-HostScript -Code 'SuccessorMissing' -Message "the certificate to keep ($keep) is not in Cert:\LocalMachine\My; nothing was removed"
    }
    $retired = @()
    foreach ($certificate in @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object { $_.Subject -eq $subject -and $_.Thumbprint -ne $keep })) {
        Remove-Item -Path "Cert:\LocalMachine\My\$($certificate.Thumbprint)" -DeleteKey
        $retired += $certificate.Thumbprint
    }
    $retired
}

function Invoke-IasRestart {
    param($Data)
    Set-Step 'read input'
    $mode = Get-InputValue $Data 'mode' 'get'
    $window = [int](Get-InputValue $Data 'healthCheckSeconds' 10)
    $logNames = @(Get-InputValue $Data 'authzLogNames' @('AuthZAdminCh'))
    $retire = Get-InputValue $Data 'retireCertificates'
    $checkToken = [bool](Get-InputValue $Data 'checkExtensionToken' $false)

    Set-Step 'read whether IAS runs what the server has'
    $pending = Test-IasRestartPending
    if ($mode -ne 'restart' -or (-not (Get-InputValue $Data 'force' $true) -and -not $pending)) {
        Set-Step 'read IAS status'
        return @{ status = Get-IasStatus; udp1812Listening = Test-RadiusListening; authzErrors = @(); timings = @{}; retired = @(); restarted = $false; restartPending = $pending }
    }

    $expired = @()
    if ($null -ne $retire) {
        Set-Step 'remove expired NPS certificates'
        $expired = @(Remove-ExpiredCertificate $retire)
    }
    $requested = Get-Date
    Set-Step 'restart IAS'
    try {
        Restart-Service -Name IAS -Force
    } catch {
        Stop-HostScript -Code 'RestartFailed' -Message "IAS did not restart: $($_.Exception.Message)" -Details @{ status = Get-IasStatus }
    }
    $restarted = Get-Date

    Set-Step 'health check'
    $runningAt = $null
    $listeningAt = $null
    $errors = @()
    $deadline = $restarted.AddSeconds($window)
    $polls = [Math]::Ceiling($window * 1000 / $PollMilliseconds) + 1
    for ($poll = 0; $poll -lt $polls; $poll++) {
        if ($null -eq $runningAt -and (Get-IasStatus) -eq 'Running') { $runningAt = Get-Date }
        if ($null -ne $runningAt -and $null -eq $listeningAt -and (Test-RadiusListening)) { $listeningAt = Get-Date }
        $errors = @(Get-AuthzError -LogNames $logNames -Since $requested)
        if ($errors.Count -gt 0 -or (Get-Date) -ge $deadline) { break }
        Start-Sleep -Milliseconds $PollMilliseconds
    }
    $token = @{ ok = $true; thumbprint = ''; aadsts = ''; problem = '' }
    if ($checkToken) { $token = Test-ExtensionToken }
    $missingDlls = @(Get-MissingExtensionDll | ForEach-Object { "$($ExtensionDlls[$_]) in $_" })
    $errors = @(Get-AuthzError -LogNames $logNames -Since $requested)
    $checked = Get-Date
    $timings = @{
        restartRequestedAt = ConvertTo-IsoTime $requested
        restartedAt = ConvertTo-IsoTime $restarted
        healthCheckedAt = ConvertTo-IsoTime $checked
        restartMilliseconds = [int]($restarted - $requested).TotalMilliseconds
        healthCheckMilliseconds = [int]($checked - $restarted).TotalMilliseconds
    }
    $status = Get-IasStatus
    $problems = @()
    if ($null -eq $runningAt) { $problems += "IAS is $status, not Running" }
    if ($null -eq $listeningAt) { $problems += 'nothing listens on UDP 1812' }
    if (-not $token.ok) { $problems += $token.problem }
    if ($missingDlls.Count -gt 0) { $problems += "the extension is not registered with NPS: missing $($missingDlls -join ', ')" }
    if ($errors.Count -gt 0) { $problems += "$($errors.Count) AuthZ error event(s) after the restart, first: $($errors[-1].message)" }
    if ($problems.Count -gt 0) {
        Stop-HostScript -Code 'HealthCheckFailed' -Message "IAS is unhealthy after its restart: $($problems -join '; ')" -Details @{ status = $status; authzErrors = $errors; timings = $timings; aadsts = $token.aadsts }
    }

    $retired = $expired
    if ($null -ne $retire) {
        Set-Step 'remove superseded NPS certificates'
        $retired += @(Remove-SupersededCertificate $retire)
    }
    Set-Step 'record what IAS runs'
    Set-IasLoadedMarker
    @{ status = $status; udp1812Listening = $true; authzErrors = @(); timings = $timings; retired = $retired; restarted = $true; restartPending = $false; loadedThumbprint = $token.thumbprint }
}

Invoke-HostScript -Name 'IasRestart' -Main { param($Data) Invoke-IasRestart $Data }
exit $script:HostScriptExitCode
