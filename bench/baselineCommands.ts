// The settings our full read covers, one PowerShell command each, for the pywinrm baseline: what a
// playbook that checks setting by setting sends. An NPS server: the extension's registry values, its DLL
// registration, the certificate, its private key's ACL, the extension's version, IAS and our IAS record.
// A VPN server: the RADIUS timeout for each NPS server.
// Each fits on one command line (pywinrm's run_ps sends -EncodedCommand, under cmd.exe's 8191 characters).
import { cloudExtensionSettings } from "../config/clouds";

export function npsSettingCommands(tenantId: string): string[] {
  const registry = (key: string, name: string) =>
    `Get-ItemPropertyValue -Path '${key}' -Name '${name}' -ErrorAction SilentlyContinue`;
  const azureMfa = "HKLM:\\SOFTWARE\\Microsoft\\AzureMfa";
  const authSrv = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AuthSrv\\Parameters";
  const certificate = `@(Get-ChildItem -Path 'Cert:\\LocalMachine\\My' | Where-Object { $_.Subject -like 'CN=${tenantId}*' })[0]`;
  return [
    ...[...Object.keys(cloudExtensionSettings(tenantId, "public")), "CLIENT_CERT_IDENTIFIER"].map((name) =>
      registry(azureMfa, name),
    ),
    registry(authSrv, "AuthorizationDLLs"),
    registry(authSrv, "ExtensionDLLs"),
    `${certificate} | Select-Object Thumbprint, NotAfter | ConvertTo-Json`,
    // The key's file under Crypto\Keys (a CNG key, as New-SelfSignedCertificate makes) and its ACL.
    `$c = ${certificate}; $k = [Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($c); ` +
      `(Get-Acl -Path (Join-Path $env:ProgramData "Microsoft\\Crypto\\Keys\\$($k.Key.UniqueName)")).Access | ` +
      "Select-Object IdentityReference, FileSystemRights | ConvertTo-Json",
    `$p = @((Get-ItemProperty -Path '${authSrv}').AuthorizationDLLs) -like '*MfaNpsAuthzExt.dll'; ` +
      "(Get-Item -Path ([Environment]::ExpandEnvironmentVariables($p[0]))).VersionInfo.FileVersion",
    "(Get-Service -Name IAS).Status",
    "Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\npsmfa' -ErrorAction SilentlyContinue | ConvertTo-Json",
  ];
}

export function vpnSettingCommands(npsNames: string[]): string[] {
  return npsNames.map(
    // ServerName lives in the embedded ServerPurpose (RemoteAccessRadiusServerPurpose), as on Windows.
    (name) =>
      `Get-RemoteAccessRadius -Purpose Authentication | Where-Object { $_.ServerPurpose.ServerName -eq '${name}' } | Select-Object -ExpandProperty Timeout`,
  );
}
