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
