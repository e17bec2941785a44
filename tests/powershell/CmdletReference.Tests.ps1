# The shim's cmdlets are Windows' cmdlets: the host scripts call only parameters Microsoft's reference documents
# (lab/windows/cmdletReference.json), and the shim accepts no parameter the real cmdlet lacks, so a script that
# passes here cannot fail on Windows for a parameter name.
BeforeAll {
    . (Join-Path $PSScriptRoot 'HostScriptSupport.ps1')
    $script:Reference = (Get-Content -Raw -Path (Join-Path $RepoRoot 'lab/windows/cmdletReference.json') | ConvertFrom-Json -AsHashtable).cmdlets
    $script:CommonParameters = @([System.Management.Automation.PSCmdlet]::CommonParameters) + @([System.Management.Automation.PSCmdlet]::OptionalCommonParameters)
    # Module-internal helpers the shim exports for tests, not Windows cmdlets.
    $script:ShimHelpers = @('New-ShimCertificateEntry')

    # Each call of a referenced cmdlet in a script: its name and the parameter names it spells out.
    function Get-ScriptCmdletCall {
        param([string] $Path)
        $tokens = $null
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
        foreach ($command in $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true)) {
            $name = $command.GetCommandName()
            if (-not $name -or -not $script:Reference.ContainsKey($name)) { continue }
            foreach ($element in $command.CommandElements) {
                if ($element -is [System.Management.Automation.Language.CommandParameterAst]) {
                    [pscustomobject]@{ Script = (Split-Path -Leaf $Path); Line = $element.Extent.StartLineNumber; Cmdlet = $name; Parameter = $element.ParameterName }
                }
            }
        }
    }
}

Describe 'The cmdlet reference table' {
    It 'records the source (repository, path, commit) of every entry' {
        foreach ($name in $Reference.Keys) {
            $source = $Reference[$name].source
            $source.repo | Should -Match '^MicrosoftDocs/' -Because $name
            $source.path | Should -Match "/$name\.md$" -Because $name
            $source.commit | Should -Match '^[0-9a-f]{40}$' -Because $name
            @($Reference[$name].parameters).Count | Should -BeGreaterThan 0 -Because $name
        }
    }
}

Describe 'The host scripts against the reference' {
    It 'call only documented parameters, spelled out in full' {
        $calls = @(Get-ChildItem -Path $ScriptsDir -Filter '*.ps1' | ForEach-Object { Get-ScriptCmdletCall $_.FullName })
        $calls.Count | Should -BeGreaterThan 10
        $unknown = @($calls | Where-Object { $Reference[$_.Cmdlet].parameters -notcontains $_.Parameter -and $CommonParameters -notcontains $_.Parameter } |
                ForEach-Object { "$($_.Script):$($_.Line) $($_.Cmdlet) -$($_.Parameter)" })
        $unknown | Should -BeNullOrEmpty
    }

    It 'would flag a parameter the real cmdlet lacks' {
        $file = Join-Path $TestDrive 'Bad.ps1'
        Set-Content -Path $file -Value 'Get-RemoteAccessRadius -ServerName nps01 | Out-Null'
        $call = @(Get-ScriptCmdletCall $file)
        $Reference[$call[0].Cmdlet].parameters | Should -Not -Contain $call[0].Parameter
    }
}

Describe 'The shim against the reference' {
    BeforeAll {
        $script:Shim = Import-Module $ShimPath -Force -PassThru -Scope Local
    }

    It 'stands in only for referenced cmdlets' {
        $exported = @($Shim.ExportedFunctions.Keys | Where-Object { $ShimHelpers -notcontains $_ })
        @($exported | Where-Object { -not $Reference.ContainsKey($_) }) | Should -BeNullOrEmpty
    }

    It 'accepts no parameter of <_> that Windows lacks' -ForEach @(
        (Import-Module (Join-Path $PSScriptRoot '../../lab/windows/WindowsShim.psm1') -Force -PassThru -Scope Local).ExportedFunctions.Keys |
            Where-Object { $_ -notin 'New-ShimCertificateEntry' }
    ) {
        $parameters = @($Shim.ExportedFunctions[$_].Parameters.Keys | Where-Object { $CommonParameters -notcontains $_ })
        $documented = $Reference[$_].parameters
        @($parameters | Where-Object { $documented -notcontains $_ }) | Should -BeNullOrEmpty
    }

    It 'returns Get-RemoteAccessRadius objects with exactly the RemoteAccessRadiusServer properties' {
        New-ArticleVpnHost -NpsServers @('nps01.lab.test')
        $documented = $Reference['Get-RemoteAccessRadius'].outputProperties
        $server = @(& $Shim { Get-RemoteAccessRadius })[0]
        @($server.PSObject.Properties.Name | Sort-Object) | Should -Be @($documented.properties | Sort-Object)
        @($server.ServerPurpose.PSObject.Properties.Name | Sort-Object) | Should -Be @($documented.embedded.ServerPurpose.properties | Sort-Object)
    }
}
