BeforeAll { . (Join-Path $PSScriptRoot 'HostScriptSupport.ps1') }

Describe 'NpsExtensionSettings.ps1' {
    BeforeEach { New-ArticleNpsHost }

    It 'Get names every missing setting and changes nothing' {
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'get'; settings = (Get-CompleteSettings) }
        $run.ExitCode | Should -Be 0
        $run.Lines | Should -Be 1
        $result = $run.Document.result
        $result.installed | Should -BeTrue
        @($result.drift.name) | Should -Be @('AZURE_MFA_HOSTNAME', 'AZURE_MFA_RESOURCE_HOSTNAME', 'AZURE_MFA_TARGET_PATH', 'CLIENT_CERT_IDENTIFIER', 'CLIENT_ID', 'STS_URL')
        ($result.drift | Where-Object name -EQ 'CLIENT_ID').found | Should -BeNullOrEmpty
        $result.values.TENANT_ID | Should -Be $TenantId
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'Set writes the missing values, read back shows no drift, and a second Set changes nothing' {
        $settings = Get-CompleteSettings
        $first = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = $settings }
        $first.ExitCode | Should -Be 0
        @($first.Document.result.changed).Count | Should -Be 6
        @($first.Document.result.createdDefaults) | Should -Be @('IP_WHITELIST')
        @($first.Document.result.drift).Count | Should -Be 0
        (Get-LabState).registry[$AzureMfaKey].CLIENT_CERT_IDENTIFIER | Should -Be $settings.CLIENT_CERT_IDENTIFIER
        $afterFirst = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)

        $second = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = $settings }
        @($second.Document.result.changed).Count | Should -Be 0
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $afterFirst
    }

    It 'Set corrects a drifted value and leaves values it does not manage alone' {
        Update-LabState { param($s) $s.registry[$AzureMfaKey].STS_URL = 'https://wrong.example/'; $s.registry[$AzureMfaKey].CUSTOM = 'kept' }
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ STS_URL = 'https://login.microsoftonline.com/' } }
        @($run.Document.result.changed) | Should -Be @('STS_URL')
        (Get-LabState).registry[$AzureMfaKey].CUSTOM | Should -Be 'kept'
        (Get-LabState).registry[$AzureMfaKey].STS_URL | Should -Be 'https://login.microsoftonline.com/'
    }

    It 'replaces a value of the wrong registry type with a string' {
        Update-LabState { param($s) $s.registry[$AzureMfaKey].REQUIRE_USER_MATCH = 1 }
        $get = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'get'; settings = @{ REQUIRE_USER_MATCH = 'TRUE' } }
        @($get.Document.result.drift.name) | Should -Be @('REQUIRE_USER_MATCH')
        $null = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ REQUIRE_USER_MATCH = 'TRUE' } }
        (Get-LabState).registry[$AzureMfaKey].REQUIRE_USER_MATCH | Should -BeOfType [string]
    }

    It 'stores quotes, semicolons, $(...) and backticks literally' {
        $tricky = "a'b`"c; `$(Remove-Item C:\ -Recurse) ``n @{x=1} -and"
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ IP_WHITELIST = $tricky } }
        $run.ExitCode | Should -Be 0
        (Get-LabState).registry[$AzureMfaKey].IP_WHITELIST | Should -BeExactly $tricky
        (Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'get'; settings = @{ IP_WHITELIST = $tricky } }).Document.result.drift | Should -BeNullOrEmpty
    }

    It 'creates the AzureMfa key when the installer left none' {
        Update-LabState { param($s) $s.registry.Remove($AzureMfaKey) }
        (Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'get'; settings = @{ TENANT_ID = $TenantId } }).Document.result.keyExists | Should -BeFalse
        $null = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ TENANT_ID = $TenantId } }
        (Get-LabState).registry[$AzureMfaKey].TENANT_ID | Should -Be $TenantId
    }

    It 'reports an extension that is not installed and changes nothing' {
        Update-LabState { param($s) $s.registry[$AuthSrvKey] = @{ ExtensionDLLs = @('C:\other\Other.dll') } }
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = (Get-CompleteSettings) }
        $run.ExitCode | Should -Be 0
        $run.Document.result.installed | Should -BeFalse
        @($run.Document.result.missingDlls) | Should -Be @('AuthorizationDLLs', 'ExtensionDLLs')
        @($run.Document.result.changed).Count | Should -Be 0
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'fails with a structured error naming the step when the input is not base64 JSON' {
        $run = Invoke-HostScriptFile NpsExtensionSettings -InputBase64 'not base64!'
        $run.ExitCode | Should -Be 1
        $run.Document.ok | Should -BeFalse
        $run.Document.script | Should -Be 'NpsExtensionSettings'
        $run.Document.error.step | Should -Be 'decode input'
    }

    It 'fails with a structured error naming the step when the registry cannot be read' {
        Remove-Item -LiteralPath $env:NPSMFA_HOST_STATE
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'get'; settings = @{} }
        $run.ExitCode | Should -Be 1
        $run.Document.error.step | Should -Be 'read extension DLL registration'
    }
}

Describe 'NpsExtensionSettings.ps1 and the extension''s version' {
    BeforeEach { New-ArticleNpsHost }

    It 'reports the installed version, read from the authorization DLL' {
        (Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'get'; settings = @{} }).Document.result.extensionVersion | Should -Be '1.2.2893.1'
    }

    It 'refuses a thumbprint in CLIENT_CERT_IDENTIFIER on version <found>, naming the version needed, and writes nothing' -ForEach @(
        @{ found = '1.2.2216.1' }
        @{ found = '1.0.1.40' }
    ) {
        $old = $found
        Update-LabState { param($s) $s.npsExtensionVersion = $old }
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = (Get-CompleteSettings) }
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'ExtensionTooOld'
        $run.Document.error.message | Should -Match ([regex]::Escape("version $found"))
        $run.Document.error.message | Should -Match '1\.2\.2893\.1 or later'
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'refuses when the extension''s DLL cannot be found to read its version' {
        Update-LabState { param($s) $s.Remove('npsExtensionVersion') }
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = (Get-CompleteSettings) }
        $run.Document.error.code | Should -Be 'ExtensionTooOld'
        $run.Document.error.message | Should -Match 'unreadable version'
    }

    It 'accepts an older extension when CLIENT_CERT_IDENTIFIER is not a thumbprint' {
        Update-LabState { param($s) $s.npsExtensionVersion = '1.2.2216.1' }
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ STS_URL = 'https://login.microsoftonline.com/' } }
        $run.ExitCode | Should -Be 0
    }
    It 'refuses an extension below the declared minimum, naming both versions, and writes nothing' {
        Update-LabState { param($s) $s.npsExtensionVersion = '1.2.2893.1' }
        $before = [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE)
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = (Get-CompleteSettings); minimumVersion = '1.2.10000.0' }
        $run.ExitCode | Should -Be 1
        $run.Document.error.code | Should -Be 'ExtensionBelowMinimum'
        $run.Document.error.message | Should -Match 'installed here is version 1\.2\.2893\.1; the stack declares extension\.minimumVersion 1\.2\.10000\.0'
        [System.IO.File]::ReadAllText($env:NPSMFA_HOST_STATE) | Should -Be $before
    }

    It 'accepts an extension at or above the declared minimum, comparing versions as numbers' {
        Update-LabState { param($s) $s.npsExtensionVersion = '1.2.10000.0' }
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = (Get-CompleteSettings); minimumVersion = '1.2.2893.1' }
        $run.ExitCode | Should -Be 0
        $run.Document.result.extensionVersion | Should -Be '1.2.10000.0'
    }
}

Describe 'NpsExtensionSettings.ps1 and IP_WHITELIST' {
    BeforeEach { New-ArticleNpsHost }

    It 'creates IP_WHITELIST empty when it is neither declared nor present' {
        $run = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ TENANT_ID = $TenantId } }
        @($run.Document.result.createdDefaults) | Should -Be @('IP_WHITELIST')
        @($run.Document.result.changed).Count | Should -Be 0
        (Get-LabState).registry[$AzureMfaKey].IP_WHITELIST | Should -Be ''
        @((Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ TENANT_ID = $TenantId } }).Document.result.createdDefaults).Count | Should -Be 0
    }

    It 'leaves an existing IP_WHITELIST alone, and changes nothing in Get' {
        Update-LabState { param($s) $s.registry[$AzureMfaKey].IP_WHITELIST = '10.0.0.5' }
        @((Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'set'; settings = @{ TENANT_ID = $TenantId } }).Document.result.createdDefaults).Count | Should -Be 0
        (Get-LabState).registry[$AzureMfaKey].IP_WHITELIST | Should -Be '10.0.0.5'
        Update-LabState { param($s) $s.registry[$AzureMfaKey].Remove('IP_WHITELIST') }
        $null = Invoke-HostScriptFile NpsExtensionSettings @{ mode = 'get'; settings = @{} }
        (Get-LabState).registry[$AzureMfaKey].ContainsKey('IP_WHITELIST') | Should -BeFalse
    }
}
