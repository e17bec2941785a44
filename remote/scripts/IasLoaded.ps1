# Whether IAS (Network Policy Server) runs what is on the server now, recorded on the server itself.
# The NPS extension reads its registry values and its certificate only when IAS starts ("restart the NPS
# service" after changing either: Microsoft Learn, "Integrate your existing NPS infrastructure with Microsoft
# Entra multifactor authentication", Configure certificates / registry settings). So a fingerprint of both is
# written under HKLM:\SOFTWARE\npsmfa after each healthy restart, and before the first change we make to a
# server that has none (what IAS runs then is taken as what it loaded). IAS must restart while the
# fingerprint on the server differs from the recorded one, whichever run changed it and however that run
# ended. The extension's own version is recorded beside it (IasLoadedExtensionVersion): IAS loads the DLLs at
# start too, so an install or upgrade leaves a restart pending. It is a value of its own, not part of the
# fingerprint, so records written before it existed stay valid: an absent version is not a pending restart.
# Composed by remote/hostScripts.ts before HostFacts.ps1 (Get-ExtensionVersion), which is defined by the time
# these functions run; Windows PowerShell 5.1 compatible.

$IasLoadedKey = 'HKLM:\SOFTWARE\npsmfa'
$IasLoadedValue = 'IasLoadedFingerprint'
$IasLoadedVersionValue = 'IasLoadedExtensionVersion'

# SHA-256 over the AzureMfa values and the thumbprints of the NPS extension's certificates, sorted.
function Get-IasLoadedFingerprint {
    $parts = @()
    $azureMfaKey = 'HKLM:\SOFTWARE\Microsoft\AzureMfa'
    if (Test-Path -Path $azureMfaKey) {
        $item = Get-ItemProperty -Path $azureMfaKey
        foreach ($property in @($item.PSObject.Properties | Where-Object { $_.Name -notlike 'PS*' } | Sort-Object Name)) {
            $parts += "$($property.Name)=$(@($property.Value) -join ';')"
        }
    }
    $certificates = @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object { $_.Subject -like '*OU=Microsoft NPS Extension*' })
    foreach ($thumbprint in @($certificates | ForEach-Object { $_.Thumbprint } | Sort-Object)) { $parts += "certificate=$thumbprint" }
    ConvertTo-Sha256Hex ($parts -join "`n")
}

# Upper-case hex SHA-256 of a text's UTF-8 bytes: the fingerprints recorded under $IasLoadedKey.
function ConvertTo-Sha256Hex {
    param([string] $Text)
    $sha256 = [System.Security.Cryptography.SHA256]::Create()
    try {
        $hash = $sha256.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Text))
    } finally {
        $sha256.Dispose()
    }
    ([System.BitConverter]::ToString($hash)) -replace '-', ''
}

# A value of the record, or $null when it (or the key) is absent.
function Get-IasLoadedValue {
    param([string] $Name)
    if (-not (Test-Path -Path $IasLoadedKey)) { return $null }
    $item = Get-ItemProperty -Path $IasLoadedKey
    $property = $item.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    [string]$property.Value
}

function Get-IasLoadedMarker { Get-IasLoadedValue $IasLoadedValue }

# The extension version on the server now, as the record keeps it ("" when none is installed or readable).
function Get-CurrentExtensionVersionText {
    $version = Get-ExtensionVersion
    if ($null -eq $version) { return '' }
    "$version"
}

function Set-IasLoadedMarker {
    # -Force only creates what is missing here: the key itself was just found absent.
    if (-not (Test-Path -Path $IasLoadedKey)) { $null = New-Item -Path $IasLoadedKey -Force }
    Set-ItemProperty -Path $IasLoadedKey -Name $IasLoadedValue -Value (Get-IasLoadedFingerprint)
    Set-ItemProperty -Path $IasLoadedKey -Name $IasLoadedVersionValue -Value (Get-CurrentExtensionVersionText)
}

# Before a change to what IAS loads: a server we never changed gets its first record, and a record from before
# versions were kept gets the version running now (taken, like the fingerprint, as what IAS loaded).
function Initialize-IasLoadedMarker {
    if ($null -eq (Get-IasLoadedMarker)) { Set-IasLoadedMarker; return }
    if ($null -eq (Get-IasLoadedValue $IasLoadedVersionValue)) {
        Set-ItemProperty -Path $IasLoadedKey -Name $IasLoadedVersionValue -Value (Get-CurrentExtensionVersionText)
    }
}

# True when something IAS loads changed since the recorded restart (no record: nothing we changed).
function Test-IasRestartPending {
    $marker = Get-IasLoadedMarker
    if ($null -eq $marker) { return $false }
    if ($marker -ne (Get-IasLoadedFingerprint)) { return $true }
    $version = Get-IasLoadedValue $IasLoadedVersionValue
    ($null -ne $version) -and ($version -ne (Get-CurrentExtensionVersionText))
}
