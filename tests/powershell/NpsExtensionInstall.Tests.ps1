BeforeAll {
    . (Join-Path $PSScriptRoot 'HostScriptSupport.ps1')
    $script:OldCode = '{11111111-2222-5333-8444-555555555555}'
    $script:NewCode = '{AAAAAAAA-BBBB-5CCC-8DDD-EEEEEEEEEEEE}'
    $script:Share = '\\files.lab.example\npsmfa'

    # The host with the old release installed by its installer (product entry, files, registration), IAS running it.
    function New-OldExtensionHost {
        New-ArticleNpsHost
        Update-LabState { param($s) $s.Remove('npsExtensionVersion'); $s.registry[$AuthSrvKey] = @{} }
        $env:ProgramData = Join-Path $TestDrive 'ProgramData'
        New-Item -ItemType Directory -Path $env:ProgramData -Force | Out-Null
        $shareDir = Join-Path $TestDrive 'share'
        $script:OldInstaller = New-LabInstallerFile -Version '1.2.2677.2' -ProductCode $OldCode -Folder $shareDir
        $script:NewInstaller = New-LabInstallerFile -Version '1.2.2893.1' -ProductCode $NewCode -Folder $shareDir
        Update-LabState { param($s) $s.network = @{ shares = @{ $Share = $shareDir } } }
        Import-Module $ShimPath -Scope Local -Force
        $code = (Start-Process -FilePath $OldInstaller -ArgumentList '/install', '/quiet', '/norestart', '/log', (Join-Path $TestDrive 'seed.log') -Wait -PassThru -NoNewWindow).ExitCode
        if ($code -ne 0) { throw "seeding the old extension failed with $code" }
        Restart-Service -Name IAS
        Update-LabState { param($s) $s.services.IAS.history = @() }
    }

    function Get-InstallInput {
        param([string] $File = $NewInstaller, [string] $Sha256 = (Get-FileHash -LiteralPath $NewInstaller -Algorithm SHA256).Hash, [string] $Mode = 'install')
        @{ mode = $Mode; installer = @{ source = "$Share\$(Split-Path -Leaf $File)"; sha256 = $Sha256 }; minimumVersion = '1.2.2893.1' }
    }

    # What npsmfa leaves in its download folder: logs only, never an installer.
    function Get-DownloadedFile { @(Get-ChildItem -Path (Join-Path (Join-Path $env:ProgramData 'npsmfa') 'installers') -Filter '*.exe' -ErrorAction SilentlyContinue) }
}

Describe 'NpsExtensionInstall.ps1' {
    BeforeEach { New-OldExtensionHost }

    It 'get reports the installed product and DLL version against the minimum, changing nothing' {
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput -Mode 'get')
        $run.ExitCode | Should -Be 0
        $result = $run.Document.result
        $result.extensionVersion | Should -Be '1.2.2677.2'
        $result.product.version | Should -Be '1.2.2677.2'
        $result.product.productCode | Should -Be $OldCode
        $result.versionSatisfied | Should -BeFalse
        $result.changed | Should -BeFalse
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'upgrades as Learn says: the old product uninstalled, the new one installed silently, IAS still on the old one until it restarts' {
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput)
        $run.ExitCode | Should -Be 0
        $result = $run.Document.result
        $result.changed | Should -BeTrue
        $result.previousVersion | Should -Be '1.2.2677.2'
        $result.extensionVersion | Should -Be '1.2.2893.1'
        $result.product.productCode | Should -Be $NewCode
        $state = Get-LabState
        $state.npsExtensionVersion | Should -Be '1.2.2893.1'
        @($state.registry.Keys | Where-Object { $_ -like 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*' }) | Should -Be @("HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\$NewCode")
        $state.services.IAS.loaded.extensionVersion | Should -Be '1.2.2677.2'
        @($state.services.IAS.history).Count | Should -Be 0
        # The record of what IAS loaded was made before the change: the restart is pending on the server.
        $state.registry['HKLM:\SOFTWARE\npsmfa'].IasLoadedExtensionVersion | Should -Be '1.2.2677.2'
        (Invoke-HostScriptFile IasRestart @{ mode = 'get' }).Document.result.restartPending | Should -BeTrue
        Get-Content -LiteralPath $result.log -Raw | Should -Match 'Installation completed successfully'
        Get-DownloadedFile | Should -BeNullOrEmpty
    }

    It 'changes nothing, and fetches nothing, where the version is already at the minimum' {
        $null = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput)
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput -File (Join-Path $TestDrive 'nowhere.exe'))
        $run.ExitCode | Should -Be 0
        $run.Document.result.changed | Should -BeFalse
        $run.Document.result.versionSatisfied | Should -BeTrue
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'runs nothing when the fetched file has another SHA-256, naming both hashes and the source' {
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $found = (Get-FileHash -LiteralPath $NewInstaller -Algorithm SHA256).Hash
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput -Sha256 ('ab' * 32))
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'InstallerHashMismatch'
        $run.Document.error.step | Should -Be 'verify the installer''s SHA-256'
        $run.Document.error.message | Should -BeLike "the installer fetched from $Share\*has SHA-256 $found, but extension.installer.sha256 declares $('AB' * 32). Nothing was run*"
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
        Get-DownloadedFile | Should -BeNullOrEmpty
    }

    It 'fails naming the source when the share has no such file, changing nothing' {
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput -File (Join-Path $TestDrive 'missing.exe'))
        $run.ExitCode | Should -Be 1
        $run.Document.error.step | Should -Be "fetch the installer from $Share\missing.exe"
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'hides a URL''s query (a SAS token) in what it reports' {
        $run = Invoke-HostScriptFile NpsExtensionInstall (@{ mode = 'install'; installer = @{ source = 'https://unreachable.example/NpsExtnForAzureMfaInstaller.exe?sv=2025&sig=secret-token'; sha256 = 'ab' * 32 }; minimumVersion = '1.2.2893.1' })
        $run.ExitCode | Should -Be 1
        $run.Document.error.step | Should -Be 'fetch the installer from https://unreachable.example/NpsExtnForAzureMfaInstaller.exe?<query hidden>'
        ($run.Document | ConvertTo-Json -Depth 10) | Should -Not -Match 'secret-token'
    }

    It 'an installer that fails after the old version was removed says so, with its exit code, its meaning and its log' {
        Update-LabState { param($s) $s.faults = @{ extensionInstallExitCode = 1603 } }
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput)
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'InstallFailed'
        $run.Document.error.details.exitCode | Should -Be 1603
        $run.Document.error.message | Should -BeLike '*failed with exit code 1603, ERROR_INSTALL_FAILURE*The old version 1.2.2677.2 was uninstalled first*Do not restart IAS*'
        $state = Get-LabState
        $state.ContainsKey('npsExtensionVersion') | Should -BeFalse
        $state.services.IAS.loaded.extensionVersion | Should -Be '1.2.2677.2'
        Get-DownloadedFile | Should -BeNullOrEmpty
    }

    It 'installs where the extension was never installed, with nothing to uninstall' {
        Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput) | Out-Null
        Import-Module $ShimPath -Scope Local -Force
        $null = Start-Process -FilePath 'msiexec.exe' -ArgumentList '/x', $NewCode, '/quiet', '/norestart', '/l*v', (Join-Path $TestDrive 'u.log') -Wait -PassThru -NoNewWindow
        (Get-LabState).ContainsKey('npsExtensionVersion') | Should -BeFalse
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput)
        $run.ExitCode | Should -Be 0
        $run.Document.result.previousVersion | Should -BeNullOrEmpty
        $run.Document.result.extensionVersion | Should -Be '1.2.2893.1'
    }

    It 'refuses an extension registered with NPS but unknown to Programs and Features, running nothing' {
        Update-LabState { param($s) $s.registry.Remove("HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\$OldCode") }
        $run = Invoke-HostScriptFile NpsExtensionInstall (Get-InstallInput)
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'UnknownInstallation'
        (Get-LabState).npsExtensionVersion | Should -Be '1.2.2677.2'
    }

    It 'refuses an installer older than the minimum after running it, naming both versions' {
        $run = Invoke-HostScriptFile NpsExtensionInstall (@{ mode = 'install'; installer = @{ source = "$Share\$(Split-Path -Leaf $OldInstaller)"; sha256 = (Get-FileHash -LiteralPath $OldInstaller -Algorithm SHA256).Hash }; minimumVersion = '1.2.2893.1' })
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'InstalledBelowMinimum'
        $run.Document.error.message | Should -BeLike '*version 1.2.2677.2 on this server, below extension.minimumVersion 1.2.2893.1*'
    }
}
