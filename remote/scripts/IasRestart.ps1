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

# ---------------------------------------------------------------- the extension's token (health check)
# Proves the extension works instead of waiting for silence: a token request made exactly as the extension
# makes it (ADAL, v1 endpoint `<STS_URL><TENANT_ID>/oauth2/token`, client_credentials, a JWT client
# assertion signed by the certificate IAS loads, for the Azure Multi-Factor Auth Connector), to the cloud's
# real login endpoint: on a real server that also proves TLS 1.2 (which the session enables first, Enable-Tls12),
# proxy and firewall. docs/lab.md has the sources (Learn: certificate credentials, howto-mfa-nps-extension,
# howto-mfa-nps-extension-errors).

$ExtensionConnectorAppId = '1f5530b3-261a-47a9-b357-ded261e17918'
$ExtensionClientAppId = '981f26a1-7f43-403b-a875-f8b09b8cd720'

# What the extension reads; STS_URL and CLIENT_ID default to the public cloud's as the extension's do.
function Get-ExtensionSetting {
    $values = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\AzureMfa' -ErrorAction SilentlyContinue
    $read = { param($Name) if ($null -ne $values -and $values.PSObject.Properties[$Name]) { [string]$values.$Name } else { '' } }
    $sts = & $read 'STS_URL'
    if (-not $sts) { $sts = 'https://login.microsoftonline.com/' }
    if (-not $sts.EndsWith('/')) { $sts += '/' }
    $client = & $read 'CLIENT_ID'
    if (-not $client) { $client = $ExtensionClientAppId }
    @{ tenantId = (& $read 'TENANT_ID'); clientId = $client; stsUrl = $sts; pinned = (& $read 'CLIENT_CERT_IDENTIFIER').ToUpperInvariant() }
}

# The certificate the extension signs with: the pinned one, else the valid one with its subject lasting longest.
function Select-ExtensionCertificate {
    param([hashtable] $Settings)
    if ($Settings.pinned) {
        return @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object { $_.Thumbprint -eq $Settings.pinned }) | Select-Object -First 1
    }
    $subject = "CN=$($Settings.tenantId), OU=Microsoft NPS Extension"
    $now = Get-Date
    @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object { $_.Subject -eq $subject -and $_.NotAfter -gt $now } |
            Sort-Object -Property NotAfter -Descending) | Select-Object -First 1
}

function ConvertTo-Base64Url {
    param([byte[]] $Bytes)
    [Convert]::ToBase64String($Bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')
}

# Learn "certificate credentials": header alg RS256, typ JWT, x5t; claims aud (token endpoint), iss = sub =
# client id, jti, nbf, iat, exp. GetRSAPrivateKey works for CAPI and CNG keys (.NET Framework 4.6+).
function New-ExtensionClientAssertion {
    param($Certificate, [string] $ClientId, [string] $Audience)
    $now = [long][Math]::Floor(([DateTime]::UtcNow - (New-Object DateTime 1970, 1, 1, 0, 0, 0, ([DateTimeKind]::Utc))).TotalSeconds)
    $header = ConvertTo-Json -Compress -InputObject @{ alg = 'RS256'; typ = 'JWT'; x5t = (ConvertTo-Base64Url $Certificate.GetCertHash()) }
    $claims = ConvertTo-Json -Compress -InputObject @{ aud = $Audience; iss = $ClientId; sub = $ClientId; jti = [guid]::NewGuid().ToString(); nbf = $now; iat = $now; exp = $now + 600 }
    $unsigned = (ConvertTo-Base64Url ([Text.Encoding]::UTF8.GetBytes($header))) + '.' + (ConvertTo-Base64Url ([Text.Encoding]::UTF8.GetBytes($claims)))
    $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
    if ($null -eq $rsa) { throw "certificate $($Certificate.Thumbprint) has no RSA private key this account can use" }
    $signature = $rsa.SignData([Text.Encoding]::ASCII.GetBytes($unsigned), [Security.Cryptography.HashAlgorithmName]::SHA256, [Security.Cryptography.RSASignaturePadding]::Pkcs1)
    "$unsigned.$(ConvertTo-Base64Url $signature)"
}

# What an AADSTS code seen with ESTS_TOKEN_ERROR means for this extension (howto-mfa-nps-extension-errors).
function Get-AadstsMeaning {
    param([string] $Code)
    switch ($Code) {
        'AADSTS7000112' { 'the Azure Multi-Factor Auth Client service principal is disabled in the tenant' }
        'AADSTS500014' { 'the Azure Multi-Factor Auth Connector service principal is disabled in the tenant' }
        'AADSTS700027' { 'the certificate IAS loaded is not registered on the Client service principal, or its key expired' }
        'AADSTS700016' { 'the Azure Multi-Factor Auth Client service principal is missing from the tenant' }
        'AADSTS90002' { 'TENANT_ID names no tenant in this cloud' }
        default { 'see https://login.microsoftonline.com/error?code=' + ($Code -replace '^AADSTS', '') }
    }
}

# @{ ok; thumbprint; aadsts; problem }: one token request as the extension makes it.
function Test-ExtensionToken {
    $settings = Get-ExtensionSetting
    $certificate = Select-ExtensionCertificate $settings
    if ($null -eq $certificate) {
        $wanted = if ($settings.pinned) { "the certificate $($settings.pinned) CLIENT_CERT_IDENTIFIER pins" } else { 'a valid NPS certificate' }
        return @{ ok = $false; thumbprint = ''; aadsts = ''; problem = "$wanted is not in LocalMachine\My" }
    }
    $endpoint = "$($settings.stsUrl)$($settings.tenantId)/oauth2/token"
    try {
        $form = @{
            grant_type = 'client_credentials'; client_id = $settings.clientId; resource = $ExtensionConnectorAppId
            client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
            client_assertion = (New-ExtensionClientAssertion $certificate $settings.clientId $endpoint)
        }
        Enable-Tls12
        [void](Invoke-WebRequest -Uri $endpoint -Method Post -Body $form -ContentType 'application/x-www-form-urlencoded' -UseBasicParsing)
        return @{ ok = $true; thumbprint = $certificate.Thumbprint; aadsts = ''; problem = '' }
    } catch {
        $text = [string]$_.Exception.Message
        if ($_.ErrorDetails -and $_.ErrorDetails.Message) { $text = [string]$_.ErrorDetails.Message }
        $description = $text
        try { $description = [string](ConvertFrom-Json $text).error_description } catch { $description = $text }
        $description = ($description -split "`r`n")[0]
        $code = ''
        if ($description -match '(AADSTS\d+)') { $code = $Matches[1] }
        $problem = if ($code) { "token request failed with $code ($(Get-AadstsMeaning $code)): $description" } else { "token request to $endpoint failed: $description" }
        return @{ ok = $false; thumbprint = $certificate.Thumbprint; aadsts = $code; problem = $problem }
    }
}

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
