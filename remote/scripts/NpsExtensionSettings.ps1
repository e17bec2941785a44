# Get/Test/Set of the Entra MFA NPS extension's registry values (HKLM\SOFTWARE\Microsoft\AzureMfa).
# Input:  { mode: "get" | "set", settings: { NAME: "value", ... } }  (only these names are managed)
# Result: { installed, missingDlls, keyExists, values, drift: [{ name, expected, found }], changed: [names] }
# A host without the extension's DLLs registered is reported and left unchanged.

$AzureMfaKey = 'HKLM:\SOFTWARE\Microsoft\AzureMfa'
$AuthSrvParametersKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'
$ExtensionDlls = @{ AuthorizationDLLs = 'MfaNpsAuthzExt.dll'; ExtensionDLLs = 'MfaNpsAuthnExt.dll' }
$ProviderProperties = @('PSPath', 'PSParentPath', 'PSChildName', 'PSDrive', 'PSProvider')

# DLL registrations NPS needs to load the extension, named by the AuthSrv value missing them.
function Get-MissingExtensionDll {
    $missing = @()
    $parameters = $null
    if (Test-Path -Path $AuthSrvParametersKey) { $parameters = Get-ItemProperty -Path $AuthSrvParametersKey }
    foreach ($valueName in @($ExtensionDlls.Keys | Sort-Object)) {
        $registered = @()
        if ($null -ne $parameters -and $parameters.PSObject.Properties[$valueName]) { $registered = @($parameters.$valueName) }
        $dll = $ExtensionDlls[$valueName]
        if (@($registered | Where-Object { "$_" -like "*\$dll" -or "$_" -eq $dll }).Count -eq 0) { $missing += $valueName }
    }
    $missing
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

    $values = @{}
    foreach ($name in $live.Keys) { $values[$name] = $live[$name].text }
    @{
        installed = ($missingDlls.Count -eq 0)
        missingDlls = $missingDlls
        keyExists = [bool](Test-Path -Path $AzureMfaKey)
        values = $values
        drift = @($drift | ForEach-Object { @{ name = $_.name; expected = $_.expected; found = $_.found } })
        changed = $changed
    }
}

Invoke-HostScript -Name 'NpsExtensionSettings' -Main { param($Data) Invoke-NpsExtensionSettings $Data }
exit $script:HostScriptExitCode
