# The lab's Windows host: functions named like the Windows cmdlets remote/scripts/*.ps1 use, backed by
# one JSON state file per host ($env:NPSMFA_HOST_STATE). Imported before a script runs, these functions
# shadow the real cmdlets, so the scripts run unchanged. docs/windows.md describes the state format.
# PowerShell 7 only; the scripts it hosts stay Windows PowerShell 5.1 compatible.
Set-StrictMode -Version 3.0

$script:NetworkServiceSid = 'S-1-5-20'
$script:SidNames = @{
    'S-1-5-18' = 'NT AUTHORITY\SYSTEM'
    'S-1-5-20' = 'NT AUTHORITY\NETWORK SERVICE'
    'S-1-5-32-544' = 'BUILTIN\Administrators'
    'S-1-5-32-545' = 'BUILTIN\Users'
    'S-1-5-11' = 'NT AUTHORITY\Authenticated Users'
    'S-1-1-0' = 'Everyone'
}
$script:LockAttempts = 200

# ---------------------------------------------------------------- state file

function Get-ShimStatePath {
    if (-not $env:NPSMFA_HOST_STATE) { throw 'WindowsShim: NPSMFA_HOST_STATE is not set; it names the host''s JSON state file.' }
    $env:NPSMFA_HOST_STATE
}

function Read-ShimState {
    $path = Get-ShimStatePath
    $state = [System.IO.File]::ReadAllText($path) | ConvertFrom-Json -AsHashtable -Depth 64 -DateKind String
    foreach ($key in 'registry', 'services', 'network') { if (-not $state.ContainsKey($key)) { $state[$key] = @{} } }
    foreach ($key in 'certificates', 'events', 'remoteAccessRadius', 'remoteRadiusServerGroups', 'networkPolicies') {
        if (-not $state.ContainsKey($key)) { $state[$key] = @() }
        $state[$key] = [System.Collections.ArrayList]@($state[$key])
    }
    $state
}

# Serialises read-modify-write cycles of concurrent commands on one host (a lock file opened exclusively,
# bounded retries), and writes through a temporary file renamed over the state: readers never see half a file.
function Update-ShimState {
    # Its variables carry a prefix: $Change runs in this scope's child and sees callers' variables by name.
    param([Parameter(Mandatory)][scriptblock] $Change)
    $shimStateFile = Get-ShimStatePath
    $shimLock = $null
    for ($shimAttempt = 0; $shimAttempt -lt $script:LockAttempts -and $null -eq $shimLock; $shimAttempt++) {
        try {
            $shimLock = [System.IO.File]::Open("$shimStateFile.lock", 'OpenOrCreate', 'ReadWrite', 'None')
        } catch [System.IO.IOException] {
            Start-Sleep -Milliseconds 25
        }
    }
    if ($null -eq $shimLock) { throw "WindowsShim: the state file $shimStateFile stayed locked for 5 s" }
    try {
        $shimState = Read-ShimState
        $shimResult = & $Change $shimState
        $shimTemp = "$shimStateFile.$PID.$([guid]::NewGuid().ToString('N')).tmp"
        [System.IO.File]::WriteAllText($shimTemp, ($shimState | ConvertTo-Json -Depth 64))
        [System.IO.File]::Move($shimTemp, $shimStateFile, $true)
        $shimResult
    } finally {
        $shimLock.Dispose()
    }
}

function Get-ShimNow { [DateTimeOffset]::UtcNow }
function Format-ShimTime([DateTimeOffset] $Time) { $Time.ToString('o') }

# Windows cmdlets honour the caller's $ErrorActionPreference; module functions would not, so adopt it.
function Sync-CallerPreference {
    param($Cmdlet)
    if (-not $Cmdlet.MyInvocation.BoundParameters.ContainsKey('ErrorAction')) {
        Set-Variable -Scope 1 -Name ErrorActionPreference -Value ($Cmdlet.SessionState.PSVariable.GetValue('ErrorActionPreference'))
    }
}

# ---------------------------------------------------------------- paths

# Splits a PowerShell path into the drive the shim emulates (Registry, Cert, KeyFile) and the rest.
function Resolve-ShimPath {
    param([string] $Path)
    $text = $Path -replace '/', '\'
    $text = $text -replace '^Microsoft\.PowerShell\.Core\\', ''
    if ($text -match '^(?i)(HKLM:|Registry::HKEY_LOCAL_MACHINE|Registry::HKLM)\\?(.*)$') {
        $rest = $Matches[2].TrimEnd('\')
        return [pscustomobject]@{ Kind = 'Registry'; Key = ('HKLM:\' + $rest).TrimEnd('\') }
    }
    if ($text -match '^(?i)Cert:\\LocalMachine\\My\\?([0-9A-F]*)$') {
        return [pscustomobject]@{ Kind = 'Cert'; Thumbprint = $Matches[1].ToUpperInvariant() }
    }
    if ($text -match '^(?i)Cert:') { return [pscustomobject]@{ Kind = 'CertOther'; Path = $text } }
    # A UNC path (\\server\share\rest): a file share the host reaches over SMB.
    if ($text -match '^\\\\([^\\]+)\\([^\\]+)(\\.*)?$') {
        return [pscustomobject]@{ Kind = 'Unc'; Share = "\\$($Matches[1])\$($Matches[2])"; Rest = "$($Matches[3])".Trim('\'); Path = $text }
    }
    # Machine keys: a CAPI (CSP) key's container file under Crypto\RSA\MachineKeys, a CNG (KSP) key's file under
    # Crypto\Keys, both in %ProgramData% ("Key Storage and Retrieval", Learn: windows/win32/seccng/key-storage-and-retrieval).
    if ($text -match '(?i)\\Microsoft\\Crypto\\RSA\\MachineKeys\\([^\\]+)$') {
        return [pscustomobject]@{ Kind = 'KeyFile'; Container = $Matches[1]; Storage = 'capi' }
    }
    if ($text -match '(?i)\\Microsoft\\Crypto\\Keys\\([^\\]+)$') {
        return [pscustomobject]@{ Kind = 'KeyFile'; Container = $Matches[1]; Storage = 'cng' }
    }
    if ($text -match '(?i)\\Microsoft\\AzureMfa\\Extensions\\([^\\]+\.dll)$') {
        return [pscustomobject]@{ Kind = 'ExtensionFile'; Name = $Matches[1] }
    }
    [pscustomobject]@{ Kind = 'Other'; Path = $Path }
}

function Find-RegistryKeyName {
    param($State, [string] $Key)
    foreach ($name in @($State.registry.Keys)) { if ($name -ieq $Key) { return $name } }
    $null
}

function Find-ValueName {
    param($Values, [string] $Name)
    foreach ($existing in @($Values.Keys)) { if ($existing -ieq $Name) { return $existing } }
    $null
}

function Write-PathNotFound {
    param($Cmdlet, [string] $Path)
    $exception = [System.Management.Automation.ItemNotFoundException]::new("Cannot find path '$Path' because it does not exist.")
    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'PathNotFound', 'ObjectNotFound', $Path))
}

function ConvertTo-RegistryValue {
    param($Value, [string] $Type)
    switch -Regex ($Type) {
        '^(?i)DWord|QWord$' { return [long]$Value }
        '^(?i)MultiString$' { return @([string[]]$Value) }
        default {
            if ($Value -is [array]) { return @([string[]]$Value) }
            if ($Value -is [int] -or $Value -is [long]) { return [long]$Value }
            return [string]$Value
        }
    }
}

# ---------------------------------------------------------------- registry

# The keys a registry path names: the key itself, or, with a wildcard in its last segment, the matching
# subkeys of its parent (as `Get-ItemProperty -Path 'HKLM:\...\Uninstall\*'` lists every uninstall entry).
# A literal path is never expanded. Null when the key (or the wildcard's parent) does not exist.
function Find-ShimRegistryKeys {
    param($State, [string] $Key, [bool] $Literal)
    $cut = $Key.LastIndexOf('\')
    $leaf = $Key.Substring($cut + 1)
    if ($Literal -or -not [WildcardPattern]::ContainsWildcardCharacters($leaf)) {
        $found = Find-RegistryKeyName $State $Key
        if ($null -eq $found) { return $null }
        return , @($found)
    }
    $parent = $Key.Substring(0, $cut)
    if ($parent -ne 'HKLM:' -and $null -eq (Find-RegistryKeyName $State $parent)) { return $null }
    $pattern = [WildcardPattern]::new($leaf, 'IgnoreCase')
    , @($State.registry.Keys | Where-Object {
            $at = $_.LastIndexOf('\')
            $_.Substring(0, $at) -ieq $parent -and $pattern.IsMatch($_.Substring($at + 1))
        } | Sort-Object)
}

function Get-ItemProperty {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0)][string[]] $Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory)][Alias('PSPath')][string[]] $LiteralPath,
        [Parameter(Position = 1)][string[]] $Name
    )
    Sync-CallerPreference $PSCmdlet
    $literal = $PSCmdlet.ParameterSetName -eq 'LiteralPath'
    foreach ($one in $(if ($literal) { $LiteralPath } else { $Path })) {
        $target = Resolve-ShimPath $one
        if ($target.Kind -ne 'Registry') { Microsoft.PowerShell.Management\Get-ItemProperty @PSBoundParameters; return }
        $state = Read-ShimState
        $keys = Find-ShimRegistryKeys $state $target.Key $literal
        if ($null -eq $keys) { Write-PathNotFound $PSCmdlet $one; continue }
        foreach ($keyName in $keys) {
            $values = $state.registry[$keyName]
            $result = [ordered]@{}
            $wanted = if ($Name) { $Name } else { @($values.Keys) }
            foreach ($valueName in $wanted) {
                $found = Find-ValueName $values $valueName
                if ($null -eq $found) {
                    $exception = [System.Management.Automation.PSArgumentException]::new("Property $valueName does not exist at path $keyName.")
                    $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'System.Management.Automation.PSArgumentException', 'InvalidArgument', $valueName))
                    continue
                }
                $value = $values[$found]
                if ($value -is [System.Collections.IList]) { $value = [string[]]@($value) }
                $result[$found] = $value
            }
            if ($Name -and $result.Count -eq 0) { continue }
            # The provider's properties every registry item carries (PSChildName: the key's own name).
            $providerPath = 'Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\' + $keyName.Substring(6)
            $result['PSPath'] = $providerPath
            $result['PSParentPath'] = $providerPath.Substring(0, $providerPath.LastIndexOf('\'))
            $result['PSChildName'] = $keyName.Substring($keyName.LastIndexOf('\') + 1)
            [pscustomobject]$result
        }
    }
}

function Get-ItemPropertyValue {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string] $Path, [Parameter(Mandatory, Position = 1)][string[]] $Name)
    Sync-CallerPreference $PSCmdlet
    $item = Get-ItemProperty -Path $Path -Name $Name
    if ($null -ne $item) { foreach ($valueName in $Name) { $item.$valueName } }
}

function Set-RegistryValue {
    param($Cmdlet, [string] $Path, [string] $Name, $Value, [string] $Type, [bool] $MustBeNew, [bool] $Force)
    $target = Resolve-ShimPath $Path
    Update-ShimState {
        param($state)
        $keyName = Find-RegistryKeyName $state $target.Key
        if ($null -eq $keyName) { Write-PathNotFound $Cmdlet $Path; return }
        $values = $state.registry[$keyName]
        $existing = Find-ValueName $values $Name
        if ($MustBeNew -and $null -ne $existing -and -not $Force) {
            $exception = [System.IO.IOException]::new('The property already exists.')
            $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'System.IO.IOException', 'ResourceExists', $Name))
            return
        }
        if ($null -ne $existing) { $values.Remove($existing) }
        $values[$Name] = ConvertTo-RegistryValue $Value $Type
    }
}

function Set-ItemProperty {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('LiteralPath')][string] $Path,
        [Parameter(Mandatory, Position = 1)][string] $Name,
        [Parameter(Position = 2)][AllowEmptyString()][AllowNull()] $Value,
        [Alias('PropertyType')][string] $Type,
        [switch] $Force
    )
    Sync-CallerPreference $PSCmdlet
    if ((Resolve-ShimPath $Path).Kind -ne 'Registry') { Microsoft.PowerShell.Management\Set-ItemProperty @PSBoundParameters; return }
    Set-RegistryValue $PSCmdlet $Path $Name $Value $Type $false $Force.IsPresent
}

function New-ItemProperty {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][Alias('LiteralPath')][string] $Path,
        [Parameter(Mandatory, Position = 1)][string] $Name,
        [AllowEmptyString()][AllowNull()] $Value,
        [Alias('Type')][string] $PropertyType = 'String',
        [switch] $Force
    )
    Sync-CallerPreference $PSCmdlet
    if ((Resolve-ShimPath $Path).Kind -ne 'Registry') { Microsoft.PowerShell.Management\New-ItemProperty @PSBoundParameters; return }
    Set-RegistryValue $PSCmdlet $Path $Name $Value $PropertyType $true $Force.IsPresent
}

function Remove-ItemProperty {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('LiteralPath')][string] $Path, [Parameter(Mandatory, Position = 1)][string[]] $Name, [switch] $Force)
    Sync-CallerPreference $PSCmdlet
    $target = Resolve-ShimPath $Path
    if ($target.Kind -ne 'Registry') { Microsoft.PowerShell.Management\Remove-ItemProperty @PSBoundParameters; return }
    $cmdlet = $PSCmdlet
    Update-ShimState {
        param($state)
        $keyName = Find-RegistryKeyName $state $target.Key
        if ($null -eq $keyName) { Write-PathNotFound $cmdlet $Path; return }
        foreach ($valueName in $Name) {
            $existing = Find-ValueName $state.registry[$keyName] $valueName
            if ($null -eq $existing) {
                $exception = [System.Management.Automation.PSArgumentException]::new("Property $valueName does not exist at path $($target.Key).")
                $cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'System.Management.Automation.PSArgumentException', 'InvalidArgument', $valueName))
                continue
            }
            $state.registry[$keyName].Remove($existing)
        }
    }
}

function Test-Path {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('LiteralPath')][string[]] $Path, [string] $PathType)
    Sync-CallerPreference $PSCmdlet
    foreach ($one in $Path) {
        $target = Resolve-ShimPath $one
        switch ($target.Kind) {
            'Registry' { $null -ne (Find-RegistryKeyName (Read-ShimState) $target.Key) }
            'Cert' {
                if (-not $target.Thumbprint) { $true } else { @((Read-ShimState).certificates | Where-Object { $_.thumbprint -ieq $target.Thumbprint }).Count -gt 0 }
            }
            'KeyFile' { @(Find-ShimKeyEntry (Read-ShimState) $target).Count -gt 0 }
            'ExtensionFile' { $null -ne (ConvertTo-ShimExtensionFile (Read-ShimState) $target $one) }
            'Unc' {
                $local = Resolve-ShimSharePath (Read-ShimState) $target
                $typed = if ($PathType) { @{ PathType = $PathType } } else { @{} }
                $null -ne $local -and (Microsoft.PowerShell.Management\Test-Path -LiteralPath $local @typed)
            }
            default { Microsoft.PowerShell.Management\Test-Path @PSBoundParameters }
        }
    }
}

function New-Item {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string] $Path,
        [string] $Name,
        [string] $ItemType,
        $Value,
        [switch] $Force
    )
    Sync-CallerPreference $PSCmdlet
    $fullPath = if ($Name) { $Path.TrimEnd('\', '/') + '\' + $Name } else { $Path }
    $target = Resolve-ShimPath $fullPath
    if ($target.Kind -ne 'Registry') { Microsoft.PowerShell.Management\New-Item @PSBoundParameters; return }
    $cmdlet = $PSCmdlet
    Update-ShimState {
        param($state)
        $existing = Find-RegistryKeyName $state $target.Key
        if ($null -ne $existing) {
            # Real New-Item -Force on an existing registry key replaces it with an empty one.
            if ($Force) { $state.registry[$existing] = @{} } else {
                $exception = [System.IO.IOException]::new("A key at this path already exists.")
                $cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'System.IO.IOException', 'ResourceExists', $fullPath))
            }
            return
        }
        $parent = $target.Key.Substring(0, $target.Key.LastIndexOf('\'))
        if ($parent -ne 'HKLM:' -and $null -eq (Find-RegistryKeyName $state $parent) -and -not $Force) {
            Write-PathNotFound $cmdlet $parent
            return
        }
        $state.registry[$target.Key] = @{}
    }
    [pscustomobject]@{ Name = $target.Key; PSPath = 'Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\' + $target.Key.Substring(6) }
}

# ---------------------------------------------------------------- certificates (Cert:\LocalMachine\My)

# A real X509Certificate2 with its private key, shaped as Windows PowerShell 5.1 (.NET Framework) shows it:
# - PrivateKey returns the CAPI key (RSACryptoServiceProvider, CspKeyContainerInfo.UniqueKeyContainerName
#   naming the key file) and throws for a CNG key, as .NET Framework does for a key held by a key storage
#   provider ("Invalid provider type specified"; Learn: dotnet/api/system.security.cryptography.x509certificates
#   .x509certificate2.privatekey, remarks: obsolete, use GetRSAPrivateKey).
# - RSACertificateExtensions.GetRSAPrivateKey (a static .NET call the shim cannot shadow) returns the real
#   key; the type data registered below gives it what Windows' key objects have: Key.UniqueName for a CNG
#   key (RSACng.Key, a CngKey), CspKeyContainerInfo for a CAPI key (RSACryptoServiceProvider).
function ConvertTo-ShimCertificate {
    param($Entry)
    $bytes = [Convert]::FromBase64String($Entry.pfxBase64)
    $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($bytes, [string]$null, [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::Exportable)
    $storage = Get-ShimKeyStorage $Entry
    $modulus = [Convert]::ToBase64String($certificate.PublicKey.GetRSAPublicKey().ExportParameters($false).Modulus)
    $script:ShimKeys[$modulus] = @{ storage = $storage; name = $Entry.keyContainer }
    $capiKey = [pscustomobject]@{ CspKeyContainerInfo = [pscustomobject]@{ UniqueKeyContainerName = $Entry.keyContainer } }
    if ($storage -eq 'cng') {
        $getter = { throw [System.Security.Cryptography.CryptographicException]::new('Invalid provider type specified.') }
    } else {
        $getter = { $capiKey }.GetNewClosure()
    }
    $certificate | Add-Member -MemberType ScriptProperty -Name PrivateKey -Value $getter -Force
    $certificate | Add-Member -NotePropertyName PSPath -NotePropertyValue ('Microsoft.PowerShell.Security\Certificate::LocalMachine\My\' + $Entry.thumbprint) -Force
    $certificate
}

function Get-ShimKeyStorage {
    param($Entry)
    if ($Entry.ContainsKey('keyStorage') -and $Entry.keyStorage) { return [string]$Entry.keyStorage }
    'capi'
}

# Keys the shim handed out, by public modulus: the type data below finds a key object's storage and name here.
# Kept in the AppDomain because type data script blocks run outside this module's scope.
$script:ShimKeys = [AppDomain]::CurrentDomain.GetData('NpsmfaShimKeys')
if ($null -eq $script:ShimKeys) {
    $script:ShimKeys = [hashtable]::Synchronized(@{})
    [AppDomain]::CurrentDomain.SetData('NpsmfaShimKeys', $script:ShimKeys)
}

Update-TypeData -TypeName System.Security.Cryptography.RSA -MemberType ScriptProperty -MemberName Key -Force -Value {
    $info = [AppDomain]::CurrentDomain.GetData('NpsmfaShimKeys')[[Convert]::ToBase64String($this.ExportParameters($false).Modulus)]
    if ($null -ne $info -and $info.storage -eq 'cng') { [pscustomobject]@{ UniqueName = $info.name } }
}
Update-TypeData -TypeName System.Security.Cryptography.RSA -MemberType ScriptProperty -MemberName CspKeyContainerInfo -Force -Value {
    $info = [AppDomain]::CurrentDomain.GetData('NpsmfaShimKeys')[[Convert]::ToBase64String($this.ExportParameters($false).Modulus)]
    if ($null -ne $info -and $info.storage -eq 'capi') { [pscustomobject]@{ UniqueKeyContainerName = $info.name } }
}

# The certificate entry whose key file a KeyFile path names: same name, same kind of storage.
function Find-ShimKeyEntry {
    param($State, $Target)
    @($State.certificates | Where-Object { $_.keyContainer -eq $Target.Container -and (Get-ShimKeyStorage $_) -eq $Target.Storage })
}

function Get-ChildItem {
    [CmdletBinding()]
    param([Parameter(Position = 0)][Alias('LiteralPath')][string[]] $Path, [switch] $Recurse, [string] $Filter)
    Sync-CallerPreference $PSCmdlet
    $targets = @($Path | ForEach-Object { Resolve-ShimPath $_ })
    if ($null -eq $Path -or @($targets | Where-Object { $_.Kind -ne 'Cert' }).Count -gt 0) {
        Microsoft.PowerShell.Management\Get-ChildItem @PSBoundParameters
        return
    }
    $state = Read-ShimState
    foreach ($target in $targets) {
        foreach ($entry in $state.certificates) {
            if ($target.Thumbprint -and $entry.thumbprint -ine $target.Thumbprint) { continue }
            ConvertTo-ShimCertificate $entry
        }
    }
}

# The extension's DLLs as Get-Item shows a file: a FileInfo whose VersionInfo is the file's
# System.Diagnostics.FileVersionInfo (FileVersion, FileMajorPart...; Learn: dotnet/api/system.diagnostics.fileversioninfo).
# The host's state holds the installed version (npsExtensionVersion); without it the files are absent.
function ConvertTo-ShimExtensionFile {
    param($State, $Target, [string] $Path)
    $version = if ($State.ContainsKey('npsExtensionVersion')) { [string]$State.npsExtensionVersion } else { '' }
    if (-not $version -or $Target.Name -notin 'MfaNpsAuthzExt.dll', 'MfaNpsAuthnExt.dll') { return $null }
    $parsed = [version]$version
    [pscustomobject]@{
        Name = $Target.Name
        FullName = $Path
        VersionInfo = [pscustomobject]@{
            FileName = $Path; FileVersion = $version; ProductVersion = $version
            FileMajorPart = $parsed.Major; FileMinorPart = $parsed.Minor; FileBuildPart = $parsed.Build; FilePrivatePart = $parsed.Revision
        }
    }
}

function Get-Item {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('LiteralPath')][string[]] $Path)
    Sync-CallerPreference $PSCmdlet
    foreach ($one in $Path) {
        $target = Resolve-ShimPath $one
        if ($target.Kind -eq 'ExtensionFile') {
            $file = ConvertTo-ShimExtensionFile (Read-ShimState) $target $one
            if ($null -eq $file) { Write-PathNotFound $PSCmdlet $one } else { $file }
            continue
        }
        if ($target.Kind -ne 'Cert' -or -not $target.Thumbprint) { Microsoft.PowerShell.Management\Get-Item -Path $one; continue }
        $entry = @((Read-ShimState).certificates | Where-Object { $_.thumbprint -ieq $target.Thumbprint })
        if ($entry.Count -eq 0) { Write-PathNotFound $PSCmdlet $one; continue }
        ConvertTo-ShimCertificate $entry[0]
    }
}

function Remove-Item {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)][Alias('LiteralPath', 'PSPath')][string[]] $Path, [switch] $DeleteKey, [switch] $Force, [switch] $Recurse)
    process {
        Sync-CallerPreference $PSCmdlet
        foreach ($one in $Path) {
            $text = $one -replace '^Microsoft\.PowerShell\.Security\\Certificate::', 'Cert:\'
            $target = Resolve-ShimPath $text
            if ($target.Kind -ne 'Cert' -or -not $target.Thumbprint) { Microsoft.PowerShell.Management\Remove-Item -Path $one -Force:$Force -Recurse:$Recurse; continue }
            $cmdlet = $PSCmdlet
            Update-ShimState {
                param($state)
                $entry = @($state.certificates | Where-Object { $_.thumbprint -ieq $target.Thumbprint })
                if ($entry.Count -eq 0) { Write-PathNotFound $cmdlet $one; return }
                $state.certificates.Remove($entry[0])
            }
        }
    }
}

# Enhanced key usage OIDs (New-SelfSignedCertificate reference, -TextExtension).
$script:ClientAuthenticationOid = '1.3.6.1.5.5.7.3.2'
$script:ServerAuthenticationOid = '1.3.6.1.5.5.7.3.1'

function New-ShimCertificateEntry {
    param(
        [string] $Subject, [DateTimeOffset] $NotBefore, [DateTimeOffset] $NotAfter, [int] $KeyLength = 2048, [ValidateSet('capi', 'cng')][string] $KeyStorage = 'capi',
        [string[]] $EnhancedKeyUsage = @($script:ClientAuthenticationOid), [string] $KeyUsage = 'DigitalSignature, KeyEncipherment'
    )
    $rsa = [System.Security.Cryptography.RSA]::Create($KeyLength)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new($Subject, $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $usage = [System.Security.Cryptography.X509Certificates.X509KeyUsageFlags]$KeyUsage
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new($usage, $false))
        if ($EnhancedKeyUsage.Count -gt 0) {
            $oids = [System.Security.Cryptography.OidCollection]::new()
            foreach ($oid in $EnhancedKeyUsage) { [void]$oids.Add([System.Security.Cryptography.Oid]::new($oid)) }
            $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($oids, $false))
        }
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509SubjectKeyIdentifierExtension]::new($request.PublicKey, $false))
        $certificate = $request.CreateSelfSigned($NotBefore, $NotAfter)
        $container = '{0}_{1}' -f ([guid]::NewGuid().ToString('N')), ([guid]::NewGuid().ToString())
        @{
            thumbprint = $certificate.Thumbprint
            subject = $certificate.Subject
            notBefore = Format-ShimTime ([DateTimeOffset]$certificate.NotBefore)
            notAfter = Format-ShimTime ([DateTimeOffset]$certificate.NotAfter)
            pfxBase64 = [Convert]::ToBase64String($certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx))
            keyStorage = $KeyStorage
            keyContainer = $container
            keyAcl = @(
                @{ sid = 'S-1-5-18'; rights = [int][System.Security.AccessControl.FileSystemRights]::FullControl; type = 'Allow' },
                @{ sid = 'S-1-5-32-544'; rights = [int][System.Security.AccessControl.FileSystemRights]::FullControl; type = 'Allow' }
            )
        }
    } finally {
        $rsa.Dispose()
    }
}

# The host's Windows version as the registry records it (HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion);
# a host seeded without that key counts as a current Windows Server.
function Test-ShimWindows2012R2 {
    $state = Read-ShimState
    $key = Find-RegistryKeyName $state 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    if ($null -eq $key) { return $false }
    $values = $state.registry[$key]
    -not $values.ContainsKey('CurrentMajorVersionNumber') -and "$($values['CurrentVersion'])" -eq '6.3'
}

# Parameters as the Windows Server 2016-2025 reference documents them (lab/windows/cmdletReference.json).
# Windows Server 2012 R2's cmdlet has only -DnsName, -CloneCert and -CertStoreLocation: any other parameter
# fails to bind there (MicrosoftDocs/windows-powershell-docs, docset/winserver2012r2-ps/pki/
# New-SelfSignedCertificate.md, removed as archived in 374feaa9).
# The key goes to the provider named: a CSP ("... Cryptographic Provider") keeps a CAPI key, anything else,
# and the default "Microsoft Software Key Storage Provider", a CNG key.
# Enhanced key usage: what -TextExtension '2.5.29.37={text}<oid>,<oid>' names. Without it, the default -Type
# SSLServerAuthentication makes "an SSL server certificate" (the reference's example 1): the lab gives it Server
# Authentication only. Whether Windows adds Client Authentication there too is not documented, so a script that
# needs it must ask for it.
function New-SelfSignedCertificate {
    [CmdletBinding()]
    param(
        [string] $Subject,
        [string[]] $DnsName,
        [string] $CertStoreLocation = 'Cert:\CurrentUser\My',
        [datetime] $NotBefore = ([datetime]::Now.AddMinutes(-10)),
        [datetime] $NotAfter = ([datetime]::Now.AddYears(1)),
        [int] $KeyLength = 2048,
        [ValidateSet('None', 'KeyExchange', 'Signature')][string] $KeySpec,
        [string] $Provider = 'Microsoft Software Key Storage Provider',
        [ValidateSet('Exportable', 'ExportableEncrypted', 'NonExportable')][string[]] $KeyExportPolicy,
        [string] $HashAlgorithm,
        [string[]] $KeyUsage,
        [string] $FriendlyName,
        [ValidateSet('Custom', 'CodeSigningCert', 'DocumentEncryptionCert', 'SSLServerAuthentication', 'DocumentEncryptionCertLegacyCsp')][string] $Type = 'SSLServerAuthentication',
        [string[]] $TextExtension
    )
    Sync-CallerPreference $PSCmdlet
    if (Test-ShimWindows2012R2) {
        $unknown = @($PSBoundParameters.Keys | Where-Object { $_ -notin 'DnsName', 'CertStoreLocation' -and $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters })
        if ($unknown.Count -gt 0) {
            $exception = [System.Management.Automation.ParameterBindingException]::new("A parameter cannot be found that matches parameter name '$($unknown[0])'.")
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'NamedParameterNotFound,Microsoft.CertificateServices.Commands.NewSelfSignedCertificateCommand', 'InvalidArgument', $null))
        }
    }
    if ((Resolve-ShimPath $CertStoreLocation).Kind -ne 'Cert') { throw "WindowsShim: only Cert:\LocalMachine\My is emulated, not $CertStoreLocation" }
    $storage = if ($Provider -match 'Cryptographic Provider') { 'capi' } else { 'cng' }
    $ekus = @()
    if ($Type -eq 'SSLServerAuthentication') { $ekus = @($script:ServerAuthenticationOid) }
    foreach ($extension in @($TextExtension)) {
        if ("$extension" -match '^2\.5\.29\.37=(\{critical\})?\{text\}(.+)$') { $ekus = @($Matches[2] -split ',' | ForEach-Object { $_.Trim() }) }
        elseif ($extension) { throw "WindowsShim: New-SelfSignedCertificate -TextExtension: only the enhanced key usage (2.5.29.37={text}...) is emulated, not $extension" }
    }
    $usage = if ($KeyUsage) { $KeyUsage -join ', ' } else { 'DigitalSignature, KeyEncipherment' }
    $entry = New-ShimCertificateEntry -Subject $Subject -NotBefore ([DateTimeOffset]$NotBefore) -NotAfter ([DateTimeOffset]$NotAfter) -KeyLength $KeyLength -KeyStorage $storage -EnhancedKeyUsage $ekus -KeyUsage $usage
    Update-ShimState { param($state) [void]$state.certificates.Add($entry) }
    ConvertTo-ShimCertificate $entry
}

# ---------------------------------------------------------------- private key ACL

# FileSystemRights as Get-Acl shows it on Windows: the ACE's access mask as the enum, whatever bits it holds
# (Learn: dotnet/api/system.security.accesscontrol.filesystemaccessrule.filesystemrights). Names ("Read") and
# masks (-2147483648 for GENERIC_READ) are both accepted from seeds.
function ConvertTo-ShimRights {
    param($Rights)
    $type = [System.Security.AccessControl.FileSystemRights]
    if ($Rights -is [System.Enum]) { return [Enum]::ToObject($type, [int]$Rights) }
    if ($Rights -is [string] -and $Rights -notmatch '^-?\d+$') { return [Enum]::ToObject($type, [int]($Rights -as $type)) }
    $mask = [long]$Rights
    if ($mask -gt [int]::MaxValue) { $mask -= 4294967296 }
    [Enum]::ToObject($type, [int]$mask)
}

function New-ShimAccessRule {
    param([string] $Sid, $Rights, [string] $Type)
    $name = if ($script:SidNames.ContainsKey($Sid)) { $script:SidNames[$Sid] } else { $Sid }
    [pscustomobject]@{
        IdentityReference = [pscustomobject]@{ Value = $name; Sid = $Sid }
        FileSystemRights = ConvertTo-ShimRights $Rights
        AccessControlType = $Type
        IsInherited = $false
    }
}

# Windows' FileSystemAccessRule and SecurityIdentifier exist on Linux but throw; the shim builds look-alikes.
function New-Object {
    [CmdletBinding(DefaultParameterSetName = 'Net')]
    param(
        [Parameter(ParameterSetName = 'Net', Mandatory, Position = 0)][string] $TypeName,
        [Parameter(ParameterSetName = 'Net', Position = 1)][object[]] $ArgumentList,
        [Parameter(ParameterSetName = 'Com', Mandatory, Position = 0)][string] $ComObject,
        [System.Collections.IDictionary] $Property
    )
    Sync-CallerPreference $PSCmdlet
    if ($PSCmdlet.ParameterSetName -eq 'Com') { return New-ShimComObject $PSCmdlet $ComObject }
    switch -Regex ($TypeName) {
        '^(System\.)?Security\.Principal\.SecurityIdentifier$' {
            return [pscustomobject]@{ Value = [string]$ArgumentList[0]; Sid = [string]$ArgumentList[0] }
        }
        '^(System\.)?Security\.AccessControl\.FileSystemAccessRule$' {
            $identity = $ArgumentList[0]
            $sid = if ($identity -is [string]) {
                $match = @($script:SidNames.GetEnumerator() | Where-Object { $_.Value -ieq $identity -or $_.Value.Split('\')[-1] -ieq $identity })
                if ($match.Count -gt 0) { $match[0].Key } else { $identity }
            } else { $identity.Sid }
            return New-ShimAccessRule -Sid $sid -Rights $ArgumentList[1] -Type ([string]$ArgumentList[-1])
        }
        default { Microsoft.PowerShell.Utility\New-Object @PSBoundParameters }
    }
}

function New-ShimAcl {
    param([string] $Container, $Entries)
    $acl = [pscustomobject]@{
        Path = $Container
        Access = [System.Collections.ArrayList]@($Entries | ForEach-Object { New-ShimAccessRule -Sid $_.sid -Rights $_.rights -Type $_.type })
    }
    $acl | Add-Member -MemberType ScriptMethod -Name AddAccessRule -Value { param($rule) [void]$this.Access.Add($rule) }
    $acl | Add-Member -MemberType ScriptMethod -Name SetAccessRule -Value {
        param($rule)
        $same = @($this.Access | Where-Object { $_.IdentityReference.Sid -eq $rule.IdentityReference.Sid })
        foreach ($old in $same) { $this.Access.Remove($old) }
        [void]$this.Access.Add($rule)
    }
    $acl | Add-Member -MemberType ScriptMethod -Name GetAccessRules -Value {
        param($includeExplicit, $includeInherited, $targetType)
        $rules = @($this.Access)
        if ("$targetType" -like '*SecurityIdentifier') {
            $rules = @($rules | ForEach-Object { New-ShimAccessRule -Sid $_.IdentityReference.Sid -Rights $_.FileSystemRights -Type $_.AccessControlType } |
                ForEach-Object { $_.IdentityReference.Value = $_.IdentityReference.Sid; $_ })
        }
        , $rules
    }
    $acl
}

function Get-Acl {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('LiteralPath')][string] $Path)
    Sync-CallerPreference $PSCmdlet
    $target = Resolve-ShimPath $Path
    if ($target.Kind -ne 'KeyFile') { Microsoft.PowerShell.Security\Get-Acl -Path $Path; return }
    $entry = @(Find-ShimKeyEntry (Read-ShimState) $target)
    if ($entry.Count -eq 0) { Write-PathNotFound $PSCmdlet $Path; return }
    New-ShimAcl -Container $target.Container -Entries $entry[0].keyAcl
}

function Set-Acl {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][Alias('LiteralPath')][string] $Path, [Parameter(Mandatory, Position = 1)] $AclObject)
    Sync-CallerPreference $PSCmdlet
    $target = Resolve-ShimPath $Path
    if ($target.Kind -ne 'KeyFile') { Microsoft.PowerShell.Security\Set-Acl -Path $Path -AclObject $AclObject; return }
    $cmdlet = $PSCmdlet
    Update-ShimState {
        param($state)
        $entry = @(Find-ShimKeyEntry $state $target)
        if ($entry.Count -eq 0) { Write-PathNotFound $cmdlet $Path; return }
        # Stored as the access mask Windows keeps in the ACE, not as a name: a grant made elsewhere may be
        # GENERIC_READ (0x80000000) or GENERIC_ALL, which no FileSystemRights name covers.
        $entry[0].keyAcl = @($AclObject.Access | ForEach-Object { @{ sid = $_.IdentityReference.Sid; rights = [int]$_.FileSystemRights; type = [string]$_.AccessControlType } })
    }
}

# ---------------------------------------------------------------- services

function Get-ShimService {
    param($State, [string] $Name, $Cmdlet)
    foreach ($key in @($State.services.Keys)) { if ($key -ieq $Name) { return $key } }
    $exception = [System.InvalidOperationException]::new("Cannot find any service with service name '$Name'.")
    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'NoServiceFoundForGivenName', 'ObjectNotFound', $Name))
    $null
}

function ConvertTo-ShimServiceObject {
    param([string] $Name, $Service)
    [pscustomobject]@{ Name = $Name; ServiceName = $Name; DisplayName = $Service.displayName; Status = $Service.status }
}

function Get-Service {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string[]] $Name)
    Sync-CallerPreference $PSCmdlet
    $state = Read-ShimState
    foreach ($one in $Name) {
        $key = Get-ShimService $state $one $PSCmdlet
        if ($key) { ConvertTo-ShimServiceObject $key $state.services[$key] }
    }
}

# IAS and the NPS extension read their settings and certificate when the service starts and keep them
# until the next start (Microsoft Learn, howto-mfa-nps-extension: changes apply after restarting NPS).
# The lab's RADIUS side answers with what is recorded here, not with the registry of the moment.
# extensionVersion: the extension IAS loaded, null when its DLL is not registered in AuthSrv\Parameters (NPS
# loads the DLLs listed there at start; lab/windows/hostState.ts registeredExtensionVersion is the same rule).
function New-ShimIasLoadedConfiguration {
    param($State, [string] $StartedAt)
    $settingsKey = 'HKLM:\SOFTWARE\Microsoft\AzureMfa'
    $settings = @{}
    foreach ($key in @($State.registry.Keys)) { if ($key -ieq $settingsKey) { $settings = $State.registry[$key].Clone() } }
    $version = $null
    $authSrv = Find-RegistryKeyName $State 'HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'
    if ($State.ContainsKey('npsExtensionVersion') -and $State.npsExtensionVersion -and $null -ne $authSrv) {
        $dlls = Find-ValueName $State.registry[$authSrv] 'AuthorizationDLLs'
        if ($null -ne $dlls -and @($State.registry[$authSrv][$dlls] | Where-Object { $_ -like '*\MfaNpsAuthzExt.dll' }).Count -gt 0) { $version = [string]$State.npsExtensionVersion }
    }
    @{
        startedAt = $StartedAt; settings = $settings; certificates = @($State.certificates | ForEach-Object { $_.Clone() })
        remoteRadiusServerGroups = @($State.remoteRadiusServerGroups | ConvertTo-Json -Depth 10 | ConvertFrom-Json -AsHashtable)
        extensionVersion = $version
    }
}

# The NPS extension as IAS loads it: with an expired certificate of its subject in LocalMachine\My it logs an
# error at start (Learn, howto-mfa-nps-extension: "Having expired certificates can cause issues with the NPS
# Extension starting"; a field report, koetzingit.de "Invalid certificate of the Azure Multi-Factor Auth
# Client", saw a Critical AuthZ event naming CLIENT_CERT_IDENTIFIER). Event ID and wording are the lab's own.
function Add-ShimExtensionStartEvent {
    param($State)
    $installed = $State.ContainsKey('npsExtensionVersion') -and $State.npsExtensionVersion
    $settings = $null
    foreach ($key in @($State.registry.Keys)) { if ($key -ieq 'HKLM:\SOFTWARE\Microsoft\AzureMfa') { $settings = $State.registry[$key] } }
    if (-not $installed -or $null -eq $settings -or -not $settings['TENANT_ID']) { return }
    $subject = "CN=$($settings['TENANT_ID']), OU=Microsoft NPS Extension"
    $now = Get-ShimNow
    foreach ($certificate in @($State.certificates | Where-Object { $_.subject -eq $subject -and [DateTimeOffset]::Parse($_.notAfter, [cultureinfo]::InvariantCulture) -lt $now })) {
        [void]$State.events.Add(@{
                logName = 'AuthZAdminCh'; id = 1; level = 2; providerName = 'Microsoft-AzureMfa-AuthZ'
                timeCreated = Format-ShimTime $now.AddMilliseconds(1)
                message = "NPS Extension for Azure MFA: the certificate $($certificate.thumbprint) ($subject) in LocalMachine\My expired on $($certificate.notAfter); the extension did not start cleanly. Delete expired certificates."
            })
    }
}

# Applies one service transition and records it in the service's history, with the faults a test seeded:
# faults.failsToStart leaves it Stopped with an error; faults.authzErrorsAfterRestart logs ESTS_TOKEN_ERROR.
function Invoke-ShimServiceChange {
    param([string] $Name, [ValidateSet('start', 'stop', 'restart')][string] $Action, $Cmdlet, [bool] $PassThru)
    $result = Update-ShimState {
        param($state)
        $key = Get-ShimService $state $Name $Cmdlet
        if (-not $key) { return }
        $service = $state.services[$key]
        if (-not $service.ContainsKey('history')) { $service.history = @() }
        $history = [System.Collections.ArrayList]@($service.history)
        $faults = if ($service.ContainsKey('faults')) { $service.faults } else { @{} }
        $record = [ordered]@{ action = $Action }
        if ($Action -in 'stop', 'restart') {
            $service.status = 'Stopped'
            $record.stoppedAt = Format-ShimTime (Get-ShimNow)
        }
        $failed = $false
        if ($Action -in 'start', 'restart') {
            if ($faults['failsToStart']) {
                $failed = $true
                $record.failedAt = Format-ShimTime (Get-ShimNow)
            } else {
                $service.status = 'Running'
                $record.startedAt = Format-ShimTime (Get-ShimNow)
                if ($key -ieq 'IAS') {
                    $service.loaded = New-ShimIasLoadedConfiguration $state $record.startedAt
                    Add-ShimExtensionStartEvent $state
                }
                if ($faults['authzErrorsAfterRestart']) {
                    [void]$state.events.Add(@{
                            logName = 'AuthZAdminCh'; id = 3; level = 2; providerName = 'AuthZ'
                            timeCreated = Format-ShimTime (Get-ShimNow).AddMilliseconds(1)
                            message = 'NPS Extension for Azure MFA: CID: 00000000-0000-0000-0000-000000000000 : Exception in Authentication Ext for User with UPN ESTS_TOKEN_ERROR'
                        })
                }
            }
        }
        [void]$history.Add($record)
        $service.history = $history
        @{ key = $key; service = $service; failed = $failed }
    }
    if (-not $result) { return }
    if ($result.failed) {
        $exception = [System.InvalidOperationException]::new("Service '$($result.key) ($($result.key))' cannot be started due to the following error: Cannot start service $($result.key) on computer '.'.")
        $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'CouldNotStartService', 'OpenError', $Name))
        return
    }
    if ($PassThru) { ConvertTo-ShimServiceObject $result.key $result.service }
}

function Start-Service {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string] $Name, [switch] $PassThru)
    Sync-CallerPreference $PSCmdlet
    Invoke-ShimServiceChange $Name 'start' $PSCmdlet $PassThru.IsPresent
}

function Stop-Service {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string] $Name, [switch] $PassThru, [switch] $Force)
    Sync-CallerPreference $PSCmdlet
    Invoke-ShimServiceChange $Name 'stop' $PSCmdlet $PassThru.IsPresent
}

function Restart-Service {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string] $Name, [switch] $PassThru, [switch] $Force)
    Sync-CallerPreference $PSCmdlet
    Invoke-ShimServiceChange $Name 'restart' $PSCmdlet $PassThru.IsPresent
}

# ---------------------------------------------------------------- RRAS RADIUS servers, NPS remote groups

# Get-RemoteAccessRadius returns CIM instances of RemoteAccessRadiusServer (root\Microsoft\Windows\RemoteAccess):
# Score, Timeout, Port, SharedSecret (never populated), AccountingOnOffMsg, MsgAuthenticator, and ServerPurpose,
# an embedded RemoteAccessRadiusServerPurpose holding ServerName and Purpose: there is no top-level ServerName
# (Learn: previous-versions/windows/desktop/ramgmtpsprov/remoteaccessradiusserver and
# .../remoteaccessradiusserverpurpose; cmdlet reference in lab/windows/cmdletReference.json). Real CIM instances
# need libmi, which Linux lacks: these objects carry the same properties and type names.
function ConvertTo-ShimRadiusServer {
    param($Entry)
    $purpose = [pscustomobject]@{ ServerName = $Entry.serverName; Purpose = $Entry.purpose }
    $purpose.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/RemoteAccess/RemoteAccessRadiusServerPurpose')
    $server = [pscustomobject]@{
        ServerPurpose = $purpose
        Score = [uint32]$(if ($Entry.ContainsKey('score')) { $Entry.score } else { 30 })
        Timeout = [uint32]$Entry.timeout
        Port = [uint32]$(if ($Entry.ContainsKey('port')) { $Entry.port } else { 1812 })
        SharedSecret = ''
        AccountingOnOffMsg = $(if ($Entry.purpose -eq 'Accounting') { 'Disabled' } else { '' })
        MsgAuthenticator = $(if ($Entry.purpose -eq 'Authentication') { 'Disabled' } else { '' })
    }
    $server.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/RemoteAccess/RemoteAccessRadiusServer')
    $server
}

# The RemoteAccess module comes with the Remote Access role (RSAT-RemoteAccess-PowerShell); on a host without
# it the cmdlets do not exist, and PowerShell fails as for any unknown command.
function Assert-ShimRemoteAccessRole {
    param($Cmdlet, [string] $Name)
    $state = Read-ShimState
    foreach ($key in @($state.services.Keys)) { if ($key -ieq 'RemoteAccess') { return } }
    $exception = [System.Management.Automation.CommandNotFoundException]::new("The term '$Name' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.")
    $exception.CommandName = $Name
    $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'CommandNotFoundException', 'ObjectNotFound', $Name))
}

function Get-RemoteAccessRadius {
    [CmdletBinding()]
    param([Parameter(Position = 0)][ValidateSet('Authentication', 'Accounting', 'Otp')][string] $Purpose, [string] $ComputerName, [string] $EntrypointName)
    Sync-CallerPreference $PSCmdlet
    Assert-ShimRemoteAccessRole $PSCmdlet 'Get-RemoteAccessRadius'
    $state = Read-ShimState
    foreach ($entry in $state.remoteAccessRadius) {
        if ($Purpose -and $entry.purpose -ine $Purpose) { continue }
        ConvertTo-ShimRadiusServer $entry
    }
}

function Set-RemoteAccessRadius {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string] $ServerName,
        [Parameter(Mandatory, Position = 1)][ValidateSet('Authentication', 'Accounting', 'Otp')][string] $Purpose,
        [uint32] $Timeout,
        [byte] $Score,
        [uint16] $Port,
        [string] $SharedSecret,
        [ValidateSet('Enabled', 'Disabled')][string] $AccountingOnOffMsg,
        [ValidateSet('Enabled', 'Disabled')][string] $MsgAuthenticator,
        [string] $ComputerName,
        [string] $EntrypointName,
        [switch] $PassThru
    )
    Sync-CallerPreference $PSCmdlet
    Assert-ShimRemoteAccessRole $PSCmdlet 'Set-RemoteAccessRadius'
    $cmdlet = $PSCmdlet
    $bound = $PSBoundParameters
    $updated = Update-ShimState {
        param($state)
        $entry = @($state.remoteAccessRadius | Where-Object { $_.serverName -ieq $ServerName -and $_.purpose -ieq $Purpose })
        if ($entry.Count -eq 0) {
            $exception = [System.ArgumentException]::new("The RADIUS server $ServerName is not configured for $Purpose.")
            $cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'RadiusServerNotFound', 'ObjectNotFound', $ServerName))
            return
        }
        if ($bound.ContainsKey('Timeout')) { $entry[0].timeout = [int]$Timeout }
        if ($bound.ContainsKey('Score')) { $entry[0].score = [int]$Score }
        if ($bound.ContainsKey('Port')) { $entry[0].port = [int]$Port }
        $entry[0]
    }
    if ($PassThru -and $updated) { ConvertTo-ShimRadiusServer $updated }
}

# NPS's Server Data Objects (SDO), the documented COM API its console uses (Learn: windows/win32/nps/
# sdo-obtaining-a-machine-sdo, sdo-attaching-to-an-sdo-enabled-computer; windows/win32/api/sdoias): the
# machine SDO ("IAS.SdoMachine") attaches to the local computer, GetServiceSDO(DATA_STORE_LOCAL, "IAS")
# returns the service SDO, and properties are read and written by the numeric IDs of sdoias.h:
# IASPROPERTIES.PROPERTY_IAS_RADIUSSERVERGROUPS_COLLECTION = 0x400 on the service, PROPERTY_SDO_NAME = 2 and
# RADIUSSERVERGROUPPROPERTIES.PROPERTY_RADIUSSERVERGROUP_SERVERS_COLLECTION = 0x400 on a group,
# RADIUSSERVERPROPERTIES.PROPERTY_RADIUSSERVER_ADDRESS = 0x404, _TIMEOUT = 0x408 and _BLACKOUT = 0x40A on a server;
# ISdo.Apply saves a server's changes to the configuration. The running IAS keeps forwarding with what it read
# at its start until ISdoServiceControl::ResetService, on the service SDO, makes it refresh its data (Learn:
# windows/win32/api/sdoias/nn-sdoias-isdoservicecontrol); the lab's proxy forwards with services.IAS.loaded.
# A server seeded without a blackout has the console's default, 30 s (Learn: howto-mfa-nps-extension-rdg).
# Without the NPS role the class is not registered and creating it fails (REGDB_E_CLASSNOTREG).
$script:SdoIds = @{ Name = 2; Collection = 0x400; Address = 0x404; Timeout = 0x408; Blackout = 0x40A }
$script:SdoDefaultBlackoutSeconds = 30
# Network policies (read only here): the service's PROPERTY_IAS_POLICIES_COLLECTION = 0x401 and
# PROPERTY_IAS_PROFILES_COLLECTION = 0x402; a policy's POLICYPROPERTIES PROPERTY_POLICY_MERIT = 0x401,
# PROPERTY_POLICY_PROFILE_NAME = 0x404 (the profile of the same name), PROPERTY_POLICY_ENABLED = 0x407; a profile's
# PROFILEPROPERTIES.PROPERTY_PROFILE_ATTRIBUTES_COLLECTION = 0x400 of attribute SDOs, each with
# ATTRIBUTEPROPERTIES.PROPERTY_ATTRIBUTE_ID = 0x400 and PROPERTY_ATTRIBUTE_VALUE = 0x40C (Learn: windows/win32/api/
# sdoias ne-sdoias-iasproperties, -policyproperties, -profileproperties, -attributeproperties). The allowed
# authentication types are the multi-valued attribute NP-Authentication-Type, ID 4105, values of AUTHENTICATION_TYPE
# (Learn: windows/win32/nps/sdo-np-authentication-type): one attribute SDO whose value is the list.
$script:SdoPolicyIds = @{ Policies = 0x401; Profiles = 0x402; Merit = 0x401; ProfileName = 0x404; Enabled = 0x407; Attributes = 0x400; AttributeId = 0x400; AttributeValue = 0x40C }
$script:NpAuthenticationTypeId = 4105

function New-ShimComObject {
    param($Cmdlet, [string] $ProgId)
    $state = Read-ShimState
    $hasIas = @($state.services.Keys | Where-Object { $_ -ieq 'IAS' }).Count -gt 0
    if ($ProgId -ine 'IAS.SdoMachine' -or -not $hasIas) {
        $exception = [System.Runtime.InteropServices.COMException]::new("Retrieving the COM class factory for component with ProgID $ProgId failed due to the following error: 80040154 Class not registered (Exception from HRESULT: 0x80040154 (REGDB_E_CLASSNOTREG)).", -2147221164)
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'NoCOMClassIdentified,Microsoft.PowerShell.Commands.NewObjectCommand', 'ResourceUnavailable', $ProgId))
    }
    $machine = [pscustomobject]@{ Attached = $false }
    $machine | Add-Member -MemberType ScriptMethod -Name Attach -Value { param($computer) if ($computer) { throw 'WindowsShim: SDO attaches only to the local computer' }; $this.Attached = $true }
    $machine | Add-Member -MemberType ScriptMethod -Name GetServiceSDO -Value {
        param($dataStore, $serviceName)
        if (-not $this.Attached) { throw [System.Runtime.InteropServices.COMException]::new('The SDO machine is not attached (call Attach first).', -2147418113) }
        if ([int]$dataStore -ne 0 -or "$serviceName" -ne 'IAS') { throw [System.ArgumentException]::new("GetServiceSDO: expected DATA_STORE_LOCAL (0) and service IAS, found $dataStore and $serviceName") }
        New-ShimSdoService
    }
    $machine
}

function Assert-ShimSdoId {
    param([int] $Id, [int[]] $Known)
    if ($Known -notcontains $Id) { throw [System.ArgumentException]::new("The parameter is incorrect: no SDO property $Id here (E_INVALIDARG).") }
}

function New-ShimSdoService {
    $service = [pscustomobject]@{}
    $service | Add-Member -MemberType ScriptMethod -Name GetProperty -Value {
        param($id)
        Assert-ShimSdoId $id @($script:SdoIds.Collection, $script:SdoPolicyIds.Policies, $script:SdoPolicyIds.Profiles)
        $state = Read-ShimState
        $policies = @($state.networkPolicies)
        if ($id -eq $script:SdoPolicyIds.Policies) { return , @($policies | ForEach-Object { New-ShimSdoPolicy $_ }) }
        if ($id -eq $script:SdoPolicyIds.Profiles) { return , @($policies | ForEach-Object { New-ShimSdoProfile $_ }) }
        $groups = @($state.remoteRadiusServerGroups)
        , @(for ($g = 0; $g -lt $groups.Count; $g++) { New-ShimSdoGroup $g $groups[$g] })
    }
    # Whether Windows refuses a reset of a stopped IAS is not documented: the lab refuses it, so scripts may not rely on it.
    $service | Add-Member -MemberType ScriptMethod -Name ResetService -Value {
        Update-ShimState {
            param($state)
            $ias = $null
            foreach ($key in @($state.services.Keys)) { if ($key -ieq 'IAS') { $ias = $state.services[$key] } }
            if ($null -eq $ias -or $ias.status -ne 'Running' -or -not $ias.ContainsKey('loaded')) {
                throw [System.Runtime.InteropServices.COMException]::new('ResetService: the IAS service is not running.', -2147023834)
            }
            $ias.loaded.remoteRadiusServerGroups = @($state.remoteRadiusServerGroups | ConvertTo-Json -Depth 10 | ConvertFrom-Json -AsHashtable)
            $ias.loaded.resetAt = Format-ShimTime (Get-ShimNow)
        }
    }
    $service
}

function New-ShimSdoPolicy {
    param($Policy)
    $sdo = [pscustomobject]@{ Policy = $Policy }
    $sdo | Add-Member -MemberType ScriptMethod -Name GetProperty -Value {
        param($id)
        Assert-ShimSdoId $id @($script:SdoIds.Name, $script:SdoPolicyIds.Merit, $script:SdoPolicyIds.ProfileName, $script:SdoPolicyIds.Enabled)
        switch ([int]$id) {
            $script:SdoIds.Name { return [string]$this.Policy.name }
            $script:SdoPolicyIds.Merit { return [int]$this.Policy.merit }
            $script:SdoPolicyIds.ProfileName { return [string]$this.Policy.name }
            default { return [bool]$this.Policy.enabled }
        }
    }
    $sdo
}

function New-ShimSdoProfile {
    param($Policy)
    $sdo = [pscustomobject]@{ Policy = $Policy }
    $sdo | Add-Member -MemberType ScriptMethod -Name GetProperty -Value {
        param($id)
        Assert-ShimSdoId $id @($script:SdoIds.Name, $script:SdoPolicyIds.Attributes)
        if ($id -eq $script:SdoIds.Name) { return [string]$this.Policy.name }
        $attribute = [pscustomobject]@{ Types = @($this.Policy.authenticationTypes | ForEach-Object { [int]$_ }) }
        $attribute | Add-Member -MemberType ScriptMethod -Name GetProperty -Value {
            param($attributeId)
            Assert-ShimSdoId $attributeId @($script:SdoPolicyIds.AttributeId, $script:SdoPolicyIds.AttributeValue)
            if ($attributeId -eq $script:SdoPolicyIds.AttributeId) { return $script:NpAuthenticationTypeId }
            , $this.Types
        }
        , @($attribute)
    }
    $sdo
}

function New-ShimSdoGroup {
    param([int] $GroupIndex, $Group)
    $sdo = [pscustomobject]@{ GroupIndex = $GroupIndex; GroupName = $Group.name; ServerCount = @($Group.servers).Count }
    $sdo | Add-Member -MemberType ScriptMethod -Name GetProperty -Value {
        param($id)
        Assert-ShimSdoId $id @($script:SdoIds.Name, $script:SdoIds.Collection)
        if ($id -eq $script:SdoIds.Name) { return $this.GroupName }
        $groupIndex = $this.GroupIndex
        $servers = @((Read-ShimState).remoteRadiusServerGroups[$groupIndex].servers)
        , @(for ($i = 0; $i -lt $servers.Count; $i++) { New-ShimSdoServer $groupIndex $i $servers[$i] })
    }
    $sdo
}

function New-ShimSdoServer {
    param([int] $GroupIndex, [int] $ServerIndex, $Server)
    $values = @{ $script:SdoIds.Address = $Server.address; $script:SdoIds.Timeout = [int]$Server.timeout; $script:SdoIds.Blackout = $script:SdoDefaultBlackoutSeconds }
    if ($Server.ContainsKey('blackout')) { $values[$script:SdoIds.Blackout] = [int]$Server.blackout }
    $sdo = [pscustomobject]@{ GroupIndex = $GroupIndex; ServerIndex = $ServerIndex; Values = $values; Pending = @{} }
    $sdo | Add-Member -MemberType ScriptMethod -Name GetProperty -Value {
        param($id)
        Assert-ShimSdoId $id @($script:SdoIds.Address, $script:SdoIds.Timeout, $script:SdoIds.Blackout)
        if ($this.Pending.ContainsKey([int]$id)) { return $this.Pending[[int]$id] }
        $this.Values[[int]$id]
    }
    $sdo | Add-Member -MemberType ScriptMethod -Name PutProperty -Value {
        param($id, $value)
        Assert-ShimSdoId $id @($script:SdoIds.Timeout, $script:SdoIds.Blackout)
        if ([int]$value -lt 1) { throw [System.ArgumentException]::new('The parameter is incorrect: a RADIUS server timeout or blackout is at least 1 second (E_INVALIDARG).') }
        $this.Pending[[int]$id] = [int]$value
    }
    $sdo | Add-Member -MemberType ScriptMethod -Name Apply -Value {
        if ($this.Pending.Count -eq 0) { return }
        $groupIndex = $this.GroupIndex
        $serverIndex = $this.ServerIndex
        $pending = $this.Pending
        Update-ShimState {
            param($state)
            $server = @($state.remoteRadiusServerGroups[$groupIndex].servers)[$serverIndex]
            if ($pending.ContainsKey($script:SdoIds.Timeout)) { $server.timeout = $pending[$script:SdoIds.Timeout] }
            if ($pending.ContainsKey($script:SdoIds.Blackout)) { $server.blackout = $pending[$script:SdoIds.Blackout] }
        }
        foreach ($id in @($pending.Keys)) { $this.Values[$id] = $pending[$id] }
        $this.Pending = @{}
    }
    $sdo
}

# ---------------------------------------------------------------- events, network

# Events the lab logged while the host worked (NPS answering RADIUS, RRAS dialling) are appended, one
# JSON line each, beside the state file: lab/windows/eventLog.ts writes them with the same path rule.
function Get-ShimEventLogPath { (Get-ShimStatePath) -replace '(?i)\.json$', '' | ForEach-Object { "$_.events.jsonl" } }

function Read-ShimEventLog {
    $path = Get-ShimEventLogPath
    if (-not [System.IO.File]::Exists($path)) { return }
    foreach ($line in [System.IO.File]::ReadAllLines($path)) {
        if ($line.Trim()) { $line | ConvertFrom-Json -AsHashtable -DateKind String }
    }
}

function Get-WinEvent {
    [CmdletBinding()]
    param([hashtable] $FilterHashtable, [string] $LogName, [int] $MaxEvents = [int]::MaxValue)
    Sync-CallerPreference $PSCmdlet
    $filter = if ($FilterHashtable) { $FilterHashtable } else { @{ LogName = $LogName } }
    $matched = @(@((Read-ShimState).events) + @(Read-ShimEventLog) | Where-Object {
            $event = $_
            $time = [DateTimeOffset]::Parse($event.timeCreated, [cultureinfo]::InvariantCulture)
            (-not $filter['LogName'] -or @($filter['LogName']) -contains $event.logName) -and
            (-not $filter['Id'] -or @($filter['Id']) -contains $event.id) -and
            (-not $filter['Level'] -or @($filter['Level']) -contains $event.level) -and
            (-not $filter['ProviderName'] -or @($filter['ProviderName']) -contains $event.providerName) -and
            (-not $filter['StartTime'] -or $time -ge [DateTimeOffset]$filter['StartTime'])
        } | Sort-Object { [DateTimeOffset]::Parse($_.timeCreated, [cultureinfo]::InvariantCulture) } -Descending | Select-Object -First $MaxEvents)
    if ($matched.Count -eq 0) {
        $exception = [System.Exception]::new('No events were found that match the specified selection criteria.')
        $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'NoMatchingEventsFound', 'ObjectNotFound', $null))
        return
    }
    foreach ($event in $matched) {
        [pscustomobject]@{
            LogName = $event.logName; Id = [int]$event.id; Level = [byte]$event.level; ProviderName = $event.providerName
            TimeCreated = [DateTimeOffset]::Parse($event.timeCreated, [cultureinfo]::InvariantCulture).LocalDateTime
            Message = $event.message
        }
    }
}

function Test-NetConnection {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string] $ComputerName, [int] $Port, [string] $InformationLevel)
    Sync-CallerPreference $PSCmdlet
    $reachable = (Read-ShimState).network['tcpReachable']
    $ok = $false
    if ($reachable) { $ok = [bool]$reachable["${ComputerName}:$Port"] }
    if ($InformationLevel -eq 'Quiet') { return $ok }
    [pscustomobject]@{ ComputerName = $ComputerName; RemotePort = $Port; TcpTestSucceeded = $ok }
}

# UDP listeners follow the IAS service: NPS listens on 1812/1813 only while it runs.
function Get-NetUDPEndpoint {
    [CmdletBinding()]
    param([int[]] $LocalPort)
    Sync-CallerPreference $PSCmdlet
    $state = Read-ShimState
    $ias = $null
    foreach ($key in @($state.services.Keys)) { if ($key -ieq 'IAS') { $ias = $state.services[$key] } }
    $ports = @()
    if ($ias -and $ias.status -eq 'Running') {
        $ports = if ($state.network.ContainsKey('iasUdpPorts')) { @($state.network.iasUdpPorts) } else { @(1812, 1813) }
    }
    $found = @($ports | Where-Object { -not $LocalPort -or $LocalPort -contains $_ })
    if ($found.Count -eq 0) {
        $exception = [System.Exception]::new('No matching MSFT_NetUDPEndpoint objects found.')
        $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($exception, 'CmdletizationQuery_NotFound', 'ObjectNotFound', $null))
        return
    }
    foreach ($port in $found) { [pscustomobject]@{ LocalAddress = '0.0.0.0'; LocalPort = [uint16]$port; OwningProcess = 4242 } }
}

# A session starts with what .NET Framework 4.x offers Windows PowerShell 5.1 (an app targeting a framework
# older than 4.6) on a host without SchUseStrongCrypto or SystemDefaultTlsVersions: no TLS 1.2 (Learn:
# dotnet/framework/network-programming/tls, "SchUseStrongCrypto", "SystemDefaultTlsVersions"). The setting is
# process-wide: each import (each command of the lab's hosts, each Pester run) starts a new session.
[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls

# Whether this session may speak TLS 1.2: the script enabled it, or the host's .NET Framework registry values do.
function Test-ShimTls12 {
    if (([Net.ServicePointManager]::SecurityProtocol -band [Net.SecurityProtocolType]::Tls12) -ne 0) { return $true }
    $state = Read-ShimState
    $key = Find-RegistryKeyName $state 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319'
    if ($null -eq $key) { return $false }
    $values = $state.registry[$key]
    foreach ($name in 'SchUseStrongCrypto', 'SystemDefaultTlsVersions') {
        $found = Find-ValueName $values $name
        if ($null -ne $found -and [long]$values[$found] -eq 1) { return $true }
    }
    $false
}

# The lab's network: the cloud's login hosts resolve to the lab's Entra (the Graph emulator), whose
# certificate the lab CA issued and the host trusts (state `network.loginRoute`: origin, caFile, hosts); the
# lab's download host resolves to the same server (`network.downloadRoute`, same shape), which serves the lab
# folder's installers. Nothing else is reachable, as on a server whose firewall allows only those hosts.
function Find-ShimWebRoute {
    param($State, [uri] $Uri)
    foreach ($name in 'loginRoute', 'downloadRoute') {
        $route = $State.network[$name]
        if ($null -ne $route -and @($route.hosts) -contains $Uri.Host) { return $route }
    }
    $null
}

# -OutFile writes the body to the file and returns nothing; -TimeoutSec bounds the request (0: no limit),
# as the Invoke-WebRequest reference (5.1) describes both. A path is resolved as the FileSystem provider does.
function Invoke-WebRequest {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][uri] $Uri, [string] $Method = 'Get', $Body, [string] $ContentType, [switch] $UseBasicParsing, [hashtable] $Headers,
        [string] $OutFile, [int] $TimeoutSec
    )
    Sync-CallerPreference $PSCmdlet
    $route = Find-ShimWebRoute (Read-ShimState) $Uri
    if ($null -eq $route) {
        throw [System.Net.Http.HttpRequestException]::new("No such host is known. ($($Uri.Host):$($Uri.Port))")
    }
    # Entra's login hosts accept TLS 1.2 and later only. The wording is what Windows PowerShell 5.1 users report
    # for a failed handshake (.NET Framework's WebException), not verified here.
    if ($Uri.Scheme -eq 'https' -and -not (Test-ShimTls12)) {
        throw [System.Net.WebException]::new('The underlying connection was closed: An unexpected error occurred on a send.')
    }
    $target = [uri]::new([uri]$route.origin, $Uri.PathAndQuery)
    $ca = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new([System.IO.File]::ReadAllBytes($route.caFile))
    # A chain policy rather than a validation callback: no script block runs on the HTTP thread pool.
    $policy = [System.Security.Cryptography.X509Certificates.X509ChainPolicy]::new()
    $policy.TrustMode = 'CustomRootTrust'
    $policy.RevocationMode = 'NoCheck'
    [void]$policy.CustomTrustStore.Add($ca)
    $handler = [System.Net.Http.SocketsHttpHandler]::new()
    $handler.SslOptions.CertificateChainPolicy = $policy
    $client = [System.Net.Http.HttpClient]::new($handler)
    $client.Timeout = if ($TimeoutSec -gt 0) { [TimeSpan]::FromSeconds($TimeoutSec) } else { [System.Threading.Timeout]::InfiniteTimeSpan }
    try {
        $message = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::new($Method.ToUpperInvariant()), $target)
        $message.Headers.Host = $Uri.Host
        if ($Body -is [System.Collections.IDictionary]) {
            $pairs = [System.Collections.Generic.List[System.Collections.Generic.KeyValuePair[string, string]]]::new()
            foreach ($key in $Body.Keys) { $pairs.Add([System.Collections.Generic.KeyValuePair[string, string]]::new([string]$key, [string]$Body[$key])) }
            $message.Content = [System.Net.Http.FormUrlEncodedContent]::new($pairs)
        } elseif ($null -ne $Body) {
            $message.Content = [System.Net.Http.StringContent]::new([string]$Body, [System.Text.Encoding]::UTF8, $ContentType)
        }
        try {
            $response = $client.SendAsync($message).GetAwaiter().GetResult()
        } catch [System.Threading.Tasks.TaskCanceledException] {
            # .NET Framework's WebException for an elapsed HttpWebRequest.Timeout (WebExceptionStatus.Timeout).
            throw [System.Net.WebException]::new('The operation has timed out.')
        }
        if (-not $response.IsSuccessStatusCode) {
            # As Invoke-WebRequest: the status in the exception, the body in ErrorDetails.
            $content = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
            $record = [System.Management.Automation.ErrorRecord]::new(
                [System.Net.Http.HttpRequestException]::new("Response status code does not indicate success: $([int]$response.StatusCode)."),
                'WebCmdletWebResponseException', 'InvalidOperation', $Uri)
            $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($content)
            $PSCmdlet.ThrowTerminatingError($record)
        }
        if ($OutFile) {
            $file = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($OutFile)
            [System.IO.File]::WriteAllBytes($file, $response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult())
            return
        }
        [pscustomobject]@{ StatusCode = [int]$response.StatusCode; Content = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult() }
    } finally {
        $client.Dispose()
    }
}

# ---------------------------------------------------------------- file shares

# A UNC path resolves through the host's file shares (state `network.shares`: '\\server\share' to a lab folder),
# as the SMB redirector would reach them. Null for an unknown server or share, or a path that climbs out of one.
function Resolve-ShimSharePath {
    param($State, $Target)
    $shares = $State.network['shares']
    if ($null -eq $shares -or $Target.Rest -match '(^|\\)\.\.(\\|$)') { return $null }
    foreach ($share in @($shares.Keys)) {
        if ($share -ieq $Target.Share) {
            if (-not $Target.Rest) { return [string]$shares[$share] }
            return [System.IO.Path]::Combine([string]$shares[$share], ($Target.Rest -replace '\\', '/'))
        }
    }
    $null
}

# Copy-Item from a share to a local path: the real cmdlet on the share's lab folder. A file on an unknown share
# does not exist, as Windows reports it ("Cannot find path ... because it does not exist.", ItemNotFoundException).
# Copying to a share is not emulated.
function Copy-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(ParameterSetName = 'Path', Mandatory, Position = 0)][string[]] $Path,
        [Parameter(ParameterSetName = 'LiteralPath', Mandatory)][Alias('PSPath')][string[]] $LiteralPath,
        [Parameter(Position = 1)][string] $Destination,
        [switch] $Force, [switch] $Recurse, [switch] $PassThru
    )
    Sync-CallerPreference $PSCmdlet
    if ($Destination -and (Resolve-ShimPath $Destination).Kind -eq 'Unc') { throw "WindowsShim: Copy-Item to a file share is not emulated (found $Destination)" }
    $options = @{ Force = $Force; Recurse = $Recurse; PassThru = $PassThru }
    if ($Destination) { $options.Destination = $Destination }
    $literal = $PSCmdlet.ParameterSetName -eq 'LiteralPath'
    foreach ($one in $(if ($literal) { $LiteralPath } else { $Path })) {
        $target = Resolve-ShimPath $one
        if ($target.Kind -ne 'Unc') {
            if ($literal) { Microsoft.PowerShell.Management\Copy-Item -LiteralPath $one @options } else { Microsoft.PowerShell.Management\Copy-Item -Path $one @options }
            continue
        }
        $local = Resolve-ShimSharePath (Read-ShimState) $target
        if ($null -eq $local -or -not (Microsoft.PowerShell.Management\Test-Path -LiteralPath $local)) { Write-PathNotFound $PSCmdlet $one; continue }
        Microsoft.PowerShell.Management\Copy-Item -LiteralPath $local @options
    }
}

# ---------------------------------------------------------------- processes: msiexec and the lab's installers

# Windows Installer's exit codes (Learn: windows/win32/msi/error-codes).
$script:MsiExitCodes = @{
    Success = 0; UserExit = 1602; UnknownProduct = 1605; LogFailure = 1622; ProductVersion = 1638; InvalidCommandLine = 1639
}
$script:UninstallKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
# The first line of a lab installer file; a JSON manifest follows (lab/extensionInstaller.ts writes them).
$script:LabInstallerMarker = 'NPSMFA-LAB-INSTALLER 1'

# Start-Process joins -ArgumentList with single spaces and passes the one string on (reference 5.1,
# -ArgumentList): the program splits it again, spaces separating and double quotes grouping, so an element
# holding a space splits unless the caller quoted it.
function Split-ShimCommandLine {
    param([string] $Line)
    $words = [System.Collections.Generic.List[string]]::new()
    $word = [System.Text.StringBuilder]::new()
    $quoted = $false
    $any = $false
    foreach ($char in $Line.ToCharArray()) {
        if ($char -eq '"') { $quoted = -not $quoted; $any = $true; continue }
        if ([char]::IsWhiteSpace($char) -and -not $quoted) {
            if ($any) { $words.Add($word.ToString()); [void]$word.Clear(); $any = $false }
            continue
        }
        [void]$word.Append($char)
        $any = $true
    }
    if ($any) { $words.Add($word.ToString()) }
    , $words.ToArray()
}

# A log file as msiexec's /l and the installer's /log write it: a few lines. A folder that does not exist is
# ERROR_INSTALL_LOG_FAILURE (1622), found before anything runs (Test-ShimInstallLog: the code, or null).
function Get-ShimInstallLogFile {
    param($Cmdlet, [string] $Path)
    if ($Path) { $Cmdlet.GetUnresolvedProviderPathFromPSPath($Path) }
}

function Test-ShimInstallLog {
    param($Cmdlet, [string] $Path)
    $file = Get-ShimInstallLogFile $Cmdlet $Path
    if ($file -and -not [System.IO.Directory]::Exists([System.IO.Path]::GetDirectoryName($file))) { return $script:MsiExitCodes.LogFailure }
    $null
}

function Write-ShimInstallLog {
    param($Cmdlet, [string] $Path, [string[]] $Lines)
    $file = Get-ShimInstallLogFile $Cmdlet $Path
    if (-not $file) { return }
    $stamp = (Get-ShimNow).ToString('HH:mm:ss:fff')
    [System.IO.File]::WriteAllLines($file, [string[]]@($Lines | ForEach-Object { "MSI (s) [$stamp]: $_" }))
}

function Find-ShimInstalledProduct {
    param($State, [string] $ProductCode)
    if (-not $State.ContainsKey('installedProducts')) { return $null }
    foreach ($code in @($State.installedProducts.Keys)) { if ($code -ieq $ProductCode) { return $code } }
    $null
}

# msiexec.exe (Learn: windows-server/administration/windows-commands/msiexec): /x <ProductCode> uninstalls;
# /quiet, /passive or /qn need no one at the screen; /norestart; /l*v <log>. Without an unattended mode msiexec
# would wait for a click that never comes over WinRM: the lab answers as a cancelled install, 1602
# (ERROR_INSTALL_USEREXIT). A product code Windows Installer does not know: 1605 (ERROR_UNKNOWN_PRODUCT).
# The extension's uninstall removes its files, its AuthSrv registration and its uninstall entry; what it does to
# HKLM\SOFTWARE\Microsoft\AzureMfa is undocumented, so the lab takes the worst case and removes the whole key.
function Invoke-ShimMsiexec {
    param($Cmdlet, [string[]] $Words)
    $action = $null; $product = $null; $log = $null; $unattended = $false
    for ($i = 0; $i -lt $Words.Count; $i++) {
        $word = $Words[$i]
        switch -Regex ($word) {
            '^(?i)[/-](x|uninstall)$' { $action = 'uninstall'; $product = $Words[++$i]; break }
            '^(?i)[/-]x(\{.+\})$' { $action = 'uninstall'; $product = $Matches[1]; break }
            '^(?i)[/-](quiet|passive|qn?)$' { $unattended = $true; break }
            '^(?i)[/-]norestart$' { break }
            '^(?i)[/-]l[iwearucmopvx+!*]*$' { $log = $Words[++$i]; break }
            '^(?i)[/-]' { throw "WindowsShim: msiexec option $word is not emulated (the lab knows /x, /quiet, /passive, /qn, /norestart, /l*v)" }
            default { return $script:MsiExitCodes.InvalidCommandLine }
        }
    }
    if ($action -ne 'uninstall' -or -not $product -or ($null -ne $log -and -not $log)) { return $script:MsiExitCodes.InvalidCommandLine }
    $logFailure = Test-ShimInstallLog $Cmdlet $log
    if ($logFailure) { return $logFailure }
    if (-not $unattended) {
        Write-ShimInstallLog $Cmdlet $log @("Product: $product -- no unattended mode (/quiet, /passive, /qn) and no one to answer the UI.", 'MainEngineThread is returning 1602')
        return $script:MsiExitCodes.UserExit
    }
    $outcome = Update-ShimState {
        param($state)
        $code = Find-ShimInstalledProduct $state $product
        if ($null -eq $code) { return @{ exit = $script:MsiExitCodes.UnknownProduct; name = $product } }
        $record = $state.installedProducts[$code]
        $state.installedProducts.Remove($code)
        $entry = Find-RegistryKeyName $state "$script:UninstallKey\$code"
        if ($null -ne $entry) { $state.registry.Remove($entry) }
        Remove-ShimExtensionRegistration $state $record
        if ($state.ContainsKey('npsExtensionVersion')) { $state.Remove('npsExtensionVersion') }
        foreach ($key in @($state.registry.Keys)) { if ($key -ieq 'HKLM:\SOFTWARE\Microsoft\AzureMfa' -or $key -like 'HKLM:\SOFTWARE\Microsoft\AzureMfa\*') { $state.registry.Remove($key) } }
        @{ exit = $script:MsiExitCodes.Success; name = $record.productName; version = $record.version }
    }
    $lines = if ($outcome.exit -eq 0) {
        "Product: $($outcome.name) -- Removal completed successfully.", "Windows Installer removed the product. Product Name: $($outcome.name). Product Version: $($outcome.version). Removal success or error status: 0."
    } else { "Product: $product -- This action is only valid for products that are currently installed.", 'MainEngineThread is returning 1605' }
    Write-ShimInstallLog $Cmdlet $log $lines
    $outcome.exit
}

# Takes the product's AuthSrv\Parameters entries out again, and a value left empty with them.
function Remove-ShimExtensionRegistration {
    param($State, $Record)
    $key = Find-RegistryKeyName $State 'HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'
    if ($null -eq $key -or -not $Record.ContainsKey('authSrvParameters')) { return }
    $values = $State.registry[$key]
    foreach ($name in @($Record.authSrvParameters.Keys)) {
        $existing = Find-ValueName $values $name
        if ($null -eq $existing) { continue }
        $left = @(@($values[$existing]) | Where-Object { @($Record.authSrvParameters[$name]) -notcontains $_ })
        if ($left.Count -eq 0) { $values.Remove($existing) } else { $values[$existing] = [string[]]$left }
    }
}

# A lab installer: a marker line, then its manifest (productName, version, productCode, publisher, authSrvParameters).
function Read-ShimLabInstaller {
    param([string] $File)
    $lines = [System.IO.File]::ReadAllLines($File)
    if ($lines.Count -lt 2 -or $lines[0] -ne $script:LabInstallerMarker) { return $null }
    ($lines[1..($lines.Count - 1)] -join "`n") | ConvertFrom-Json -AsHashtable
}

# NpsExtnForAzureMfaInstaller.exe with /install, /quiet or /passive, /norestart and /log <file>. Microsoft documents
# no switches or exit codes for it (docs/lab.md): the lab answers as Windows Installer does (Learn:
# windows/win32/msi/error-codes). No unattended mode: 1602. The host's fault `faults.extensionInstallExitCode`:
# that code. A version of the product already installed: 1638 (ERROR_PRODUCT_VERSION), as Learn's upgrade steps
# (howto-mfa-nps-extension, "Upgrade the NPS extension") uninstall the old version first. Each leaves the host as it
# was. Success: the files (npsExtensionVersion), the AuthSrv registration, the uninstall entry and Windows
# Installer's record; not the AzureMfa settings (its configuration script writes those), and not the running IAS,
# which keeps what it loaded until its next start.
function Invoke-ShimLabInstaller {
    param($Cmdlet, $Manifest, [string[]] $Words)
    $log = $null; $unattended = $false
    for ($i = 0; $i -lt $Words.Count; $i++) {
        $word = $Words[$i]
        switch -Regex ($word) {
            '^(?i)[/-]install$' { break }
            '^(?i)[/-](quiet|passive)$' { $unattended = $true; break }
            '^(?i)[/-]norestart$' { break }
            '^(?i)[/-]log$' { $log = $Words[++$i]; break }
            default { throw "WindowsShim: installer argument $word is not emulated (the lab knows /install, /quiet, /passive, /norestart, /log <file>)" }
        }
    }
    if ($null -ne $log -and -not $log) { return $script:MsiExitCodes.InvalidCommandLine }
    $logFailure = Test-ShimInstallLog $Cmdlet $log
    if ($logFailure) { return $logFailure }
    $name = $Manifest.productName
    $outcome = Update-ShimState {
        param($state)
        $fault = if ($state.ContainsKey('faults') -and $state.faults -and $state.faults.ContainsKey('extensionInstallExitCode')) { [int]$state.faults.extensionInstallExitCode } else { 0 }
        if (-not $unattended) { return @{ exit = $script:MsiExitCodes.UserExit; line = "Product: $name -- the setup waits for a click: no /quiet or /passive." } }
        if ($fault) { return @{ exit = $fault; line = "Product: $name -- Installation failed (the lab host's fault extensionInstallExitCode)." } }
        if (-not $state.ContainsKey('installedProducts')) { $state.installedProducts = @{} }
        foreach ($code in @($state.installedProducts.Keys)) {
            if ($state.installedProducts[$code].productName -eq $name) {
                return @{ exit = $script:MsiExitCodes.ProductVersion; line = "Product: $name -- Another version of this product is already installed ($($state.installedProducts[$code].version), $code)." }
            }
        }
        $code = $Manifest.productCode
        $state.installedProducts[$code] = @{ productName = $name; version = $Manifest.version; authSrvParameters = $Manifest.authSrvParameters }
        $state.npsExtensionVersion = $Manifest.version
        $authSrv = Find-RegistryKeyName $state 'HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'
        if ($null -eq $authSrv) { $authSrv = 'HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'; $state.registry[$authSrv] = @{} }
        foreach ($valueName in @($Manifest.authSrvParameters.Keys)) {
            $existing = Find-ValueName $state.registry[$authSrv] $valueName
            $before = @()
            if ($null -ne $existing) { $before = @($state.registry[$authSrv][$existing]); $state.registry[$authSrv].Remove($existing) }
            $state.registry[$authSrv][$valueName] = [string[]]@($before + @($Manifest.authSrvParameters[$valueName] | Where-Object { $before -notcontains $_ }))
        }
        if ($null -eq (Find-RegistryKeyName $state $script:UninstallKey)) { $state.registry[$script:UninstallKey] = @{} }
        # The uninstall entry Windows Installer writes for an MSI product (Learn: windows/win32/msi/uninstall-registry-key).
        $state.registry["$script:UninstallKey\$code"] = @{
            DisplayName = $name; DisplayVersion = $Manifest.version; Publisher = $Manifest.publisher
            WindowsInstaller = [long]1; UninstallString = "MsiExec.exe /X$code"
        }
        @{ exit = $script:MsiExitCodes.Success; line = "Product: $name -- Installation completed successfully. Product Version: $($Manifest.version)." }
    }
    Write-ShimInstallLog $Cmdlet $log @($outcome.line, "Exit code: $($outcome.exit)")
    $outcome.exit
}

# Start-Process for the programs an installation needs: msiexec.exe and the lab's installer files. The process
# has ended when the cmdlet returns (as with -Wait); -PassThru gives a System.Diagnostics.Process look-alike with
# its ExitCode. A file that does not exist or is no program fails as Windows' Start-Process does.
function Start-Process {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string] $FilePath,
        [Parameter(Position = 1)][Alias('Args')][string[]] $ArgumentList,
        [switch] $Wait, [switch] $PassThru, [switch] $NoNewWindow
    )
    Sync-CallerPreference $PSCmdlet
    $words = Split-ShimCommandLine (@($ArgumentList) -join ' ')
    $cannotRun = {
        param([string] $Why)
        $exception = [System.InvalidOperationException]::new("This command cannot be run due to the error: $Why")
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'InvalidOperationException,Microsoft.PowerShell.Commands.StartProcessCommand', 'InvalidOperation', $null))
    }
    if ($FilePath -match '^(?i)((%SystemRoot%|%windir%|[a-z]:\\Windows)\\System32\\)?msiexec(\.exe)?$') {
        $name = 'msiexec'
        $exitCode = Invoke-ShimMsiexec $PSCmdlet $words
    } else {
        $file = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($FilePath)
        if (-not [System.IO.File]::Exists($file)) { & $cannotRun 'The system cannot find the file specified.' }
        $manifest = Read-ShimLabInstaller $file
        if ($null -eq $manifest) { & $cannotRun '%1 is not a valid Win32 application.' }
        $name = [System.IO.Path]::GetFileNameWithoutExtension($file)
        $exitCode = Invoke-ShimLabInstaller $PSCmdlet $manifest $words
    }
    if (-not $PassThru) { return }
    $process = [pscustomobject]@{ Id = Get-Random -Minimum 1000 -Maximum 65000; ProcessName = $name; HasExited = $true; ExitCode = [int]$exitCode }
    $process | Add-Member -MemberType ScriptMethod -Name WaitForExit -Value { param($milliseconds) $true }
    $process.PSObject.TypeNames.Insert(0, 'System.Diagnostics.Process')
    $process
}

# Key files live under %ProgramData% on Windows; give scripts the variable, on a drive Linux has (Join-Path checks).
if (-not $env:ProgramData) { $env:ProgramData = '/ProgramData' }

Export-ModuleMember -Function @(
    'Get-ItemProperty', 'Get-ItemPropertyValue', 'Set-ItemProperty', 'New-ItemProperty', 'Remove-ItemProperty', 'Test-Path', 'New-Item',
    'Get-ChildItem', 'Get-Item', 'Remove-Item', 'New-SelfSignedCertificate', 'New-Object', 'Get-Acl', 'Set-Acl',
    'Get-Service', 'Start-Service', 'Stop-Service', 'Restart-Service',
    'Get-RemoteAccessRadius', 'Set-RemoteAccessRadius',
    'Get-WinEvent', 'Test-NetConnection', 'Get-NetUDPEndpoint', 'Invoke-WebRequest', 'Copy-Item', 'Start-Process',
    'New-ShimCertificateEntry'
)
