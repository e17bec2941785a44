BeforeAll { . (Join-Path $PSScriptRoot 'HostScriptSupport.ps1') }

Describe 'WindowsShim' {
    BeforeEach { New-ArticleNpsHost }

    It 'writes state through a temporary file and leaves none behind' {
        Import-Module $ShimPath -Scope Local -Force
        1..5 | ForEach-Object { Set-ItemProperty -Path $AzureMfaKey -Name "V$_" -Value "$_" }
        @(Get-ChildItem -Path $TestDrive -Filter '*.tmp').Count | Should -Be 0
        (Get-LabState).registry[$AzureMfaKey].V5 | Should -Be '5'
    }

    It 'keeps every write when several commands update one host at once' {
        $jobs = 1..3 | ForEach-Object {
            $n = $_
            Start-ThreadJob -ScriptBlock {
                Import-Module $using:ShimPath
                $env:NPSMFA_HOST_STATE = $using:env:NPSMFA_HOST_STATE
                1..5 | ForEach-Object { New-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\AzureMfa' -Name "J$($using:n)-$_" -Value 'x' -PropertyType String | Out-Null }
            }
        }
        $null = $jobs | Wait-Job -Timeout 60 | Receive-Job
        @((Get-LabState).registry[$AzureMfaKey].Keys | Where-Object { $_ -like 'J*' }).Count | Should -Be 15
    }

    It 'honours the caller''s ErrorActionPreference like a compiled cmdlet' {
        Import-Module $ShimPath -Scope Local -Force
        $ErrorActionPreference = 'Stop'
        { Get-ItemProperty -Path 'HKLM:\SOFTWARE\Nowhere' } | Should -Throw '*does not exist*'
        Get-ItemProperty -Path 'HKLM:\SOFTWARE\Nowhere' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'passes paths outside the emulated drives to the real cmdlets' {
        Import-Module $ShimPath -Scope Local -Force
        Test-Path -Path $env:NPSMFA_HOST_STATE | Should -BeTrue
        (Get-ChildItem -Path $TestDrive -Filter '*.json').Count | Should -Be 1
    }

    It 'answers Test-NetConnection from the seeded reachability' {
        Update-LabState { param($s) $s.network = @{ tcpReachable = @{ 'login.microsoftonline.com:443' = $true } } }
        Import-Module $ShimPath -Scope Local -Force
        Test-NetConnection -ComputerName login.microsoftonline.com -Port 443 -InformationLevel Quiet | Should -BeTrue
        (Test-NetConnection -ComputerName adnotifications.windowsazure.com -Port 443).TcpTestSucceeded | Should -BeFalse
    }

    It 'refuses an HTTPS request to the login host unless the session or the host''s .NET Framework offers TLS 1.2' {
        $ca = Join-Path $TestDrive 'ca.pfx'
        [System.IO.File]::WriteAllBytes($ca, [Convert]::FromBase64String((New-LabCertificate).pfxBase64))
        Update-LabState { param($s) $s.network.loginRoute = @{ origin = 'https://127.0.0.1:9'; caFile = $ca; hosts = @('login.microsoftonline.com') } }
        $request = { Invoke-WebRequest -Uri 'https://login.microsoftonline.com/x/oauth2/token' -Method Post -Body @{ a = 'b' } -UseBasicParsing }
        Import-Module $ShimPath -Scope Local -Force
        $request | Should -Throw '*underlying connection was closed*'
        Update-LabState { param($s) $s.registry['HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319'] = @{ SchUseStrongCrypto = 1 } }
        { try { & $request } catch { if ($_.Exception.Message -match 'underlying connection') { throw } } } | Should -Not -Throw
        Update-LabState { param($s) $s.registry.Remove('HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319') }
        $request | Should -Throw '*underlying connection was closed*'
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        { try { & $request } catch { if ($_.Exception.Message -match 'underlying connection') { throw } } } | Should -Not -Throw
        # A new session (the next import) starts without it again.
        Import-Module $ShimPath -Scope Local -Force
        $request | Should -Throw '*underlying connection was closed*'
    }
}

Describe 'WindowsShim: the extension''s installation' {
    BeforeAll {
        $script:UninstallKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
        $script:ProductName = 'NPS Extension For Azure MFA'
        # A lab installer as lab/extensionInstaller.ts writes one: the marker line, then the manifest.
        function Install-Lab {
            param([string] $File, [string[]] $Switches = @('/install', '/quiet', '/norestart'))
            $log = Join-Path $env:ProgramData 'install.log'
            (Start-Process -FilePath $File -ArgumentList (@($Switches) + @('/log', $log)) -Wait -PassThru -NoNewWindow).ExitCode
        }
        function Uninstall-Lab {
            param([string] $Code, [string[]] $Switches = @('/quiet', '/norestart'))
            $log = Join-Path $env:ProgramData 'uninstall.log'
            (Start-Process -FilePath 'msiexec.exe' -ArgumentList (@('/x', $Code) + @($Switches) + @('/l*v', $log)) -Wait -PassThru -NoNewWindow).ExitCode
        }
    }

    BeforeEach {
        New-ArticleNpsHost
        # The article host has the files and registration but no product record: start from a host without the extension.
        Update-LabState { param($s) $s.Remove('npsExtensionVersion'); $s.registry[$AuthSrvKey] = @{} }
        $env:ProgramData = Join-Path $TestDrive 'ProgramData'
        New-Item -ItemType Directory -Path $env:ProgramData -Force | Out-Null
        Import-Module $ShimPath -Scope Local -Force
        $script:Old = New-LabInstallerFile -Version '1.2.2677.2' -ProductCode '{11111111-2222-5333-8444-555555555555}'
        $script:New = New-LabInstallerFile -Version '1.2.2893.1' -ProductCode '{AAAAAAAA-BBBB-5CCC-8DDD-EEEEEEEEEEEE}'
    }

    It 'installs silently: files, AuthSrv registration and an uninstall entry, while IAS keeps what it loaded' {
        Restart-Service -Name IAS
        (Get-LabState).services.IAS.loaded.extensionVersion | Should -BeNullOrEmpty
        Install-Lab $Old | Should -Be 0
        $state = Get-LabState
        $state.npsExtensionVersion | Should -Be '1.2.2677.2'
        $state.registry[$AuthSrvKey].AuthorizationDLLs | Should -Be @('%ProgramFiles%\Microsoft\AzureMfa\Extensions\MfaNpsAuthzExt.dll')
        $state.services.IAS.loaded.extensionVersion | Should -BeNullOrEmpty
        $entry = @(Get-ItemProperty -Path "$UninstallKey\*" | Where-Object { $_.DisplayName -eq $ProductName })
        $entry.Count | Should -Be 1
        $entry[0].PSChildName | Should -Be '{11111111-2222-5333-8444-555555555555}'
        $entry[0].DisplayVersion | Should -Be '1.2.2677.2'
        $entry[0].WindowsInstaller | Should -Be 1
        $entry[0].UninstallString | Should -Be 'MsiExec.exe /X{11111111-2222-5333-8444-555555555555}'
        Test-Path -Path $AzureMfaKey | Should -BeTrue
        Get-Content -LiteralPath (Join-Path $env:ProgramData 'install.log') -Raw | Should -Match 'Installation completed successfully'
        Restart-Service -Name IAS
        (Get-LabState).services.IAS.loaded.extensionVersion | Should -Be '1.2.2677.2'
    }

    It 'refuses an install over any installed version (1638) and one without /quiet or /passive (1602), changing nothing' {
        Install-Lab $Old | Should -Be 0
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        Install-Lab $New | Should -Be 1638
        Install-Lab $Old | Should -Be 1638
        Install-Lab $New -Switches @('/install', '/norestart') | Should -Be 1602
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'fails with the host''s seeded exit code until the fault is cleared' {
        Update-LabState { param($s) $s.faults = @{ extensionInstallExitCode = 1603 } }
        Install-Lab $New | Should -Be 1603
        (Get-LabState).ContainsKey('npsExtensionVersion') | Should -BeFalse
        Update-LabState { param($s) $s.faults = @{} }
        Install-Lab $New | Should -Be 0
    }

    It 'uninstalls with msiexec /x: entry, registration, files and the whole AzureMfa key; an unknown code is 1605' {
        Install-Lab $Old | Should -Be 0
        Update-LabState { param($s) $s.registry[$AuthSrvKey].AuthorizationDLLs = @('C:\Other\Authz.dll') + @($s.registry[$AuthSrvKey].AuthorizationDLLs) }
        Uninstall-Lab '{11111111-2222-5333-8444-555555555555}' -Switches @('/norestart') | Should -Be 1602
        Uninstall-Lab '{AAAAAAAA-BBBB-5CCC-8DDD-EEEEEEEEEEEE}' | Should -Be 1605
        Uninstall-Lab '{11111111-2222-5333-8444-555555555555}' | Should -Be 0
        $state = Get-LabState
        $state.ContainsKey('npsExtensionVersion') | Should -BeFalse
        $state.registry[$AuthSrvKey].AuthorizationDLLs | Should -Be @('C:\Other\Authz.dll')
        $state.registry[$AuthSrvKey].ContainsKey('ExtensionDLLs') | Should -BeFalse
        Test-Path -Path $AzureMfaKey | Should -BeFalse
        @(Get-ItemProperty -Path "$UninstallKey\*").Count | Should -Be 0
        Get-Content -LiteralPath (Join-Path $env:ProgramData 'uninstall.log') -Raw | Should -Match 'Removal completed successfully'
        Install-Lab $New | Should -Be 0
    }

    It 'answers 1622 when the log''s folder does not exist, and fails as Windows for a file it cannot run' {
        (Start-Process -FilePath $New -ArgumentList '/install', '/quiet', '/log', (Join-Path $TestDrive 'nowhere/x.log') -Wait -PassThru -NoNewWindow).ExitCode | Should -Be 1622
        (Get-LabState).ContainsKey('npsExtensionVersion') | Should -BeFalse
        $text = Join-Path $env:ProgramData 'readme.exe'
        Set-Content -LiteralPath $text -Value 'not a program'
        { Start-Process -FilePath $text -ArgumentList '/install' -Wait -PassThru -NoNewWindow } | Should -Throw '*not a valid Win32 application*'
        { Start-Process -FilePath (Join-Path $env:ProgramData 'missing.exe') -Wait -PassThru -NoNewWindow } | Should -Throw '*cannot find the file specified*'
    }

    It 'lists uninstall entries through a wildcard only: a literal path is not expanded, a missing parent is not found' {
        Install-Lab $Old | Should -Be 0
        @(Get-ItemProperty -LiteralPath "$UninstallKey\*" -ErrorAction SilentlyContinue).Count | Should -Be 0
        { Get-ItemProperty -Path 'HKLM:\SOFTWARE\Nowhere\*' -ErrorAction Stop } | Should -Throw '*does not exist*'
        (Get-ItemProperty -Path "$UninstallKey\{11111111-2222-5333-8444-555555555555}").PSChildName | Should -Be '{11111111-2222-5333-8444-555555555555}'
    }

    It 'copies from a share the host knows, and finds no file on one it does not' {
        $shareDir = Split-Path -Parent $New
        Update-LabState { param($s) $s.network = @{ shares = @{ '\\files.lab.example\npsmfa' = $shareDir } } }
        $dir = Join-Path $env:ProgramData 'npsmfa\installers'
        New-Item -ItemType Directory -Path $dir -Force | Out-Null
        $file = Join-Path $dir 'NpsExtnForAzureMfaInstaller.exe'
        $unc = '\\files.lab.example\npsmfa\' + (Split-Path -Leaf $New)
        Test-Path -LiteralPath $unc | Should -BeTrue
        Copy-Item -LiteralPath $unc -Destination $file -Force
        (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash | Should -Be (Get-FileHash -LiteralPath $New -Algorithm SHA256).Hash
        Test-Path -LiteralPath '\\files.lab.example\other\x.exe' | Should -BeFalse
        { Copy-Item -LiteralPath '\\files.lab.example\other\x.exe' -Destination $file -Force -ErrorAction Stop } | Should -Throw "Cannot find path '\\files.lab.example\other\x.exe' because it does not exist."
        { Copy-Item -LiteralPath '\\files.lab.example\npsmfa\..\x.exe' -Destination $file -Force -ErrorAction Stop } | Should -Throw '*does not exist*'
    }
}
