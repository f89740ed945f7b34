# Help: every exported cmdlet answers Get-Help with a synopsis, a description, described
# parameters and runnable examples; about_Rebundle exists; the markdown compiler refuses stale help.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    $script:cmdlets = @((Import-Module (Get-RebundleModulePath) -Force -PassThru).ExportedCmdlets.Keys | Sort-Object |
        ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force
    $script:common = [Management.Automation.Cmdlet]::CommonParameters + [Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Get-Help <Name>' -ForEach $cmdlets {
    BeforeAll { $script:help = Get-Help $Name -Full }

    It 'has a synopsis written for it' {
        # Without help, PowerShell makes the synopsis up from the syntax.
        "$($help.Synopsis)".Trim() | Should -Not -BeNullOrEmpty
        "$($help.Synopsis)" | Should -Not -Match ('^\s*' + [regex]::Escape($Name) + '\s')
    }

    It 'has a description' {
        ($help.Description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with code and an explanation' {
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($example in $help.Examples.Example) {
            $example.Code | Should -Not -BeNullOrEmpty
            ($example.Remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "$($example.Title) needs a sentence saying what it does"
        }
    }

    It 'describes every parameter' {
        $parameters = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }
        foreach ($parameter in $parameters) {
            $entry = $help.Parameters.Parameter | Where-Object Name -eq $parameter
            $entry | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs a '### -$parameter' section in docs/help/$Name.md"
            ($entry.Description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs a description"
        }
    }

    It 'opens its own page with -Online: docs/help/<Name>.md of the repository' {
        # Get-Help -Online opens the help's first related link that has a URI, else the cmdlet's HelpUri.
        $uri = @($help.relatedLinks.navigationLink | Where-Object { $_.uri } | Select-Object -First 1).uri
        if (-not $uri) { $uri = (Get-Command $Name).HelpUri }
        $root = (Import-PowerShellDataFile (Join-Path (Get-RepoRoot) 'module/Rebundle.psd1')).PrivateData.PSData.ProjectUri.TrimEnd('/')
        $uri | Should -Be "$root/blob/main/docs/help/$Name.md"
        Join-Path (Get-RepoRoot) "docs/help/$Name.md" | Should -Exist -Because 'the page it opens is the one the help is built from'
    }
}

Describe 'The help examples' {
    BeforeAll {
        Import-Module (Join-Path (Get-RepoRoot) 'build/HelpMarkdown.psm1') -Force
        # The examples as written in docs/help; those marked no-run need a real cloud.
        $script:examples = @(foreach ($command in Get-Command -Module Rebundle -CommandType Cmdlet | Sort-Object Name) {
            $file = Join-Path (Get-RepoRoot) "docs/help/$($command.Name).md"
            if (-not (Test-Path $file)) { continue }
            foreach ($example in (Read-CmdletHelpMarkdown $file).Examples) {
                [pscustomobject]@{ Command = $command.Name; Title = $example.Title; Code = $example.Code; NoRun = $example.NoRun }
            }
        })
        $runnable = Join-Path $TestDrive 'examples.json'
        $examples | Where-Object { -not $_.NoRun } | ConvertTo-Json -Depth 3 | Set-Content $runnable

        # Each cmdlet's examples run in order, in one child process, with a home folder of their
        # own (examples that connect without -Path get a fresh default Sandbox there, fast).
        # Dot-sourced, so a later example sees an earlier one's variables, as in a console; the
        # runner's own variables have names no example would use.
        # The cmdlets' groups share nothing, so a few children share them out: each takes the next
        # group nobody has claimed (a claim is a file created once), until none is left. The
        # examples mostly wait for the Sandbox's poll rounds, so the children overlap well even on
        # a machine of two cores.
        # After each example the Sandbox's simulated delays go back to zero: an example that shows
        # real-looking boots (Set-TtmSandbox -BootDelay 0:0:20 -BootSpread 0:1:0) would otherwise
        # make the next one wait minutes for boots, which is not what that one shows. Faults
        # (-FailBoot, -NeverBoot, -FailImage) and everything else stay as the examples leave them.
        $homes = Join-Path $TestDrive 'homes'
        $claims = Join-Path $TestDrive 'claims'
        New-Item -ItemType Directory $claims | Out-Null
        $sandboxHome = if ($IsWindows) { 'USERPROFILE' } else { 'HOME' }
        $runner = @"
`$ErrorActionPreference = 'Stop'
foreach (`$__group in Get-Content '$runnable' -Raw | ConvertFrom-Json | Group-Object Command) {
    try { [IO.File]::Open((Join-Path '$claims' `$__group.Name), 'CreateNew').Dispose() }
    catch [IO.IOException] { continue } # another child runs this cmdlet's examples
    Disconnect-TtmFleet
    `$env:$sandboxHome = Join-Path '$homes' `$__group.Name
    `$env:REBUNDLE_AUDIT_LOG = Join-Path `$env:$sandboxHome 'audit.log'
    New-Item -ItemType Directory `$env:$sandboxHome | Out-Null
    Set-Location `$env:$sandboxHome # examples may write files in the current folder
    Connect-TtmFleet -Sandbox | Out-Null
    Set-TtmSandbox -BootDelay 0:0:0 -ImageDelay 0:0:0 -RespawnDelay 0:0:0
    Disconnect-TtmFleet
    & { # a scope per cmdlet: one cmdlet's examples never see another's variables
        foreach (`$__example in `$__group.Group) {
            try {
                . ([scriptblock]::Create(`$__example.Code)) *>&1 | Out-Null # dot: later examples see earlier variables, as in a console
                "EXAMPLE|`$(`$__example.Command)|`$(`$__example.Title)|ok"
            }
            catch { "EXAMPLE|`$(`$__example.Command)|`$(`$__example.Title)|`$(`$_.FullyQualifiedErrorId): `$(`$_.Exception.Message)" }
            try { `$__fleet = Get-TtmFleet } catch { `$__fleet = `$null } # an example may end disconnected
            if (`$__fleet.Backend -eq 'Sandbox') {
                Set-TtmSandbox -BootDelay 0:0:0 -BootSpread 0:0:0 -ImageDelay 0:0:0 -RespawnDelay 0:0:0 -WhatIf:`$false -Confirm:`$false
            }
        }
    }
}
"@
        $children = 1..4 | ForEach-Object { Start-ChildRebundleJob -Script $runner }
        $script:results = @($children | Receive-ChildRebundleJob -TimeoutSeconds 600 | Where-Object { $_ -like 'EXAMPLE|*' } | ForEach-Object {
            $name, $title, $outcome = ($_ -split '\|', 4)[1..3]
            [pscustomobject]@{ Command = $name; Title = $title; Outcome = $outcome }
        })
    }

    It 'every cmdlet has at least two examples that run as written (SSH cmdlets: where they can without a server)' {
        # The SSH cmdlets work on a real server over SSH, which the Sandbox's servers are not;
        # their examples run here only where they need no connection (-WhatIf).
        # Those are the remote cmdlets that take servers from the pipeline (Invoke-TtmRebundle, remote too, runs on the Sandbox).
        $needSsh = { param($c) $c.Parameters.ContainsKey('InputObject') -and $c.ImplementingType.IsSubclassOf($c.ImplementingType.Assembly.GetType('Rebundle.PowerShell.Remote.TtmRemoteCmdlet')) }
        # Bringing an existing AWS fleet in has nothing to bring in on the Sandbox (its fleet is Rebundle's
        # already): those examples are no-run here, and AwsAutoScaling.Tests.ps1 runs the same commands on the EC2 endpoint.
        $awsOnly = 'New-TtmRole', 'New-TtmFarmRole'
        foreach ($command in Get-Command -Module Rebundle -CommandType Cmdlet | Where-Object { -not (& $needSsh $_) -and $_.Name -notin $awsOnly }) {
            @($results | Where-Object Command -eq $command.Name).Count | Should -BeGreaterOrEqual 2 -Because "$($command.Name) needs two runnable examples in docs/help/$($command.Name).md"
        }
    }

    It 'every example runs without an error' {
        $failed = $results | Where-Object Outcome -ne 'ok' | ForEach-Object { "$($_.Command) '$($_.Title)': $($_.Outcome)" }
        $failed | Should -BeNullOrEmpty
    }
}

Describe 'about_Rebundle' {
    It 'answers Get-Help about_Rebundle with the concepts, backends, configuration and runbook' {
        $text = Get-Help about_Rebundle | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        foreach ($section in 'CONCEPTS', 'THE RUNBOOK AS COMMANDS', 'BACKENDS', 'CONFIGURATION') { $text | Should -Match $section }
        $text | Should -Match 'Invoke-TtmRecycle -Farm Production, Dev'
    }
}

Describe 'The help compiler' {
    BeforeAll { Import-Module (Join-Path (Get-RepoRoot) 'build/HelpMarkdown.psm1') -Force }

    It 'refuses markdown that describes a parameter the cmdlet does not have' {
        $source = Join-Path $TestDrive 'stale'
        New-Item -ItemType Directory $source | Out-Null
        "# Get-TtmFarm`n`n## SYNOPSIS`nLists farms.`n`n## PARAMETERS`n`n### -Colour`nNo such thing.`n" | Set-Content (Join-Path $source 'Get-TtmFarm.md')
        { ConvertTo-MamlHelp -Command (Get-Command Get-TtmFarm) -SourceFolder $source -OutFile (Join-Path $TestDrive 'stale.xml') } |
            Should -Throw '*-Colour*Get-TtmFarm does not have*'
    }

    It 'reads sections, parameters, examples with code and links' {
        $help = Read-CmdletHelpMarkdown (Join-Path (Get-RepoRoot) 'docs/help/Get-TtmFarm.md')
        $help.Name | Should -Be 'Get-TtmFarm'
        $help.Parameters.Keys | Should -Be @('Name')
        $help.Examples[0].Code | Should -Match '^Connect-TtmFleet -Sandbox'
        $help.Links.Text | Should -Contain 'about_Rebundle'
    }
}
