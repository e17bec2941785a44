# The targets run Windows PowerShell 5.1: the host scripts must not use syntax or parameters it lacks.
# Checked on the PowerShell 7 AST, so a string or comment that merely mentions `??` is not flagged.
BeforeAll {
    function Find-Ps51Problem {
        param([string] $Text)
        $tokens = $null
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$tokens, [ref]$errors)
        $problems = @($errors | ForEach-Object { "parse error: $($_.Message)" })
        $found = $ast.FindAll({ param($node) $true }, $true)
        foreach ($node in $found) {
            $line = $node.Extent.StartLineNumber
            switch ($node.GetType().Name) {
                'TernaryExpressionAst' { $problems += "line ${line}: ternary operator" }
                'PipelineChainAst' { $problems += "line ${line}: && / || pipeline chain" }
                'BinaryExpressionAst' { if ($node.Operator -eq 'QuestionQuestion') { $problems += "line ${line}: ?? operator" } }
                'AssignmentStatementAst' { if ($node.Operator -eq 'QuestionQuestionEquals') { $problems += "line ${line}: ??= operator" } }
                'MemberExpressionAst' { if ($node.NullConditional) { $problems += "line ${line}: ?. member access" } }
                'InvokeMemberExpressionAst' { if ($node.NullConditional) { $problems += "line ${line}: ?. member access" } }
                'IndexExpressionAst' { if ($node.NullConditional) { $problems += "line ${line}: ?[] index" } }
                'CommandParameterAst' { if ($node.ParameterName -eq 'AsHashtable') { $problems += "line ${line}: -AsHashtable" } }
                'CommandAst' {
                    $name = $node.GetCommandName()
                    # Windows PowerShell 5.1 may not offer TLS 1.2 (Prelude.ps1 Enable-Tls12): a web request needs it first.
                    if ($name -in 'Invoke-WebRequest', 'Invoke-RestMethod', 'iwr', 'irm') {
                        $scope = $node.Parent
                        while ($null -ne $scope -and $scope -isnot [System.Management.Automation.Language.FunctionDefinitionAst]) { $scope = $scope.Parent }
                        if ($null -eq $scope) { $scope = $ast }
                        $start = $node.Extent.StartOffset
                        $enabled = @($scope.FindAll({ param($inner) $inner -is [System.Management.Automation.Language.CommandAst] -and $inner.GetCommandName() -eq 'Enable-Tls12' -and $inner.Extent.StartOffset -lt $start }, $true))
                        if ($enabled.Count -eq 0) { $problems += "line ${line}: $name without Enable-Tls12 before it" }
                    }
                    $parallel = @($node.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] -and $_.ParameterName -like 'Parallel' })
                    if ($name -in 'ForEach-Object', '%', 'foreach' -and $parallel.Count -gt 0) { $problems += "line ${line}: ForEach-Object -Parallel" }
                }
            }
        }
        $problems
    }
    $script:Scripts = @(Get-ChildItem -Path (Join-Path $PSScriptRoot '../../remote/scripts') -Filter '*.ps1')
}

Describe 'Windows PowerShell 5.1 syntax guard' {
    It 'finds host scripts to check' {
        $Scripts.Count | Should -BeGreaterOrEqual 5
    }

    It 'finds nothing 5.1 lacks in <_>' -ForEach @(Get-ChildItem -Path (Join-Path $PSScriptRoot '../../remote/scripts') -Filter '*.ps1' | ForEach-Object Name) {
        $text = [System.IO.File]::ReadAllText((Join-Path $PSScriptRoot "../../remote/scripts/$_"))
        Find-Ps51Problem $text | Should -BeNullOrEmpty
    }

    It 'flags <name>' -ForEach @(
        @{ name = 'a ternary'; text = '$a = $true ? 1 : 2'; expected = 'ternary operator' }
        @{ name = '??'; text = '$a = $b ?? 3'; expected = '?? operator' }
        @{ name = '??='; text = '$a ??= 3'; expected = '??= operator' }
        @{ name = '?.'; text = '${a}?.Length'; expected = '?. member access' }
        @{ name = '&&'; text = 'Get-Item x && Get-Item y'; expected = '&& / || pipeline chain' }
        @{ name = '||'; text = 'Get-Item x || Get-Item y'; expected = '&& / || pipeline chain' }
        @{ name = '-AsHashtable'; text = '$x = $j | ConvertFrom-Json -AsHashtable'; expected = '-AsHashtable' }
        @{ name = 'ForEach-Object -Parallel'; text = '1..3 | ForEach-Object -Parallel { $_ }'; expected = 'ForEach-Object -Parallel' }
        @{ name = 'a web request before TLS 1.2'; text = "function f { Invoke-WebRequest -Uri https://x -UseBasicParsing; Enable-Tls12 }"; expected = 'Invoke-WebRequest without Enable-Tls12 before it' }
    ) {
        @(Find-Ps51Problem $text) -join '|' | Should -Match ([regex]::Escape($expected))
    }

    It 'does not flag a web request after Enable-Tls12' {
        Find-Ps51Problem "function f { Enable-Tls12; Invoke-WebRequest -Uri https://x -UseBasicParsing }" | Should -BeNullOrEmpty
    }

    It 'does not flag the operators inside strings and comments' {
        Find-Ps51Problem "# a ?? b && c`n`$x = 'x ?? y ? 1 : 2 && -AsHashtable'" | Should -BeNullOrEmpty
    }
}
