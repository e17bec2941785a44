BeforeAll {
    . (Join-Path $PSScriptRoot 'HostScriptSupport.ps1')
    $script:Subject = "CN=$TenantId, OU=Microsoft NPS Extension"
    function Invoke-Certificate([string] $Mode, [hashtable] $Extra = @{}) {
        Invoke-HostScriptFile NpsCertificate (@{ mode = $Mode; tenantId = $TenantId; renewalDays = 60 } + $Extra)
    }
}

Describe 'NpsCertificate.ps1' {
    BeforeEach { New-ArticleNpsHost }

    It 'Get reports the missing certificate and changes nothing' {
        $run = Invoke-Certificate 'get'
        $run.ExitCode | Should -Be 0
        $run.Document.result.certificate | Should -BeNullOrEmpty
        @($run.Document.result.drift.name) | Should -Be @('certificate')
        @((Get-LabState).certificates).Count | Should -Be 0
    }

    It 'Set creates a real two-year X.509 certificate NETWORK SERVICE can read, and returns its public part' {
        $run = Invoke-Certificate 'set'
        $run.ExitCode | Should -Be 0
        $public = $run.Document.result.certificate
        $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new([Convert]::FromBase64String($public.derBase64))
        $certificate.Subject | Should -Be $Subject
        $certificate.Thumbprint | Should -Be $public.thumbprint
        ($certificate.NotAfter - $certificate.NotBefore).TotalDays | Should -BeGreaterThan 729
        $run.Document.result.keyReadableByNetworkService | Should -BeTrue
        $stored = @((Get-LabState).certificates)
        $stored.Count | Should -Be 1
        @($stored[0].keyAcl | Where-Object { $_.sid -eq 'S-1-5-20' -and $_.rights -eq 'Read' }).Count | Should -Be 1
    }

    It 'a second Set keeps the certificate and changes nothing' {
        $first = Invoke-Certificate 'set'
        $afterFirst = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $second = Invoke-Certificate 'set'
        $second.Document.result.certificate.thumbprint | Should -Be $first.Document.result.certificate.thumbprint
        @($second.Document.result.changed).Count | Should -Be 0
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $afterFirst
    }

    It 'renews a certificate inside the renewal window and keeps the old one for later removal' {
        $old = New-LabCertificate -NotBefore (Get-Date).AddDays(-700) -NotAfter (Get-Date).AddDays(30)
        Update-LabState { param($s) $s.certificates = @($old) }
        (Invoke-Certificate 'get').Document.result.drift[0].found | Should -Match $old.thumbprint
        $run = Invoke-Certificate 'set'
        $run.Document.result.certificate.thumbprint | Should -Not -Be $old.thumbprint
        @((Get-LabState).certificates.thumbprint) | Should -Contain $old.thumbprint
        @((Get-LabState).certificates).Count | Should -Be 2
    }

    It 'grants NETWORK SERVICE read on an existing certificate instead of making a new one' {
        $existing = New-LabCertificate -NoNetworkServiceRead
        Update-LabState { param($s) $s.certificates = @($existing) }
        @((Invoke-Certificate 'get').Document.result.drift.name) | Should -Be @('privateKeyAcl')
        $run = Invoke-Certificate 'set'
        $run.Document.result.certificate.thumbprint | Should -Be $existing.thumbprint
        @($run.Document.result.changed) | Should -Be @("granted NETWORK SERVICE read on $($existing.thumbprint)")
        @((Get-LabState).certificates).Count | Should -Be 1
    }

    It 'keeps reporting the preferred certificate while it is usable' {
        $older = New-LabCertificate -NotAfter (Get-Date).AddDays(400)
        $newer = New-LabCertificate -NotAfter (Get-Date).AddDays(700)
        Update-LabState { param($s) $s.certificates = @($older, $newer) }
        (Invoke-Certificate 'get').Document.result.certificate.thumbprint | Should -Be $newer.thumbprint
        (Invoke-Certificate 'get' @{ preferredThumbprint = $older.thumbprint }).Document.result.certificate.thumbprint | Should -Be $older.thumbprint
    }

    It 'ignores certificates of another subject' {
        $other = New-LabCertificate -Subject 'CN=someone-else'
        Update-LabState { param($s) $s.certificates = @($other) }
        Invoke-Certificate 'get' | ForEach-Object { $_.Document.result.certificate } | Should -BeNullOrEmpty
    }

    It 'refuses a tenant ID that is not a GUID, with a structured error' {
        $run = Invoke-HostScriptFile NpsCertificate @{ mode = 'set'; tenantId = 'x"; Remove-Item *'; renewalDays = 60 }
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'InvalidInput'
        $run.Document.error.step | Should -Be 'read input'
        @((Get-LabState).certificates).Count | Should -Be 0
    }
}
