BeforeAll { . (Join-Path $PSScriptRoot 'HostScriptSupport.ps1') }

Describe 'RadiusTimeout.ps1 on a VPN (RRAS) server' {
    BeforeEach { New-ArticleVpnHost }

    It 'Get names each NPS server whose timeout is short' {
        $run = Invoke-HostScriptFile RadiusTimeout @{ mode = 'get'; npsServers = @('nps01.lab.test', 'nps02.lab.test'); timeoutSeconds = 60 }
        $run.ExitCode | Should -Be 0
        @($run.Document.result.drift.name) | Should -Be @('rras:nps01.lab.test', 'rras:nps02.lab.test')
        @($run.Document.result.drift.found) | Should -Be @(5, 5)
        @((Get-LabState).remoteAccessRadius.timeout) | Should -Be @(5, 5)
    }

    It 'Set raises them, and a second Set changes nothing' {
        $data = @{ mode = 'set'; npsServers = @('nps01.lab.test', 'nps02.lab.test'); timeoutSeconds = 90 }
        @((Invoke-HostScriptFile RadiusTimeout $data).Document.result.changed).Count | Should -Be 2
        @((Get-LabState).remoteAccessRadius.timeout) | Should -Be @(90, 90)
        $second = Invoke-HostScriptFile RadiusTimeout $data
        @($second.Document.result.changed).Count | Should -Be 0
        @($second.Document.result.drift).Count | Should -Be 0
    }

    It 'leaves a longer timeout and servers it does not manage alone' {
        Update-LabState { param($s) $s.remoteAccessRadius[0].timeout = 120 }
        $run = Invoke-HostScriptFile RadiusTimeout @{ mode = 'set'; npsServers = @('nps01.lab.test'); timeoutSeconds = 60 }
        @($run.Document.result.changed).Count | Should -Be 0
        @((Get-LabState).remoteAccessRadius.timeout) | Should -Be @(120, 5)
    }

    It 'fails naming an NPS server RRAS does not know, and changes nothing' {
        $run = Invoke-HostScriptFile RadiusTimeout @{ mode = 'set'; npsServers = @('nps01.lab.test', 'nps09.lab.test'); timeoutSeconds = 60 }
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'RadiusServerMissing'
        $run.Document.error.message | Should -Match 'nps09.lab.test'
        @($run.Document.error.details.missing) | Should -Be @('nps09.lab.test')
        @((Get-LabState).remoteAccessRadius.timeout) | Should -Be @(5, 5)
    }
}

Describe 'RadiusTimeout.ps1 against RemoteAccessRadiusServer objects as Windows returns them' {
    It 'reads ServerName and Purpose from ServerPurpose under Set-StrictMode, leaving accounting entries alone' {
        New-ArticleVpnHost -NpsServers @('nps01.lab.test')
        Update-LabState { param($s) $s.remoteAccessRadius += @{ serverName = 'nps01.lab.test'; purpose = 'Accounting'; timeout = 5; score = 30; port = 1813 } }
        $run = Invoke-HostScriptFile RadiusTimeout @{ mode = 'set'; npsServers = @('nps01.lab.test'); timeoutSeconds = 60 }
        $run.ExitCode | Should -Be 0
        @($run.Document.result.rrasServers.serverName) | Should -Be @('nps01.lab.test')
        @($run.Document.result.changed) | Should -Be @('rras:nps01.lab.test')
        @((Get-LabState).remoteAccessRadius | ForEach-Object { "$($_.purpose)=$($_.timeout)" }) | Should -Be @('Authentication=60', 'Accounting=5')
    }

    It 'fails with RemoteAccessNotInstalled on a host without the Remote Access role' {
        New-ArticleNpsHost
        $run = Invoke-HostScriptFile RadiusTimeout @{ mode = 'get'; npsServers = @('nps01.lab.test'); timeoutSeconds = 60 }
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'RemoteAccessNotInstalled'
        $run.Document.error.message | Should -Match 'Remote Access role'
    }
}

Describe 'The shim''s RemoteAccess cmdlets' {
    BeforeEach { New-ArticleVpnHost -NpsServers @('nps01.lab.test') }

    It 'return the documented shape: ServerName and Purpose only inside ServerPurpose' {
        Import-Module $ShimPath -Scope Local -Force
        $server = @(Get-RemoteAccessRadius)[0]
        $server.ServerPurpose.ServerName | Should -Be 'nps01.lab.test'
        $server.ServerPurpose.Purpose | Should -Be 'Authentication'
        $server.PSObject.Properties['ServerName'] | Should -BeNullOrEmpty
        $server.PSObject.TypeNames[0] | Should -BeLike '*#root/Microsoft/Windows/RemoteAccess/RemoteAccessRadiusServer'
    }

    It 'refuse a purpose the cmdlet does not know' {
        Import-Module $ShimPath -Scope Local -Force
        { Set-RemoteAccessRadius -ServerName nps01.lab.test -Purpose Authenticate -Timeout 60 } | Should -Throw '*Authenticate*'
        { Get-RemoteAccessRadius -Purpose Vpn } | Should -Throw '*Vpn*'
    }
}

Describe 'RadiusTimeout.ps1 on an NPS server forwarding to a remote RADIUS server group' {
    BeforeEach {
        New-ArticleNpsHost
        Update-LabState { param($s) $s.remoteRadiusServerGroups = @(@{ name = 'MFA NPS'; servers = @(@{ address = '10.0.0.7'; timeout = 5 }, @{ address = '10.0.0.8'; timeout = 90; blackout = 120 }) }) }
        Update-LabState { param($s) $s.services.IAS.loaded = @{ startedAt = '2026-01-01T00:00:00.000Z'; settings = @{}; certificates = @(); remoteRadiusServerGroups = $s.remoteRadiusServerGroups } }
        $script:ProxyGet = @{ mode = 'get'; npsServers = @(); timeoutSeconds = 60; remoteServerGroups = $true }
        $script:ProxySet = @{ mode = 'set'; npsServers = @(); timeoutSeconds = 60; remoteServerGroups = $true }
    }

    It 'Get names each short timeout and each blackout shorter than its server''s timeout' {
        $get = Invoke-HostScriptFile RadiusTimeout $ProxyGet
        @($get.Document.result.drift.name) | Should -Be @('nps-group:MFA NPS/10.0.0.7', 'nps-group:MFA NPS/10.0.0.7 blackout')
        @($get.Document.result.drift.expected) | Should -Be @(60, 60)
        # The console's default blackout (30 s) where none was seeded.
        @($get.Document.result.drift.found) | Should -Be @(5, 30)
        @($get.Document.result.remoteServers.blackout) | Should -Be @(30, 120)
    }

    It 'Set raises them, resets IAS so its forwarding changes, and a second Set changes nothing' {
        $set = Invoke-HostScriptFile RadiusTimeout $ProxySet
        $set.ExitCode | Should -Be 0
        @((Get-LabState).remoteRadiusServerGroups[0].servers | ForEach-Object { "$($_.timeout)/$($_.blackout)" }) | Should -Be @('60/60', '90/120')
        $set.Document.result.reset | Should -BeTrue
        $loaded = (Get-LabState).services.IAS.loaded
        @($loaded.remoteRadiusServerGroups[0].servers.timeout) | Should -Be @(60, 90)
        $loaded.resetAt | Should -Not -BeNullOrEmpty
        $second = (Invoke-HostScriptFile RadiusTimeout $ProxySet).Document.result
        @($second.changed).Count | Should -Be 0
        $second.reset | Should -BeFalse
        $second.resetPending | Should -BeFalse
    }

    It 'a timeout applied without a reset (the SDO alone) is a pending reset, which Set performs' {
        # What the tool did before it reset: the configuration says 60 s, the running IAS still forwards with 5 s.
        Update-LabState { param($s) $s.remoteRadiusServerGroups[0].servers[0].timeout = 60; $s.remoteRadiusServerGroups[0].servers[0].blackout = 60 }
        $get = (Invoke-HostScriptFile RadiusTimeout $ProxyGet).Document.result
        @($get.drift).Count | Should -Be 0
        $get.resetPending | Should -BeTrue
        (Get-LabState).services.IAS.loaded.remoteRadiusServerGroups[0].servers[0].timeout | Should -Be 5
        $set = (Invoke-HostScriptFile RadiusTimeout $ProxySet).Document.result
        @($set.changed).Count | Should -Be 0
        $set.reset | Should -BeTrue
        (Get-LabState).services.IAS.loaded.remoteRadiusServerGroups[0].servers[0].timeout | Should -Be 60
        (Invoke-HostScriptFile RadiusTimeout $ProxyGet).Document.result.resetPending | Should -BeFalse
    }

    It 'a stopped IAS is not reset (it reads the configuration when it starts) and the change is recorded' {
        Update-LabState { param($s) $s.services.IAS.status = 'Stopped' }
        $set = Invoke-HostScriptFile RadiusTimeout $ProxySet
        $set.ExitCode | Should -Be 0
        $set.Document.result.reset | Should -BeFalse
        (Invoke-HostScriptFile RadiusTimeout $ProxyGet).Document.result.resetPending | Should -BeFalse
    }

    It 'reads groups through NPS''s SDO API, not netsh output' {
        Import-Module $ShimPath -Scope Local -Force
        Get-Command netsh -Module WindowsShim -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $machine = New-Object -ComObject IAS.SdoMachine
        $machine.Attach($null)
        $group = @($machine.GetServiceSDO(0, 'IAS').GetProperty(0x400))[0]
        $group.GetProperty(2) | Should -Be 'MFA NPS'
        @($group.GetProperty(0x400) | ForEach-Object { $_.GetProperty(0x404) }) | Should -Be @('10.0.0.7', '10.0.0.8')
        { $group.GetProperty(0x401) } | Should -Throw '*E_INVALIDARG*'
    }

    It 'refuses to reset a stopped IAS, so no script relies on that' {
        Update-LabState { param($s) $s.services.IAS.status = 'Stopped' }
        Import-Module $ShimPath -Scope Local -Force
        $machine = New-Object -ComObject IAS.SdoMachine
        $machine.Attach($null)
        { $machine.GetServiceSDO(0, 'IAS').ResetService() } | Should -Throw '*not running*'
    }

    It 'fails with NpsNotInstalled on a host without Network Policy Server' {
        New-ArticleVpnHost
        $run = Invoke-HostScriptFile RadiusTimeout @{ mode = 'get'; npsServers = @(); timeoutSeconds = 60; remoteServerGroups = $true }
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'NpsNotInstalled'
    }
}
