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
        $stored[0].keyStorage | Should -Be 'capi'
        @($stored[0].keyAcl | Where-Object { $_.sid -eq 'S-1-5-20' -and $_.rights -eq 131209 }).Count | Should -Be 1
        # Client Authentication named in the certificate itself, as Learn asks of certificates the setup script did not make.
        $eku = @($certificate.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.37' })
        $eku.Count | Should -Be 1
        @($eku[0].EnhancedKeyUsages | ForEach-Object { $_.Value }) | Should -Be @('1.3.6.1.5.5.7.3.2')
    }

    It 'the shim gives New-SelfSignedCertificate''s default type no Client Authentication unless it is asked for' {
        Import-Module $ShimPath -Scope Local -Force
        $default = New-SelfSignedCertificate -Subject 'CN=default' -CertStoreLocation 'Cert:\LocalMachine\My'
        @(($default.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.37' }).EnhancedKeyUsages.Value) | Should -Be @('1.3.6.1.5.5.7.3.1')
        { New-SelfSignedCertificate -Subject 'CN=san' -CertStoreLocation 'Cert:\LocalMachine\My' -TextExtension '2.5.29.17={text}DNS=x' } | Should -Throw '*only the enhanced key usage*'
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

Describe 'NpsCertificate.ps1 with a certificate whose key a CNG key storage provider holds' {
    BeforeEach { New-ArticleNpsHost }

    It 'reads the key through GetRSAPrivateKey (PrivateKey throws on Windows PowerShell 5.1) and finds its ACL under Crypto\Keys' {
        $cng = New-LabCertificate -KeyStorage cng
        Update-LabState { param($s) $s.certificates = @($cng) }
        $run = Invoke-Certificate 'get'
        $run.ExitCode | Should -Be 0
        $run.Document.result.certificate.thumbprint | Should -Be $cng.thumbprint
        $run.Document.result.keyReadableByNetworkService | Should -BeTrue
        @($run.Document.result.drift).Count | Should -Be 0
    }

    It 'grants NETWORK SERVICE read on the CNG key file, not on a MachineKeys container' {
        $cng = New-LabCertificate -KeyStorage cng -NoNetworkServiceRead
        Update-LabState { param($s) $s.certificates = @($cng) }
        $run = Invoke-Certificate 'set'
        $run.ExitCode | Should -Be 0
        @($run.Document.result.changed) | Should -Be @("granted NETWORK SERVICE read on $($cng.thumbprint)")
        $stored = @((Get-LabState).certificates)
        $stored.Count | Should -Be 1
        @($stored[0].keyAcl | Where-Object { $_.sid -eq 'S-1-5-20' }).Count | Should -Be 1
    }
}

Describe 'NpsCertificate.ps1 reading private key ACLs as Windows stores them' {
    BeforeEach {
        New-ArticleNpsHost
        $script:Existing = New-LabCertificate -NoNetworkServiceRead
    }

    It 'counts <name> as read access and changes nothing' -ForEach @(
        @{ name = 'GENERIC_READ (a grant from the certificates console)'; sid = 'S-1-5-20'; rights = -2147483648 }
        @{ name = 'GENERIC_ALL'; sid = 'S-1-5-20'; rights = 268435456 }
        @{ name = 'FullControl'; sid = 'S-1-5-20'; rights = 2032127 }
        @{ name = 'ReadAndExecute, Synchronize'; sid = 'S-1-5-20'; rights = 1179817 }
        @{ name = 'Read for Authenticated Users'; sid = 'S-1-5-11'; rights = 131209 }
        @{ name = 'GENERIC_READ for Everyone'; sid = 'S-1-1-0'; rights = -2147483648 }
    ) {
        $Existing.keyAcl += @{ sid = $sid; rights = $rights; type = 'Allow' }
        $certificate = $Existing
        Update-LabState { param($s) $s.certificates = @($certificate) }
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-Certificate 'set'
        $run.ExitCode | Should -Be 0
        $run.Document.result.keyReadableByNetworkService | Should -BeTrue
        @($run.Document.result.changed).Count | Should -Be 0
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'does not count rights without every read bit, nor read denied to NETWORK SERVICE' -ForEach @(
        @{ allow = @(@{ sid = 'S-1-5-20'; rights = 1; type = 'Allow' }) }
        @{ allow = @(@{ sid = 'S-1-5-20'; rights = -2147483648; type = 'Allow' }, @{ sid = 'S-1-5-20'; rights = 1; type = 'Deny' }) }
        @{ allow = @(@{ sid = 'S-1-5-19'; rights = 2032127; type = 'Allow' }) }
    ) {
        $Existing.keyAcl += $allow
        $certificate = $Existing
        Update-LabState { param($s) $s.certificates = @($certificate) }
        (Invoke-Certificate 'get').Document.result.keyReadableByNetworkService | Should -BeFalse
    }
}

Describe 'NpsCertificate.ps1 on Windows Server 2012 R2' {
    BeforeEach {
        New-ArticleNpsHost
        Update-LabState { param($s) $s.registry['HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'] = @{ CurrentVersion = '6.3'; CurrentBuildNumber = '9600'; ProductName = 'Windows Server 2012 R2 Standard' } }
    }

    It 'refuses to create a certificate, naming the version found and the supported ones' {
        $run = Invoke-Certificate 'set'
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'UnsupportedWindowsVersion'
        $run.Document.error.message | Should -Match 'Windows Server 2012 R2 Standard, Windows 6\.3'
        $run.Document.error.message | Should -Match 'Windows Server 2016, 2019, 2022 and 2025'
        @((Get-LabState).certificates).Count | Should -Be 0
    }

    It 'still manages a certificate the administrator installed' {
        $existing = New-LabCertificate -NoNetworkServiceRead
        Update-LabState { param($s) $s.certificates = @($existing) }
        $run = Invoke-Certificate 'set'
        $run.ExitCode | Should -Be 0
        $run.Document.result.keyReadableByNetworkService | Should -BeTrue
    }
}
