BeforeAll {
    . (Join-Path $PSScriptRoot 'HostScriptSupport.ps1')
    function Invoke-Restart([hashtable] $Extra = @{}) { Invoke-HostScriptFile IasRestart (@{ mode = 'restart'; healthCheckSeconds = 1 } + $Extra) }
}

Describe 'IasRestart.ps1' {
    BeforeEach { New-ArticleNpsHost }

    It 'Get reports IAS status and RADIUS listening without restarting' {
        $run = Invoke-HostScriptFile IasRestart @{ mode = 'get' }
        $run.Document.result.status | Should -Be 'Running'
        $run.Document.result.udp1812Listening | Should -BeTrue
        @((Get-LabState).services.IAS.history).Count | Should -Be 0
    }

    It 'restarts IAS once, checks health for the whole window, and returns timings' {
        $run = Invoke-Restart
        $run.ExitCode | Should -Be 0
        $history = @((Get-LabState).services.IAS.history)
        $history.Count | Should -Be 1
        $history[0].action | Should -Be 'restart'
        $run.Document.result.timings.healthCheckMilliseconds | Should -BeGreaterOrEqual 1000
    }

    It 'does not count AuthZ errors logged before the restart' {
        Update-LabState { param($s) $s.events = @(@{ logName = 'AuthZAdminCh'; id = 3; level = 2; providerName = 'AuthZ'; timeCreated = (Get-Date).AddHours(-1).ToUniversalTime().ToString('o'); message = 'ESTS_TOKEN_ERROR' }) }
        (Invoke-Restart).ExitCode | Should -Be 0
    }

    It 'fails the health check when IAS logs AuthZ errors after the restart' {
        Update-LabState { param($s) $s.services.IAS.faults = @{ authzErrorsAfterRestart = $true } }
        $run = Invoke-Restart
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'HealthCheckFailed'
        $run.Document.error.message | Should -Match 'ESTS_TOKEN_ERROR'
        @($run.Document.error.details.authzErrors).Count | Should -Be 1
    }

    It 'fails naming the restart when IAS does not start' {
        Update-LabState { param($s) $s.services.IAS.faults = @{ failsToStart = $true } }
        $run = Invoke-Restart
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'RestartFailed'
        $run.Document.error.details.status | Should -Be 'Stopped'
    }

    It 'removes superseded NPS certificates only after a healthy restart' {
        $old = New-LabCertificate -NotAfter (Get-Date).AddDays(20)
        $new = New-LabCertificate
        $foreign = New-LabCertificate -Subject 'CN=web01'
        Update-LabState { param($s) $s.certificates = @($old, $new, $foreign) }
        $retire = @{ retireCertificates = @{ subject = "CN=$TenantId, OU=Microsoft NPS Extension"; keepThumbprint = $new.thumbprint } }

        Update-LabState { param($s) $s.services.IAS.faults = @{ authzErrorsAfterRestart = $true } }
        (Invoke-Restart $retire).ExitCode | Should -Be 1
        @((Get-LabState).certificates).Count | Should -Be 3

        Update-LabState { param($s) $s.services.IAS.faults = @{}; $s.events = @() }
        $run = Invoke-Restart $retire
        $run.ExitCode | Should -Be 0
        @($run.Document.result.retired) | Should -Be @($old.thumbprint)
        @((Get-LabState).certificates.thumbprint) | Should -Be @($new.thumbprint, $foreign.thumbprint)
    }

    It 'an expired certificate of the extension''s subject makes the extension log a start-up error, failing the health check' {
        $expired = New-LabCertificate -NotBefore (Get-Date).AddDays(-800) -NotAfter (Get-Date).AddDays(-70)
        Update-LabState { param($s) $s.certificates = @($expired, (New-LabCertificate)) }
        $run = Invoke-Restart
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'HealthCheckFailed'
        $run.Document.error.message | Should -Match "certificate $($expired.thumbprint) .* expired"
    }

    It 'removes expired certificates of the subject before the restart, never a valid one nor another subject''s' {
        $expired = New-LabCertificate -NotBefore (Get-Date).AddDays(-800) -NotAfter (Get-Date).AddDays(-70)
        $superseded = New-LabCertificate -NotAfter (Get-Date).AddDays(20)
        $new = New-LabCertificate
        $foreign = New-LabCertificate -Subject 'CN=web01' -NotBefore (Get-Date).AddDays(-800) -NotAfter (Get-Date).AddDays(-70)
        Update-LabState { param($s) $s.certificates = @($expired, $superseded, $new, $foreign) }
        $retire = @{ retireCertificates = @{ subject = "CN=$TenantId, OU=Microsoft NPS Extension"; keepThumbprint = $new.thumbprint } }

        # An unhealthy restart: the expired one went before it, the valid superseded one stays.
        Update-LabState { param($s) $s.services.IAS.faults = @{ authzErrorsAfterRestart = $true } }
        (Invoke-Restart $retire).ExitCode | Should -Be 1
        @((Get-LabState).certificates.thumbprint) | Should -Be @($superseded.thumbprint, $new.thumbprint, $foreign.thumbprint)

        Update-LabState { param($s) $s.services.IAS.faults = @{}; $s.certificates = @($expired) + @($s.certificates); $s.events = @() }
        $run = Invoke-Restart $retire
        $run.ExitCode | Should -Be 0
        @($run.Document.result.retired) | Should -Be @($expired.thumbprint, $superseded.thumbprint)
        @((Get-LabState).certificates.thumbprint) | Should -Be @($new.thumbprint, $foreign.thumbprint)
    }

    It 'refuses to remove anything when the certificate to keep is not on the host' {
        $old = New-LabCertificate
        Update-LabState { param($s) $s.certificates = @($old) }
        $run = Invoke-Restart @{ retireCertificates = @{ subject = "CN=$TenantId, OU=Microsoft NPS Extension"; keepThumbprint = 'A' * 40 } }
        $run.Document.error.code | Should -Be 'SuccessorMissing'
        @((Get-LabState).certificates).Count | Should -Be 1
    }
}

Describe 'IasRestart.ps1: the record of what IAS loaded keeps the extension version' {
    BeforeEach { New-ArticleNpsHost }

    It 'a restart records the version; a later change of the DLL version leaves a restart pending' {
        $null = Invoke-Restart
        (Get-LabState).registry['HKLM:\SOFTWARE\npsmfa'].IasLoadedExtensionVersion | Should -Be ((Get-LabState).npsExtensionVersion)
        (Invoke-HostScriptFile IasRestart @{ mode = 'get' }).Document.result.restartPending | Should -BeFalse
        Update-LabState { param($s) $s.npsExtensionVersion = '1.2.3000.1' }
        (Invoke-HostScriptFile IasRestart @{ mode = 'get' }).Document.result.restartPending | Should -BeTrue
    }

    It 'a record written before versions were kept is not a pending restart' {
        $null = Invoke-Restart
        Update-LabState { param($s) $s.registry['HKLM:\SOFTWARE\npsmfa'].Remove('IasLoadedExtensionVersion'); $s.npsExtensionVersion = '1.2.3000.1' }
        (Invoke-HostScriptFile IasRestart @{ mode = 'get' }).Document.result.restartPending | Should -BeFalse
    }
}

Describe 'IasRestart.ps1 health check: the extension works' {
    BeforeEach {
        New-ArticleNpsHost
        Update-LabState { param($s) $s.certificates = @(New-LabCertificate) }
    }

    It 'fails naming the login endpoint when the token request cannot reach it (firewall, proxy, DNS)' {
        $run = Invoke-Restart @{ checkExtensionToken = $true }
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'HealthCheckFailed'
        $run.Document.error.message | Should -Match 'token request to https://login\.microsoftonline\.com/.+/oauth2/token failed: No such host is known'
    }

    It 'enables TLS 1.2 before its token request, which a fresh Windows PowerShell 5.1 session does not offer' {
        # The login host routed to a port where nothing listens: past the TLS check, the request fails to connect.
        $ca = Join-Path $TestDrive 'ca.pfx'
        [System.IO.File]::WriteAllBytes($ca, [Convert]::FromBase64String((New-LabCertificate).pfxBase64))
        Update-LabState { param($s) $s.network.loginRoute = @{ origin = 'https://127.0.0.1:9'; caFile = $ca; hosts = @('login.microsoftonline.com') } }
        $run = Invoke-Restart @{ checkExtensionToken = $true }
        $run.Document.error.message | Should -Match 'token request to https://login\.microsoftonline\.com/.+ failed'
        $run.Document.error.message | Should -Not -Match 'underlying connection was closed'
    }

    It 'fails when the extension has no certificate to sign with' {
        Update-LabState { param($s) $s.certificates = @() }
        $run = Invoke-Restart @{ checkExtensionToken = $true }
        $run.Document.error.message | Should -Match 'a valid NPS certificate is not in LocalMachine'
    }

    It 'fails when the extension DLLs are not registered with NPS' {
        Update-LabState { param($s) $s.registry['HKLM:\SYSTEM\CurrentControlSet\Services\AuthSrv\Parameters'].ExtensionDLLs = @() }
        $run = Invoke-Restart
        $run.Document.error.code | Should -Be 'HealthCheckFailed'
        $run.Document.error.message | Should -Match 'missing MfaNpsAuthnExt\.dll in ExtensionDLLs'
    }

    It 'counts Critical AuthZOptCh events after the restart as failures' {
        $run = Invoke-Restart @{ authzLogNames = @('AuthZAdminCh', 'AuthZOptCh') }
        $run.ExitCode | Should -Be 0
        $later = (Get-Date).AddMinutes(5).ToUniversalTime().ToString('o')
        Update-LabState { param($s) $s.events = @(@{ logName = 'AuthZOptCh'; id = 1; level = 1; providerName = 'AuthZ'; timeCreated = $later; message = 'certificate problem' }) }
        $run = Invoke-Restart @{ authzLogNames = @('AuthZAdminCh', 'AuthZOptCh') }
        $run.Document.error.message | Should -Match 'certificate problem'
    }
}
