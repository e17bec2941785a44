# Get/Test/Set of an NPS server's Entra MFA certificate in Cert:\LocalMachine\My: subject
# "CN=<tenantId>, OU=Microsoft NPS Extension", a private key NETWORK SERVICE can read, valid beyond the
# renewal window. Set makes a new certificate valid for two years (Learn, howto-mfa-nps-extension: the setup
# script's certificates are), for Client Authentication, which Learn asks of a certificate the setup script did
# not make; it never removes one (superseded and expired certificates go in IasRestart.ps1).
# Input:  { mode: "get" | "set", tenantId, renewalDays, preferredThumbprint? }
# Result: { certificate: { derBase64, thumbprint, notBefore, notAfter } | null, keyReadableByNetworkService,
#           certificates: [...], drift: [{ name, expected, found }], changed: [..] }

$ValidityYears = 2
# Client Authentication, named explicitly: Learn (howto-mfa-nps-extension) asks certificates not made by the setup
# script to "include the Client Authentication purpose"; what New-SelfSignedCertificate's default type adds is not
# documented. Syntax and OID: the cmdlet reference's -TextExtension (docset/winserver2022-ps/pki/New-SelfSignedCertificate.md).
$ClientAuthenticationExtension = '2.5.29.37={text}1.3.6.1.5.5.7.3.2'

function Get-NpsSubject {
    param([string] $TenantId)
    "CN=$TenantId, OU=Microsoft NPS Extension"
}

function Grant-NetworkServiceRead {
    param($Certificate)
    $keyFile = Get-PrivateKeyFile $Certificate
    if ($null -eq $keyFile) { Stop-HostScript -Code 'PrivateKeyMissing' -Message "certificate $($Certificate.Thumbprint) has no private key on this host" }
    $acl = Get-Acl -Path $keyFile
    $sid = New-Object System.Security.Principal.SecurityIdentifier $NetworkServiceSid
    $rule = New-Object System.Security.AccessControl.FileSystemAccessRule -ArgumentList $sid, 'Read', 'Allow'
    $acl.AddAccessRule($rule)
    Set-Acl -Path $keyFile -AclObject $acl
}

# New-SelfSignedCertificate takes -Subject, -NotAfter, -Provider... from Windows Server 2016 on; Windows Server
# 2012 R2's has only -DnsName, -CloneCert and -CertStoreLocation (MicrosoftDocs/windows-powershell-docs,
# winserver2012r2-ps/pki/New-SelfSignedCertificate.md). Such a host gets a clear refusal, not a binding error.
function Assert-SelfSignedCertificateSupported {
    $key = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    if (-not (Test-Path -Path $key)) { return }
    $version = Get-ItemProperty -Path $key
    if ($null -ne $version.PSObject.Properties['CurrentMajorVersionNumber']) { return }
    $property = $version.PSObject.Properties['CurrentVersion']
    if ($null -eq $property) { return }
    $found = [string]$property.Value
    if ($found -notmatch '^\d+\.\d+$' -or [version]$found -ge [version]'10.0') { return }
    $product = ''
    if ($null -ne $version.PSObject.Properties['ProductName']) { $product = "$($version.ProductName), " }
    Stop-HostScript -Code 'UnsupportedWindowsVersion' -Message ("cannot create the NPS certificate on $($product)Windows $found" +
        ': New-SelfSignedCertificate there has no -Subject. Supported for creating it: Windows Server 2016, 2019, 2022 and 2025. ' +
        'On this host, install a certificate "CN=<tenant ID>, OU=Microsoft NPS Extension" yourself, then apply again.') -Details @{ windowsVersion = $found }
}

function ConvertTo-PublicPart {
    param($Certificate)
    @{
        derBase64 = [System.Convert]::ToBase64String($Certificate.RawData)
        thumbprint = $Certificate.Thumbprint.ToUpperInvariant()
        notBefore = ConvertTo-IsoTime $Certificate.NotBefore
        notAfter = ConvertTo-IsoTime $Certificate.NotAfter
    }
}

# The certificate the extension should use: the preferred one while usable, else the one that lasts longest.
function Select-NpsCertificate {
    param([object[]] $Candidates, [datetime] $RenewBy, [string] $PreferredThumbprint)
    $now = Get-Date
    $usable = @($Candidates | Where-Object { $_.HasPrivateKey -and $_.NotBefore -le $now -and $_.NotAfter -gt $RenewBy })
    $preferred = @($usable | Where-Object { $_.Thumbprint -eq $PreferredThumbprint })
    if ($preferred.Count -gt 0) { return $preferred[0] }
    $usable | Sort-Object -Property NotAfter -Descending | Select-Object -First 1
}

function Invoke-NpsCertificate {
    param($Data)
    Set-Step 'read input'
    $mode = Get-InputValue $Data 'mode' 'get'
    $tenantId = [string](Get-InputValue $Data 'tenantId')
    if ($tenantId -notmatch '^[0-9a-fA-F-]{36}$') { Stop-HostScript -Code 'InvalidInput' -Message 'tenantId must be a GUID' }
    $renewalDays = [int](Get-InputValue $Data 'renewalDays' 60)
    $preferredThumbprint = [string](Get-InputValue $Data 'preferredThumbprint' '')
    $subject = Get-NpsSubject $tenantId
    $renewBy = (Get-Date).AddDays($renewalDays)

    Set-Step 'list certificates in Cert:\LocalMachine\My'
    $candidates = @(Get-ChildItem -Path 'Cert:\LocalMachine\My' | Where-Object { $_.Subject -eq $subject })
    $current = Select-NpsCertificate -Candidates $candidates -RenewBy $renewBy -PreferredThumbprint $preferredThumbprint
    Set-Step 'read the private key ACL'
    $readable = $false
    if ($null -ne $current) { $readable = Test-NetworkServiceCanRead $current }
    $changed = @()

    if ($mode -eq 'set' -and $null -eq $current) {
        Set-Step 'check the Windows version'
        Assert-SelfSignedCertificateSupported
        Set-Step 'create a certificate'
        # A CAPI key (a CSP, not the default key storage provider): our choice, so tools that still read
        # X509Certificate2.PrivateKey on .NET Framework can use it; HostFacts.ps1 reads either kind.
        $current = New-SelfSignedCertificate -Subject $subject -CertStoreLocation 'Cert:\LocalMachine\My' `
            -NotAfter (Get-Date).AddYears($ValidityYears) -KeyLength 2048 -KeySpec KeyExchange `
            -Provider 'Microsoft Enhanced RSA and AES Cryptographic Provider' -KeyExportPolicy NonExportable `
            -Type Custom -TextExtension @($ClientAuthenticationExtension) -KeyUsage DigitalSignature, KeyEncipherment
        $changed += "created certificate $($current.Thumbprint)"
        $readable = Test-NetworkServiceCanRead $current
    }
    if ($mode -eq 'set' -and -not $readable) {
        Set-Step 'grant NETWORK SERVICE read on the private key'
        Grant-NetworkServiceRead $current
        $readable = Test-NetworkServiceCanRead $current
        if (-not $readable) { Stop-HostScript -Code 'AclNotApplied' -Message "NETWORK SERVICE still cannot read the private key of $($current.Thumbprint)" }
        $changed += "granted NETWORK SERVICE read on $($current.Thumbprint)"
    }

    $drift = @()
    if ($null -eq $current) {
        $found = 'none'
        $latest = @($candidates | Sort-Object -Property NotAfter -Descending)
        if ($latest.Count -gt 0) { $found = "$($latest[0].Thumbprint) valid until $(ConvertTo-IsoTime $latest[0].NotAfter)" }
        $drift += @{ name = 'certificate'; expected = "$subject valid beyond $(ConvertTo-IsoTime $renewBy) with its private key"; found = $found }
    } elseif (-not $readable) {
        $drift += @{ name = 'privateKeyAcl'; expected = 'NETWORK SERVICE can read the private key'; found = "no read access on $($current.Thumbprint)" }
    }

    $publicPart = $null
    if ($null -ne $current) { $publicPart = ConvertTo-PublicPart $current }
    @{
        subject = $subject
        certificate = $publicPart
        keyReadableByNetworkService = $readable
        certificates = @($candidates | ForEach-Object { @{ thumbprint = $_.Thumbprint; notAfter = ConvertTo-IsoTime $_.NotAfter } })
        drift = $drift
        changed = $changed
    }
}

Invoke-HostScript -Name 'NpsCertificate' -Main { param($Data) Invoke-NpsCertificate $Data }
exit $script:HostScriptExitCode
