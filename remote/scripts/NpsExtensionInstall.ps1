# The Entra MFA NPS extension on one NPS server, installed or upgraded from a declared installer when it is
# missing or below the declared minimum, as Learn's "Upgrade the NPS extension" says (howto-mfa-nps-extension):
# uninstall the existing version, run the new installer, then restart IAS (IasRestart.ps1 does that, after the
# settings are applied again). Nothing runs unless the fetched file has the declared SHA-256.
# Input:  { mode: "get" | "install", installer: { source, sha256 }, minimumVersion: "1.2.2893.1" | null,
#           downloadTimeoutSeconds: 300 }
# Result: { registered, extensionVersion, product: { name, version, productCode } | null, versionSatisfied,
#           changed, previousVersion, log }
# Microsoft documents no command-line switches or exit codes for NpsExtnForAzureMfaInstaller.exe; docs/windows.md
# says what is chosen and why. Windows PowerShell 5.1 compatible.

# The product's name as Microsoft's health check looks for it (MFA_NPS_Troubleshooter.ps1 queries Win32_Product).
# Its uninstall entry is read instead: querying Win32_Product makes Windows Installer check, and possibly
# reconfigure, every installed product (Microsoft Support KB974524).
$ExtensionProductName = 'NPS Extension For Azure MFA'
$UninstallKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'

# What the codes msiexec and the installer return mean (Learn: windows/win32/msi/error-codes).
$InstallerExitCodes = @{
    1602 = 'ERROR_INSTALL_USEREXIT: the installation was cancelled'
    1603 = 'ERROR_INSTALL_FAILURE: a fatal error occurred during installation'
    1605 = 'ERROR_UNKNOWN_PRODUCT: the product is not installed'
    1618 = 'ERROR_INSTALL_ALREADY_RUNNING: another installation is in progress'
    1638 = 'ERROR_PRODUCT_VERSION: another version of this product is already installed'
    1641 = 'ERROR_SUCCESS_REBOOT_INITIATED: the installer started a restart of the server'
    3010 = 'ERROR_SUCCESS_REBOOT_REQUIRED: the server must restart to complete the installation'
}

# The MSI product's uninstall entry: its key name is its ProductCode (Learn: windows/win32/msi/uninstall-registry-key).
function Get-ExtensionProduct {
    if (-not (Test-Path -Path $UninstallKey)) { return $null }
    foreach ($entry in @(Get-ItemProperty -Path "$UninstallKey\*")) {
        if ([string](Get-InputValue $entry 'DisplayName' '') -ne $ExtensionProductName) { continue }
        $code = [string](Get-InputValue $entry 'PSChildName' '')
        if ($code -notmatch '^\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}$') { continue }
        return @{ name = $ExtensionProductName; version = [string](Get-InputValue $entry 'DisplayVersion' ''); productCode = $code }
    }
    $null
}

# What is on the server now: the product, the DLL NPS loads (its file version) and whether NPS has them registered.
function Get-ExtensionInstallation {
    param([string] $Minimum)
    $registered = (@(Get-MissingExtensionDll).Count -eq 0)
    $version = Get-ExtensionVersion
    $satisfied = $registered -and $null -ne $version
    if ($satisfied -and -not [string]::IsNullOrEmpty($Minimum)) { $satisfied = ($version -ge [version]$Minimum) }
    @{
        registered = $registered
        version = $version
        extensionVersion = $(if ($null -ne $version) { "$version" } else { $null })
        product = Get-ExtensionProduct
        versionSatisfied = [bool]$satisfied
    }
}

# The source as messages show it: a URL's query (a storage SAS token, say) is a secret and stays hidden.
function Get-ShownSource {
    param([string] $Source)
    $Source -replace '\?.*$', '?<query hidden>'
}

function Get-InstallerFolder {
    $folder = Join-Path (Join-Path $env:ProgramData 'npsmfa') 'installers'
    $null = New-Item -ItemType Directory -Path $folder -Force
    $folder
}

# Fetches the installer into npsmfa's folder: over HTTPS (TLS 1.2 offered first, Prelude.ps1), or copied from a
# share or local path. The copy, not the source, is hashed and run, so the file checked is the file run.
function Get-InstallerCopy {
    param([string] $Source, [string] $File, [int] $TimeoutSeconds)
    if ($Source -match '^(?i)https://') {
        Enable-Tls12
        $null = Invoke-WebRequest -Uri $Source -OutFile $File -UseBasicParsing -TimeoutSec $TimeoutSeconds
    } else {
        Copy-Item -LiteralPath $Source -Destination $File -Force
    }
}

function Assert-InstallerHash {
    param([string] $File, [string] $Source, [string] $Expected)
    $found = ([string](Get-FileHash -LiteralPath $File -Algorithm SHA256).Hash).ToUpperInvariant()
    if ($found -eq $Expected.ToUpperInvariant()) { return }
    $Source = Get-ShownSource $Source
    Stop-HostScript -Code 'InstallerHashMismatch' -Message ("the installer fetched from $Source has SHA-256 $found, but extension.installer.sha256 " +
        "declares $($Expected.ToUpperInvariant()). Nothing was run and nothing was changed on this server, and the rollout stops here. " +
        'Check the file at the source (another download, a partial copy, a replaced file), then declare its hash or correct the source.') -Details @{
        expected = $Expected.ToUpperInvariant(); found = $found; source = $Source
    }
}

# Runs a program to its end and returns its exit code. Start-Process, not the call operator: an .exe built as a
# Windows (GUI) application would otherwise return at once, before it has installed anything. Start-Process
# joins -ArgumentList with spaces into one command line (reference 5.1), so a path is passed in double quotes.
function Invoke-InstallerProcess {
    param([string] $FilePath, [string[]] $Arguments)
    $process = Start-Process -FilePath $FilePath -ArgumentList $Arguments -Wait -PassThru -NoNewWindow
    [int]$process.ExitCode
}

function ConvertTo-QuotedArgument {
    param([string] $Text)
    '"' + $Text + '"'
}

function Get-ExitCodeMeaning {
    param([int] $Code)
    $meaning = $InstallerExitCodes[$Code]
    if ($null -eq $meaning) { return "exit code $Code" }
    "exit code $Code, $meaning"
}

function Invoke-NpsExtensionInstall {
    param($Data)
    Set-Step 'read input'
    $mode = Get-InputValue $Data 'mode' 'get'
    $minimum = [string](Get-InputValue $Data 'minimumVersion' '')
    $installer = Get-InputValue $Data 'installer'
    $timeout = [int](Get-InputValue $Data 'downloadTimeoutSeconds' 300)

    Set-Step 'read the installed extension'
    $before = Get-ExtensionInstallation -Minimum $minimum
    $result = @{
        registered = $before.registered; extensionVersion = $before.extensionVersion; product = $before.product
        versionSatisfied = $before.versionSatisfied; changed = $false; previousVersion = $before.extensionVersion; log = ''
    }
    if ($mode -ne 'install' -or $before.versionSatisfied) { return $result }

    $source = [string](Get-InputValue $installer 'source' '')
    $sha256 = [string](Get-InputValue $installer 'sha256' '')
    Set-Step "fetch the installer from $(Get-ShownSource $source)"
    $folder = Get-InstallerFolder
    $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ', [System.Globalization.CultureInfo]::InvariantCulture)
    $file = Join-Path $folder ('NpsExtnForAzureMfaInstaller-{0}.exe' -f $sha256.Substring(0, 12).ToLowerInvariant())
    $uninstallLog = Join-Path $folder "$stamp-uninstall.log"
    $installLog = Join-Path $folder "$stamp-install.log"
    try {
        Get-InstallerCopy -Source $source -File $file -TimeoutSeconds $timeout
        Set-Step 'verify the installer''s SHA-256'
        Assert-InstallerHash -File $file -Source $source -Expected $sha256

        # From here on the server changes: record what IAS runs now, so a run that stops half-way still leaves
        # the IAS restart pending on the server (IasLoaded.ps1).
        Set-Step 'record what IAS loaded'
        Initialize-IasLoadedMarker

        $old = $before.product
        if ($null -ne $old) {
            Set-Step "uninstall version $($old.version) ($($old.productCode))"
            $code = Invoke-InstallerProcess -FilePath 'msiexec.exe' -Arguments @('/x', $old.productCode, '/quiet', '/norestart', '/l*v', (ConvertTo-QuotedArgument $uninstallLog))
            if ($code -ne 0) {
                Stop-HostScript -Code 'UninstallFailed' -Message ("uninstalling the NPS extension $($old.version) (msiexec /x $($old.productCode)) failed with " +
                    "$(Get-ExitCodeMeaning $code). Its log: $uninstallLog. The new installer was not run; the extension is as it was. " +
                    'Fix the cause, then run pulumi up --refresh again.') -Details @{ exitCode = $code; log = $uninstallLog }
            }
        } elseif ($before.registered) {
            # Files registered with NPS but no product entry: not an installation Windows Installer can remove.
            Stop-HostScript -Code 'UnknownInstallation' -Message ("the NPS extension $($before.extensionVersion) is registered with NPS, but Programs and " +
                "Features has no '$ExtensionProductName' entry, so it cannot be uninstalled first as Microsoft's upgrade steps ask. Nothing was run. " +
                'Remove it by hand, or install the new version by hand, then run pulumi up --refresh again.')
        }

        Set-Step 'run the installer'
        $code = Invoke-InstallerProcess -FilePath $file -Arguments @('/install', '/quiet', '/norestart', '/log', (ConvertTo-QuotedArgument $installLog))
        $removed = ''
        if ($null -ne $old) {
            $removed = (" The old version $($old.version) was uninstalled first (Learn's upgrade steps): IAS keeps running it until IAS restarts. " +
                'Do not restart IAS on this server before pulumi up --refresh has installed the extension: IAS would start without MFA.')
        }
        if ($code -eq 3010 -or $code -eq 1641) {
            Stop-HostScript -Code 'RestartRequired' -Message ("NpsExtnForAzureMfaInstaller.exe finished with $(Get-ExitCodeMeaning $code). npsmfa never restarts " +
                "a server: restart it in a maintenance window, then run pulumi up --refresh. Its log: $installLog.") -Details @{ exitCode = $code; log = $installLog }
        }
        if ($code -ne 0) {
            Stop-HostScript -Code 'InstallFailed' -Message ("NpsExtnForAzureMfaInstaller.exe failed with $(Get-ExitCodeMeaning $code). Its log: $installLog.$removed " +
                'The rollout stops at this server.') -Details @{ exitCode = $code; log = $installLog }
        }
    } finally {
        if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force }
    }

    Set-Step 'read the installed extension'
    $after = Get-ExtensionInstallation -Minimum $minimum
    if (-not $after.registered -or $null -eq $after.version) {
        Stop-HostScript -Code 'InstallIncomplete' -Message ("NpsExtnForAzureMfaInstaller.exe exited 0, but NPS does not have the extension's DLLs registered " +
            "(AuthSrv\Parameters) or MfaNpsAuthzExt.dll has no readable version. Its log: $installLog.") -Details @{ log = $installLog }
    }
    if (-not $after.versionSatisfied) {
        Stop-HostScript -Code 'InstalledBelowMinimum' -Message ("the installer put version $($after.extensionVersion) on this server, below extension.minimumVersion " +
            "$minimum. Declare an installer of $minimum or later (extension.installer.source and .sha256).") -Details @{ found = $after.extensionVersion; needed = $minimum }
    }
    $result.registered = $after.registered
    $result.extensionVersion = $after.extensionVersion
    $result.product = $after.product
    $result.versionSatisfied = $true
    $result.changed = $true
    $result.log = $installLog
    $result
}

Invoke-HostScript -Name 'NpsExtensionInstall' -Main { param($Data) Invoke-NpsExtensionInstall $Data }
exit $script:HostScriptExitCode
