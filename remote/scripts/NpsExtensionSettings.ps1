# Get/Test/Set of the Entra MFA NPS extension's registry values (HKLM\SOFTWARE\Microsoft\AzureMfa).
# Input:  { mode: "get" | "set", settings: { NAME: "value", ... }, minimumVersion: "1.2.2893.1" | null }
#         (only these names are managed; set refuses an extension below minimumVersion)
# Result: { installed, missingDlls, extensionVersion, keyExists, values, drift: [{ name, expected, found }], changed: [names],
#           createdDefaults: [names] }
# A host without the extension's DLLs registered is reported and left unchanged.

$AzureMfaKey = 'HKLM:\SOFTWARE\Microsoft\AzureMfa'
$ProviderProperties = @('PSPath', 'PSParentPath', 'PSChildName', 'PSDrive', 'PSProvider')

# Refuses, before anything is written, to pin the certificate by thumbprint on an extension that ignores it.
function Assert-ThumbprintIdentifierSupported {
    param([hashtable] $Desired, $Version)
    $identifier = $null
    foreach ($name in $Desired.Keys) { if ($name -ieq 'CLIENT_CERT_IDENTIFIER') { $identifier = $Desired[$name] } }
    if ($null -eq $identifier -or $identifier -notmatch '^[0-9A-Fa-f]{40}$') { return }
    if ($null -ne $Version -and $Version -ge $ThumbprintIdentifierMinimumVersion) { return }
    $found = 'an unreadable version'
    if ($null -ne $Version) { $found = "version $Version" }
    Stop-HostScript -Code 'ExtensionTooOld' -Message ("the NPS extension installed here is $found; CLIENT_CERT_IDENTIFIER as a certificate thumbprint " +
        "needs version $ThumbprintIdentifierMinimumVersion or later (older versions ignore it). Upgrade the extension " +
        '(https://aka.ms/npsmfa), then apply again. Nothing was changed.') -Details @{ found = "$Version"; needed = "$ThumbprintIdentifierMinimumVersion" }
}

# Refuses, before anything is written, an extension older than the stack's declared minimum: its behaviour
# differs by version (TOTP prompts from 1.2.2216.1, thumbprint pinning from 1.2.2893.1), and without an
# installer declared npsmfa reports the version but never changes it.
function Assert-MinimumVersion {
    param([string] $Minimum, $Version)
    if ([string]::IsNullOrEmpty($Minimum)) { return }
    if ($null -ne $Version -and $Version -ge [version]$Minimum) { return }
    $found = 'an unreadable version'
    if ($null -ne $Version) { $found = "version $Version" }
    Stop-HostScript -Code 'ExtensionBelowMinimum' -Message ("the NPS extension installed here is $found; the stack declares extension.minimumVersion " +
        "$Minimum. Install $Minimum or later (NpsExtnForAzureMfaInstaller.exe, https://aka.ms/npsmfa), then apply again. Nothing was changed.") -Details @{ found = "$Version"; needed = $Minimum }
}

# Every value under the AzureMfa key, as text (a REG_MULTI_SZ joins with ';').
function Get-ExtensionValue {
    $values = @{}
    if (-not (Test-Path -Path $AzureMfaKey)) { return $values }
    $item = Get-ItemProperty -Path $AzureMfaKey
    foreach ($property in $item.PSObject.Properties) {
        if ($ProviderProperties -contains $property.Name) { continue }
        $value = $property.Value
        if ($value -is [array]) { $value = ($value -join ';') }
        $values[$property.Name] = @{ text = [string]$value; isString = ($property.Value -is [string]) }
    }
    $values
}

function Test-ValuePresent {
    param([hashtable] $Live, [string] $Name)
    foreach ($liveName in $Live.Keys) { if ($liveName -ieq $Name) { return $true } }
    $false
}

function Get-SettingsDrift {
    param([hashtable] $Desired, [hashtable] $Live)
    $drift = @()
    foreach ($name in @($Desired.Keys | Sort-Object)) {
        $found = $null
        $isString = $true
        foreach ($liveName in $Live.Keys) {
            if ($liveName -ieq $name) { $found = $Live[$liveName].text; $isString = $Live[$liveName].isString }
        }
        if ($null -eq $found -or -not $isString -or $found -cne $Desired[$name]) {
            $drift += @{ name = $name; expected = $Desired[$name]; found = $found; foundIsString = $isString }
        }
    }
    $drift
}

function Invoke-NpsExtensionSettings {
    param($Data)
    Set-Step 'read input'
    $mode = Get-InputValue $Data 'mode' 'get'
    $desired = @{}
    $settings = Get-InputValue $Data 'settings'
    if ($null -ne $settings) {
        foreach ($property in $settings.PSObject.Properties) { $desired[$property.Name] = [string]$property.Value }
    }

    Set-Step 'read extension DLL registration'
    $missingDlls = @(Get-MissingExtensionDll)
    Set-Step 'read AzureMfa registry values'
    $live = Get-ExtensionValue
    $drift = @(Get-SettingsDrift -Desired $desired -Live $live)
    $changed = @()
    $createdDefaults = @()
    $version = $null
    if ($missingDlls.Count -eq 0) {
        Set-Step 'read the extension version'
        $version = Get-ExtensionVersion
    }

    if ($mode -eq 'set' -and $missingDlls.Count -eq 0) {
        Assert-MinimumVersion -Minimum ([string](Get-InputValue $Data 'minimumVersion' '')) -Version $version
        Assert-ThumbprintIdentifierSupported -Desired $desired -Version $version
    }

    if ($mode -eq 'set' -and $missingDlls.Count -eq 0 -and $drift.Count -gt 0) {
        Set-Step 'create the AzureMfa registry key'
        if (-not (Test-Path -Path $AzureMfaKey)) { $null = New-Item -Path 'HKLM:\SOFTWARE\Microsoft' -Name 'AzureMfa' }
        foreach ($entry in $drift) {
            Set-Step "write $($entry.name)"
            if ($null -ne $entry.found -and -not $entry.foundIsString) {
                Remove-ItemProperty -Path $AzureMfaKey -Name $entry.name
                $entry.found = $null
            }
            if ($null -eq $entry.found) {
                $null = New-ItemProperty -Path $AzureMfaKey -Name $entry.name -Value $entry.expected -PropertyType String
            } else {
                Set-ItemProperty -Path $AzureMfaKey -Name $entry.name -Value $entry.expected
            }
            $changed += $entry.name
        }
        Set-Step 'read back AzureMfa registry values'
        $live = Get-ExtensionValue
        $drift = @(Get-SettingsDrift -Desired $desired -Live $live)
        if ($drift.Count -gt 0) {
            Stop-HostScript -Code 'SettingsNotApplied' -Message "AzureMfa values still differ after writing: $(($drift | ForEach-Object { $_.name }) -join ', ')" -Details @{ names = @($drift | ForEach-Object { $_.name }) }
        }
    }

    if ($mode -eq 'set' -and $missingDlls.Count -eq 0 -and -not (Test-ValuePresent -Live $live -Name 'IP_WHITELIST')) {
        # Not declared and absent: Learn advises creating IP_WHITELIST empty, or the extension logs an error for
        # the missing value each time IAS starts (howto-mfa-nps-extension-advanced, "IP exceptions"). An
        # existing value, declared or not, is left as it is. Reported apart from `changed`: an empty list
        # changes no authentication, so it is no reason to restart IAS.
        Set-Step 'create an empty IP_WHITELIST'
        if (-not (Test-Path -Path $AzureMfaKey)) { $null = New-Item -Path 'HKLM:\SOFTWARE\Microsoft' -Name 'AzureMfa' }
        $null = New-ItemProperty -Path $AzureMfaKey -Name 'IP_WHITELIST' -Value '' -PropertyType String
        $createdDefaults += 'IP_WHITELIST'
        $live = Get-ExtensionValue
    }

    $values = @{}
    foreach ($name in $live.Keys) { $values[$name] = $live[$name].text }
    @{
        installed = ($missingDlls.Count -eq 0)
        missingDlls = $missingDlls
        extensionVersion = $(if ($null -ne $version) { "$version" } else { $null })
        keyExists = [bool](Test-Path -Path $AzureMfaKey)
        values = $values
        drift = @($drift | ForEach-Object { @{ name = $_.name; expected = $_.expected; found = $_.found } })
        changed = $changed
        createdDefaults = $createdDefaults
    }
}

Invoke-HostScript -Name 'NpsExtensionSettings' -Main { param($Data) Invoke-NpsExtensionSettings $Data }
exit $script:HostScriptExitCode
