# Dot-sourced by the Pester tests: seeds a lab host's state file and runs the real remote/scripts/*.ps1
# against the Windows shim, composed as remote/hostScripts.ts sends them (Prelude.ps1, IasLoaded.ps1,
# HostFacts.ps1, then the script), with a
# param() block for the data where the WinRM composition assigns it.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ScriptsDir = Join-Path $script:RepoRoot 'remote/scripts'
$script:ShimPath = Join-Path $script:RepoRoot 'lab/windows/WindowsShim.psm1'
$script:TenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47'
$script:AzureMfaKey = 'HKLM:\SOFTWARE\Microsoft\AzureMfa'
$script:AuthSrvKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'

function Get-ComposedScript {
    param([string] $Name)
    $file = Join-Path ([System.IO.Path]::GetTempPath()) "npsmfa-pester-$PID-$Name.ps1"
    $text = "param([Parameter(Mandatory = `$true)][string] `$InputBase64)`n" +
        [System.IO.File]::ReadAllText((Join-Path $script:ScriptsDir 'Prelude.ps1')) + "`n" +
        [System.IO.File]::ReadAllText((Join-Path $script:ScriptsDir 'IasLoaded.ps1')) + "`n" +
        [System.IO.File]::ReadAllText((Join-Path $script:ScriptsDir 'HostFacts.ps1')) + "`n" +
        [System.IO.File]::ReadAllText((Join-Path $script:ScriptsDir "$Name.ps1"))
    [System.IO.File]::WriteAllText($file, $text)
    $file
}

# Runs one host script with the shim imported into this call's scope only (Pester itself never sees it).
function Invoke-HostScriptFile {
    param([string] $Name, [hashtable] $Data, [string] $InputBase64)
    if (-not $InputBase64) {
        $InputBase64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes(($Data | ConvertTo-Json -Depth 10)))
    }
    Import-Module $script:ShimPath -Scope Local -Force
    $file = Get-ComposedScript $Name
    $global:LASTEXITCODE = 0
    $lines = @(& $file -InputBase64 $InputBase64)
    $exitCode = $LASTEXITCODE
    [pscustomobject]@{
        ExitCode = $exitCode
        Lines = $lines.Count
        Document = ($lines -join "`n" | ConvertFrom-Json -AsHashtable)
    }
}

function Get-LabState { [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | ConvertFrom-Json -AsHashtable -DateKind String }

function Set-LabState {
    param([hashtable] $State)
    [System.IO.File]::WriteAllText($env:NPSMFA_HOST_STATE, ($State | ConvertTo-Json -Depth 20))
}

function Update-LabState {
    param([scriptblock] $Change)
    $state = Get-LabState
    & $Change $state
    Set-LabState $state
}

function New-LabCertificate {
    param(
        [datetime] $NotBefore = (Get-Date).AddMinutes(-10),
        [datetime] $NotAfter = (Get-Date).AddYears(2),
        [string] $Subject = "CN=$($script:TenantId), OU=Microsoft NPS Extension",
        [switch] $NoNetworkServiceRead,
        [ValidateSet('capi', 'cng')][string] $KeyStorage = 'capi'
    )
    Import-Module $script:ShimPath -Scope Local -Force
    $entry = New-ShimCertificateEntry -Subject $Subject -NotBefore $NotBefore -NotAfter $NotAfter -KeyStorage $KeyStorage
    if (-not $NoNetworkServiceRead) { $entry.keyAcl += @{ sid = 'S-1-5-20'; rights = 131209; type = 'Allow' } }
    $entry
}

# The article's NPS server: extension installed, registry incomplete, no certificate, IAS running.
function New-ArticleNpsHost {
    param([string] $Name = 'nps01.lab.test')
    $env:NPSMFA_HOST_STATE = Join-Path $TestDrive "$Name.json"
    Set-LabState @{
        hostname = $Name
        registry = @{
            'HKLM:\SOFTWARE\Microsoft' = @{}
            $script:AuthSrvKey = @{
                AuthorizationDLLs = @('%ProgramFiles%\Microsoft\AzureMfa\Extensions\MfaNpsAuthzExt.dll')
                ExtensionDLLs = @('%ProgramFiles%\Microsoft\AzureMfa\Extensions\MfaNpsAuthnExt.dll')
            }
            $script:AzureMfaKey = @{ TENANT_ID = $script:TenantId }
        }
        npsExtensionVersion = '1.2.2893.1'
        certificates = @()
        services = @{ IAS = @{ displayName = 'Network Policy Server'; status = 'Running'; history = @() } }
        events = @()
        remoteAccessRadius = @()
        remoteRadiusServerGroups = @()
        network = @{}
    }
}

# The article's VPN server: RADIUS authentication to each NPS server with RRAS's 5 s default.
function New-ArticleVpnHost {
    param([string[]] $NpsServers = @('nps01.lab.test', 'nps02.lab.test'), [int] $Timeout = 5)
    $env:NPSMFA_HOST_STATE = Join-Path $TestDrive 'vpn01.json'
    Set-LabState @{
        hostname = 'vpn01.lab.test'
        registry = @{}
        certificates = @()
        services = @{ RemoteAccess = @{ displayName = 'Routing and Remote Access'; status = 'Running' } }
        events = @()
        remoteAccessRadius = @($NpsServers | ForEach-Object { @{ serverName = $_; purpose = 'Authentication'; timeout = $Timeout; score = 30; port = 1812 } })
        remoteRadiusServerGroups = @()
        network = @{}
    }
}

function Get-CompleteSettings {
    param([string] $Thumbprint = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01')
    @{
        TENANT_ID = $script:TenantId
        CLIENT_ID = '981f26a1-7f43-403b-a875-f8b09b8cd720'
        STS_URL = 'https://login.microsoftonline.com/'
        AZURE_MFA_HOSTNAME = 'strongauthenticationservice.auth.microsoft.com'
        AZURE_MFA_RESOURCE_HOSTNAME = 'adnotifications.windowsazure.com'
        AZURE_MFA_TARGET_PATH = 'StrongAuthenticationService.svc/Connector'
        CLIENT_CERT_IDENTIFIER = $Thumbprint
    }
}

# A lab installer of an extension version (lab/extensionInstaller.ts writes the same: the marker line, then the
# release's manifest), which the shim's Start-Process runs as the real installer would.
function New-LabInstallerFile {
    param([string] $Version, [string] $ProductCode, [string] $Folder = (Join-Path $env:ProgramData 'installers'))
    New-Item -ItemType Directory -Path $Folder -Force | Out-Null
    $file = Join-Path $Folder "NpsExtnForAzureMfaInstaller-$Version.exe"
    $manifest = @{
        productName = 'NPS Extension For Azure MFA'; version = $Version; productCode = $ProductCode; publisher = 'Microsoft Corporation'
        authSrvParameters = @{
            AuthorizationDLLs = @('%ProgramFiles%\Microsoft\AzureMfa\Extensions\MfaNpsAuthzExt.dll')
            ExtensionDLLs = @('%ProgramFiles%\Microsoft\AzureMfa\Extensions\MfaNpsAuthnExt.dll')
        }
    }
    [System.IO.File]::WriteAllText($file, "NPSMFA-LAB-INSTALLER 1`n" + ($manifest | ConvertTo-Json -Depth 5))
    $file
}
