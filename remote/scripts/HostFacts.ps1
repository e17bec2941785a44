# Reads shared by the host scripts (NpsCertificate, NpsExtensionSettings, RadiusTimeout) and the doctor
# (Doctor.ps1): which file holds a certificate's private key and whether NETWORK SERVICE may read it, the
# installed NPS extension's version, RRAS's RADIUS authentication servers, a RADIUS proxy's remote RADIUS
# servers and the extension's token request (IasRestart.ps1's health check, the doctor's probe). One
# definition, so the doctor judges a server exactly as the providers do.
# Composed by remote/hostScripts.ts after Prelude.ps1; Windows PowerShell 5.1 compatible.

$NetworkServiceSid = 'S-1-5-20'
$AuthSrvParametersKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'

# NETWORK SERVICE and the groups its token always holds (Everyone, Authenticated Users, BUILTIN\Users, SERVICE):
# a grant to any of them lets IAS, which runs as NETWORK SERVICE, read the key (Learn: windows/win32/services/
# networkservice-account; windows-server/identity/ad-ds/manage/understand-security-identifiers).
$NetworkServiceGroupSids = @('S-1-5-20', 'S-1-1-0', 'S-1-5-11', 'S-1-5-32-545', 'S-1-5-6')
# Access mask bits (Learn: windows/win32/secauthz/access-mask-format, generic-access-rights; a file's
# GENERIC_READ maps to FILE_GENERIC_READ, GENERIC_ALL to FILE_ALL_ACCESS: windows/win32/fileio/file-security-and-access-rights).
$ReadMask = [int][System.Security.AccessControl.FileSystemRights]::Read
$FullControlMask = [int][System.Security.AccessControl.FileSystemRights]::FullControl
$GenericReadMask = [int]-2147483648
$GenericAllMask = [int]0x10000000

# The file holding the certificate's private key. GetRSAPrivateKey, not PrivateKey: on Windows PowerShell 5.1
# (.NET Framework) PrivateKey throws for a key held by a CNG key storage provider, the default of
# New-SelfSignedCertificate and common for certificates an administrator brings. A CNG key (RSACng) is the
# file Key.UniqueName under %ProgramData%\Microsoft\Crypto\Keys; a CAPI key (RSACryptoServiceProvider) the
# file CspKeyContainerInfo.UniqueKeyContainerName under ...\Crypto\RSA\MachineKeys (Learn: windows/win32/
# seccng/key-storage-and-retrieval; dotnet/api/...rsacertificateextensions.getrsaprivatekey).
function Get-PrivateKeyFile {
    param($Certificate)
    if (-not $Certificate.HasPrivateKey) { return $null }
    $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
    if ($null -eq $key) { return $null }
    $cngKey = $key.PSObject.Properties['Key']
    if ($null -ne $cngKey -and $null -ne $cngKey.Value) {
        return Join-Path $env:ProgramData "Microsoft\Crypto\Keys\$($cngKey.Value.UniqueName)"
    }
    $capiKey = $key.PSObject.Properties['CspKeyContainerInfo']
    if ($null -ne $capiKey -and $null -ne $capiKey.Value) {
        return Join-Path $env:ProgramData "Microsoft\Crypto\RSA\MachineKeys\$($capiKey.Value.UniqueKeyContainerName)"
    }
    Stop-HostScript -Code 'UnsupportedPrivateKey' -Message "the private key of $($Certificate.Thumbprint) is neither a CNG nor a CAPI machine key ($($key.GetType().FullName)); give NETWORK SERVICE read access to it by hand"
}

# The rights an ACE grants as specific file rights: generic bits (what a grant in the certificates console
# may store) mapped to the file rights they stand for.
function ConvertTo-FileRightsMask {
    param([int] $Mask)
    if (($Mask -band $GenericReadMask) -ne 0) { $Mask = $Mask -bor $ReadMask }
    if (($Mask -band $GenericAllMask) -ne 0) { $Mask = $Mask -bor $FullControlMask }
    $Mask
}

# True when an ACE for NETWORK SERVICE or a group it is in allows every Read bit, and none denies one.
function Test-NetworkServiceCanRead {
    param($Certificate)
    $keyFile = Get-PrivateKeyFile $Certificate
    if ($null -eq $keyFile -or -not (Test-Path -Path $keyFile)) { return $false }
    $acl = Get-Acl -Path $keyFile
    $allowed = 0
    foreach ($rule in @($acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier]))) {
        if ($NetworkServiceGroupSids -notcontains [string]$rule.IdentityReference.Value) { continue }
        $mask = ConvertTo-FileRightsMask ([int]$rule.FileSystemRights)
        if ("$($rule.AccessControlType)" -eq 'Deny') {
            if (($mask -band $ReadMask) -ne 0) { return $false }
        } else {
            $allowed = $allowed -bor $mask
        }
    }
    ($allowed -band $ReadMask) -eq $ReadMask
}

# CLIENT_CERT_IDENTIFIER naming the certificate by thumbprint needs this extension version or later; older
# ones ignore it silently and keep picking a certificate by subject (Learn: entra/identity/authentication/
# howto-mfa-nps-extension, certificate rollover / multiple certificates).
$ThumbprintIdentifierMinimumVersion = [version]'1.2.2893.1'

# The extension's DLLs NPS must have registered to load it, by the AuthSrv\Parameters value (REG_MULTI_SZ)
# that lists each, as the extension's installer registers them. One definition for the settings script and
# the restart's health check, which both run in one command.
$ExtensionDlls = [ordered]@{ AuthorizationDLLs = 'MfaNpsAuthzExt.dll'; ExtensionDLLs = 'MfaNpsAuthnExt.dll' }

# The names of the AuthSrv values that lack their extension DLL (a path ending in it, or its bare name).
function Get-MissingExtensionDll {
    $parameters = $null
    if (Test-Path -Path $AuthSrvParametersKey) { $parameters = Get-ItemProperty -Path $AuthSrvParametersKey }
    foreach ($valueName in $ExtensionDlls.Keys) {
        $registered = @()
        if ($null -ne $parameters -and $parameters.PSObject.Properties[$valueName]) { $registered = @($parameters.$valueName) }
        $dll = $ExtensionDlls[$valueName]
        if (@($registered | Where-Object { "$_" -like "*\$dll" -or "$_" -eq $dll }).Count -eq 0) { $valueName }
    }
}

# The installed extension's version: the file version of its authorization DLL, as registered in AuthSrv.
# $null when the DLL cannot be found or read.
function Get-ExtensionVersion {
    if (-not (Test-Path -Path $AuthSrvParametersKey)) { return $null }
    $parameters = Get-ItemProperty -Path $AuthSrvParametersKey
    $property = $parameters.PSObject.Properties['AuthorizationDLLs']
    if ($null -eq $property) { return $null }
    foreach ($registered in @($property.Value)) {
        if ("$registered" -notlike '*MfaNpsAuthzExt.dll') { continue }
        $path = [System.Environment]::ExpandEnvironmentVariables([string]$registered)
        if (-not (Test-Path -Path $path)) { continue }
        $info = (Get-Item -Path $path).VersionInfo
        return New-Object System.Version $info.FileMajorPart, $info.FileMinorPart, $info.FileBuildPart, $info.FilePrivatePart
    }
    $null
}

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

# A RADIUS proxy's remote RADIUS server groups (RadiusTimeout.ps1 writes them, the doctor reads them), read and
# written through NPS's documented SDO API rather than netsh output (whose layout is undocumented and
# localized): the machine SDO "IAS.SdoMachine", attached to this
# computer, GetServiceSDO(DATA_STORE_LOCAL = 0, "IAS"), then properties by their sdoias.h IDs (Learn:
# windows/win32/nps/sdo-obtaining-a-machine-sdo, sdo-attaching-to-an-sdo-enabled-computer; windows/win32/api/
# sdoias/ne-sdoias-iasproperties, -radiusservergroupproperties, -radiusserverproperties, -iascommonproperties).
$SdoRadiusServerGroups = 0x400   # IASPROPERTIES.PROPERTY_IAS_RADIUSSERVERGROUPS_COLLECTION
$SdoName = 2                     # IASCOMMONPROPERTIES.PROPERTY_SDO_NAME
$SdoGroupServers = 0x400         # RADIUSSERVERGROUPPROPERTIES.PROPERTY_RADIUSSERVERGROUP_SERVERS_COLLECTION
$SdoServerAddress = 0x404        # RADIUSSERVERPROPERTIES.PROPERTY_RADIUSSERVER_ADDRESS
$SdoServerTimeout = 0x408        # RADIUSSERVERPROPERTIES.PROPERTY_RADIUSSERVER_TIMEOUT
$SdoServerBlackout = 0x40A       # RADIUSSERVERPROPERTIES.PROPERTY_RADIUSSERVER_BLACKOUT

# The NPS service SDO of this computer, or the reason it cannot be had (no NPS role).
function Get-IasServiceSdo {
    try {
        $machine = New-Object -ComObject 'IAS.SdoMachine'
    } catch {
        return @{ missing = "IAS.SdoMachine cannot be created: $($_.Exception.Message)" }
    }
    $machine.Attach($null)
    @{ service = $machine.GetServiceSDO(0, 'IAS') }
}

# Each server of each remote RADIUS server group: { group, address, timeout, blackout, sdo }. The console
# calls them "Number of seconds without response before request is considered dropped" and "Number of seconds
# between requests when server is identified as unavailable" (Learn: howto-mfa-nps-extension-rdg).
function Get-RemoteRadiusServer {
    $sdo = Get-IasServiceSdo
    if ($sdo.ContainsKey('missing')) {
        Stop-HostScript -Code 'NpsNotInstalled' -Message "this host has no Network Policy Server ($($sdo.missing)). Is it the RADIUS proxy?"
    }
    $service = $sdo.service
    foreach ($group in @($service.GetProperty($SdoRadiusServerGroups))) {
        $groupName = [string]$group.GetProperty($SdoName)
        foreach ($server in @($group.GetProperty($SdoGroupServers))) {
            @{
                group = $groupName; address = [string]$server.GetProperty($SdoServerAddress)
                timeout = [int]$server.GetProperty($SdoServerTimeout); blackout = [int]$server.GetProperty($SdoServerBlackout); sdo = $server
            }
        }
    }
}

# ---------------------------------------------------------------- the extension's token
# IasRestart.ps1's health check after a restart and Doctor.ps1's synthetic probe (npm run doctor -- --watch).
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
