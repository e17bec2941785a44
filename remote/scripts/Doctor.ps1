# Read-only facts for `npm run doctor`: everything on one NPS or VPN server that decides whether an MFA
# sign-in can work, in one run. Writes nothing: only Get-* cmdlets, Test-Path and Test-NetConnection.
# Input:  { role: "nps" | "vpn" | "proxy", tenantId, since (ISO time), authzLogNames: [..], endpoints: [host names],
#           probeToken?: bool }
# Result (nps): { certificates, extensionSettings, authorizationDlls, extensionDlls, extensionVersion,
#                 iasStatus, iasRestartPending, networkPolicies, tls12, endpoints, events,
#                 tokenProbe: null | { ok, thumbprint, aadsts, problem, milliseconds } }
# Result (vpn): { radiusServers: [{ serverName, purpose, timeoutSeconds }] }
# Result (proxy): { remoteServers: [{ group, address, timeoutSeconds }] }
# probeToken: the synthetic probe (the monitor's, `npm run doctor -- --watch`) is the token request IAS's extension makes: it writes
# nothing on the server, and Entra only issues a token.

$AzureMfaKey = 'HKLM:\SOFTWARE\Microsoft\AzureMfa'
# Learn, "Transport Layer Security (TLS) registry settings" and ".NET Framework TLS best practices".
$Tls12Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2'
$NetFrameworkKeys = @('HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319', 'HKLM:\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v4.0.30319')

# The registry values of a key as name -> value, or $null when the key does not exist.
function Get-RegistryValues {
    param([string] $Path)
    if (-not (Test-Path -Path $Path)) { return $null }
    $values = @{}
    $item = Get-ItemProperty -Path $Path
    foreach ($property in @($item.PSObject.Properties)) {
        if ($property.Name -notlike 'PS*') { $values[$property.Name] = $property.Value }
    }
    $values
}

function Get-RegistryNumber {
    param([string] $Path, [string] $Name)
    $values = Get-RegistryValues $Path
    if ($null -eq $values -or -not $values.ContainsKey($Name)) { return $null }
    [int]$values[$Name]
}

function Get-NpsCertificateFacts {
    param([string] $TenantId)
    $subject = "CN=$TenantId, OU=Microsoft NPS Extension"
    @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object { $_.Subject -eq $subject } | ForEach-Object {
            @{
                thumbprint = $_.Thumbprint.ToUpperInvariant()
                subject = $_.Subject
                notBefore = ConvertTo-IsoTime $_.NotBefore
                notAfter = ConvertTo-IsoTime $_.NotAfter
                hasPrivateKey = [bool]$_.HasPrivateKey
                networkServiceCanRead = Test-NetworkServiceCanRead $_
            }
        })
}

# Network policies and the authentication types each allows, through NPS's SDO API (NPS's PowerShell module
# has no Get-* cmdlet for network policies: Learn, powershell/module/nps). IDs from sdoias.h (Learn: windows/
# win32/api/sdoias ne-sdoias-iasproperties, -policyproperties, -profileproperties, -attributeproperties;
# NP-Authentication-Type = 4105, windows/win32/nps/sdo-np-authentication-type). $null without NPS.
$SdoPolicies = 0x401             # IASPROPERTIES.PROPERTY_IAS_POLICIES_COLLECTION
$SdoProfiles = 0x402             # IASPROPERTIES.PROPERTY_IAS_PROFILES_COLLECTION
$SdoPolicyMerit = 0x401          # POLICYPROPERTIES.PROPERTY_POLICY_MERIT
$SdoPolicyProfileName = 0x404    # POLICYPROPERTIES.PROPERTY_POLICY_PROFILE_NAME
$SdoPolicyEnabled = 0x407        # POLICYPROPERTIES.PROPERTY_POLICY_ENABLED
$SdoProfileAttributes = 0x400    # PROFILEPROPERTIES.PROPERTY_PROFILE_ATTRIBUTES_COLLECTION
$SdoAttributeId = 0x400          # ATTRIBUTEPROPERTIES.PROPERTY_ATTRIBUTE_ID
$SdoAttributeValue = 0x40C       # ATTRIBUTEPROPERTIES.PROPERTY_ATTRIBUTE_VALUE
$NpAuthenticationType = 4105     # IAS_ATTRIBUTE_NP_AUTHENTICATION_TYPE

function Get-NetworkPolicyFacts {
    $sdo = Get-IasServiceSdo
    if ($sdo.ContainsKey('missing')) { return $null }
    $types = @{}
    foreach ($networkProfile in @($sdo.service.GetProperty($SdoProfiles))) {
        $allowed = @()
        foreach ($attribute in @($networkProfile.GetProperty($SdoProfileAttributes))) {
            if ([int]$attribute.GetProperty($SdoAttributeId) -eq $NpAuthenticationType) {
                $allowed += @($attribute.GetProperty($SdoAttributeValue) | ForEach-Object { [int]$_ })
            }
        }
        $types[[string]$networkProfile.GetProperty($SdoName)] = $allowed
    }
    , @(@($sdo.service.GetProperty($SdoPolicies)) | ForEach-Object {
            $profileName = [string]$_.GetProperty($SdoPolicyProfileName)
            @{
                name = [string]$_.GetProperty($SdoName)
                merit = [int]$_.GetProperty($SdoPolicyMerit)
                enabled = [bool]$_.GetProperty($SdoPolicyEnabled)
                authenticationTypes = @(if ($types.ContainsKey($profileName)) { $types[$profileName] })
            }
        })
}

# AuthZ event 3 (ESTS_TOKEN_ERROR and the other errors), Security 6273/6274, and the TOTP prompts the extension
# asked for: "Challenge requested in Authentication Ext" in AuthZOptCh (Learn, howto-mfa-nps-extension-errors),
# matched by its text since Microsoft documents no event id for it.
filter ConvertTo-EventFact {
    @{ logName = [string]$_.LogName; id = [int]$_.Id; level = [int]$_.Level; timeCreated = ConvertTo-IsoTime $_.TimeCreated; message = [string]$_.Message }
}

function Get-EventFacts {
    param([string[]] $LogNames, [datetime] $Since)
    $filters = @(
        @{ LogName = $LogNames; Id = 3; StartTime = $Since },
        @{ LogName = 'Security'; Id = @(6273, 6274); StartTime = $Since }
    )
    foreach ($filter in $filters) {
        Get-WinEvent -FilterHashtable $filter -ErrorAction SilentlyContinue | ConvertTo-EventFact
    }
    Get-WinEvent -FilterHashtable @{ LogName = 'AuthZOptCh'; StartTime = $Since } -ErrorAction SilentlyContinue |
        Where-Object { $_.Id -ne 3 -and [string]$_.Message -like '*Challenge requested in Authentication Ext*' } |
        ConvertTo-EventFact
}

function Get-NpsFacts {
    param($Data)
    $tenantId = [string](Get-InputValue $Data 'tenantId')
    if ($tenantId -notmatch '^[0-9a-fA-F-]{36}$') { Stop-HostScript -Code 'InvalidInput' -Message 'tenantId must be a GUID' }
    $since = [datetime]::Parse([string](Get-InputValue $Data 'since'), [System.Globalization.CultureInfo]::InvariantCulture).ToUniversalTime()

    Set-Step 'read certificates'
    $certificates = @(Get-NpsCertificateFacts $tenantId)
    Set-Step 'read extension registry'
    $settings = $null
    $rawSettings = Get-RegistryValues $AzureMfaKey
    if ($null -ne $rawSettings) {
        $settings = @{}
        foreach ($name in $rawSettings.Keys) { $settings[$name] = [string]$rawSettings[$name] }
    }
    $authSrv = Get-RegistryValues $AuthSrvParametersKey
    $authorizationDlls = @()
    $extensionDlls = @()
    if ($null -ne $authSrv) {
        if ($authSrv.ContainsKey('AuthorizationDLLs')) { $authorizationDlls = @($authSrv['AuthorizationDLLs'] | ForEach-Object { [string]$_ }) }
        if ($authSrv.ContainsKey('ExtensionDLLs')) { $extensionDlls = @($authSrv['ExtensionDLLs'] | ForEach-Object { [string]$_ }) }
    }
    Set-Step 'read the extension version'
    $version = Get-ExtensionVersion
    Set-Step 'read IAS'
    $ias = Get-Service -Name IAS -ErrorAction SilentlyContinue
    # IasLoaded.ps1's record: $null when npsmfa never changed this server (nothing to compare with).
    $restartPending = $null
    if ($null -ne (Get-IasLoadedMarker)) { $restartPending = Test-IasRestartPending }
    Set-Step 'read network policies'
    $networkPolicies = Get-NetworkPolicyFacts
    Set-Step 'read TLS 1.2 settings'
    $tls12 = @{
        clientEnabled = Get-RegistryNumber "$Tls12Key\Client" 'Enabled'
        clientDisabledByDefault = Get-RegistryNumber "$Tls12Key\Client" 'DisabledByDefault'
        serverEnabled = Get-RegistryNumber "$Tls12Key\Server" 'Enabled'
        strongCrypto = Get-RegistryNumber $NetFrameworkKeys[0] 'SchUseStrongCrypto'
        strongCryptoWow6432 = Get-RegistryNumber $NetFrameworkKeys[1] 'SchUseStrongCrypto'
    }
    Set-Step 'probe endpoints'
    $endpoints = @(@(Get-InputValue $Data 'endpoints' @()) | ForEach-Object {
            @{ host = [string]$_; port = 443; reachable = [bool](Test-NetConnection -ComputerName ([string]$_) -Port 443 -InformationLevel Quiet -WarningAction SilentlyContinue) }
        })
    Set-Step 'read events'
    $events = @(Get-EventFacts -LogNames @(Get-InputValue $Data 'authzLogNames' @('AuthZAdminCh')) -Since $since)
    $tokenProbe = $null
    if ([bool](Get-InputValue $Data 'probeToken' $false)) {
        Set-Step 'probe the extension token'
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $tokenProbe = Test-ExtensionToken
        $tokenProbe.milliseconds = [int]$watch.ElapsedMilliseconds
    }
    @{
        certificates = $certificates
        extensionSettings = $settings
        authorizationDlls = $authorizationDlls
        extensionDlls = $extensionDlls
        extensionVersion = $(if ($null -ne $version) { "$version" } else { $null })
        iasStatus = if ($null -eq $ias) { $null } else { [string]$ias.Status }
        iasRestartPending = $restartPending
        networkPolicies = $networkPolicies
        tls12 = $tls12
        endpoints = $endpoints
        events = $events
        tokenProbe = $tokenProbe
    }
}

function Get-VpnFacts {
    Set-Step 'read RRAS RADIUS servers'
    @{
        radiusServers = @(Get-RrasAuthenticationServer | ForEach-Object {
                @{ serverName = $_.serverName; purpose = 'Authentication'; timeoutSeconds = $_.timeout }
            })
    }
}

# A RADIUS proxy waits this long for the extension NPS it forwards to, as RRAS waits for its RADIUS servers.
function Get-ProxyFacts {
    Set-Step 'read NPS remote RADIUS server groups'
    @{
        remoteServers = @(Get-RemoteRadiusServer | ForEach-Object {
                @{ group = $_.group; address = $_.address; timeoutSeconds = $_.timeout }
            })
    }
}

function Invoke-Doctor {
    param($Data)
    Set-Step 'read input'
    switch ([string](Get-InputValue $Data 'role')) {
        'nps' { Get-NpsFacts $Data }
        'vpn' { Get-VpnFacts }
        'proxy' { Get-ProxyFacts }
        default { Stop-HostScript -Code 'InvalidInput' -Message 'role must be nps, vpn or proxy' }
    }
}

Invoke-HostScript -Name 'Doctor' -Main { param($Data) Invoke-Doctor $Data }
exit $script:HostScriptExitCode
