# Tab completion of farms, aliases, roles and versions from the connected fleet (TabExpansion2,
# as the console calls it), its per-connection cache, and that it never fails.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'helpers/TestHelpers.psm1') -Force
    Import-Module (Get-RebundleModulePath) -Force

    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
    }

    # An empty current folder: when a completer offers nothing, PowerShell falls back to file names.
    Push-Location (New-Item -ItemType Directory (Join-Path $TestDrive 'empty')).FullName
}

AfterAll {
    Pop-Location
    Remove-Item Env:REBUNDLE_COMPLETION_CACHE_SECONDS -ErrorAction SilentlyContinue
}

Describe 'Without a connection' {
    BeforeAll { Disconnect-TtmFleet }

    It 'offers nothing and shows no error' {
        $Error.Clear()
        Get-Completion 'Get-TtmServer -Farm ' | Should -BeNullOrEmpty
        Get-Completion 'Set-TtmFarmRole -Farm Dev -Role Rails' | Should -BeNullOrEmpty
        $Error.Count | Should -Be 0
    }
}

Describe 'On a connected Sandbox' {
    BeforeAll { $script:sandbox = New-TestSandbox }

    It 'completes farm names for -Farm' {
        Get-Completion 'Get-TtmServer -Farm ' | Should -Be @('Dev', 'Production', 'Rebundle-Staging')
        Get-Completion 'Invoke-TtmRecycle -Farm reb' | Should -Be 'Rebundle-Staging'
        Get-Completion 'Get-TtmFarm -Name P' | Should -Be 'Production'
        Get-Completion 'Invoke-TtmRebundle -TestFarm D' | Should -Be 'Dev'
    }

    It 'completes -Farm on every cmdlet that has one, found by convention' {
        $withFarm = Get-Command -Module Rebundle -CommandType Cmdlet | Where-Object { $_.Parameters.ContainsKey('Farm') }
        $withFarm.Count | Should -BeGreaterOrEqual 5
        foreach ($command in $withFarm) {
            Get-Completion "$($command.Name) -Farm Rebundle-S" | Should -Be 'Rebundle-Staging' -Because "$($command.Name) -Farm names a farm"
        }
    }

    It 'completes farm-role aliases of the farm already typed' {
        Get-Completion 'Get-TtmFarmRole -Farm Dev -Alias S' | Should -Be @('Sidekiq', 'SystemWatcher')
        Get-Completion 'Get-TtmFarmRole -Farm Rebundle-Staging -Alias T' | Should -Be 'TTM-Base'
        Get-Completion 'Get-TtmFarmRole -Farm Dev -Alias T' | Should -BeNullOrEmpty
    }

    It 'treats -Role as an alias where the cmdlet says so (Get-TtmServer -Role)' {
        Get-Completion 'Get-TtmServer -Farm Rebundle-Staging -Role T' | Should -Be 'TTM-Base'
        Get-Completion 'Invoke-TtmRecycle -Farm Dev -Role Rep' | Should -Be 'Reports'
    }

    It 'completes Invoke-TtmRebundle -Role with aliases of the staging farm' {
        Get-Completion 'Invoke-TtmRebundle -Role S' | Should -Be @('Sidekiq', 'SystemWatcher')
        Get-Completion 'Invoke-TtmRebundle -StagingFarm Dev -Role R' | Should -Be @('RailsAppServer', 'Reports')
    }

    It 'completes role names, production first and then versions newest first' {
        Get-Completion 'Set-TtmFarmRole -Farm Dev -Role Rails' | Should -Be @('RailsAppServer', 'RailsAppServer-1-6')
        Get-Completion 'Get-TtmRole -Name Sid' | Should -Be @('Sidekiq', 'Sidekiq-1-6')
        Get-Completion 'Get-TtmNextRoleVersion -Role TTM' | Should -Be 'TTM-Base'
    }

    It 'completes the next minor and major version of the role typed for -Version' {
        Get-Completion 'New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq -Version ' | Should -Be @('1-7', '2-0')
        Get-Completion 'New-TtmRoleSnapshot -Farm Rebundle-Staging -Role TTM-Base -Version ' | Should -Be '1-0' -Because 'a role without versions starts at 1-0'
    }

    It 'quotes nothing that needs no quotes and keeps the user''s quote style out of the match' {
        Get-Completion "Get-TtmServer -Farm 'Dev" | Should -Be 'Dev'
    }
}

Describe 'The cache' {
    BeforeEach {
        Remove-Item Env:REBUNDLE_COMPLETION_CACHE_SECONDS -ErrorAction SilentlyContinue
        $script:sandbox = New-TestSandbox
    }

    It 'answers from the cache within its lifetime, then reads the fleet again' {
        Get-Completion 'Set-TtmFarmRole -Farm Dev -Role Sidekiq-' | Should -Be 'Sidekiq-1-6'
        New-TtmRoleSnapshot -Farm Rebundle-Staging -Role Sidekiq | Out-Null

        Get-Completion 'Set-TtmFarmRole -Farm Dev -Role Sidekiq-' | Should -Be 'Sidekiq-1-6' -Because 'the cache is 30 s old at most'
        $env:REBUNDLE_COMPLETION_CACHE_SECONDS = '0'
        Get-Completion 'Set-TtmFarmRole -Farm Dev -Role Sidekiq-' | Should -Be @('Sidekiq-1-7', 'Sidekiq-1-6')
    }

    It 'starts afresh with a new connection' {
        Get-Completion 'Get-TtmNextRoleVersion -Role Reports-' | Should -Be 'Reports-1-6'
        New-TtmRoleSnapshot -Farm Dev -Role Reports | Out-Null
        Connect-TtmFleet -Sandbox -Path $sandbox.Path | Out-Null
        Get-Completion 'Get-TtmNextRoleVersion -Role Reports-' | Should -Be @('Reports-1-7', 'Reports-1-6')
    }

    It 'offers nothing, and does not throw, when the fleet cannot be read' {
        $env:REBUNDLE_COMPLETION_CACHE_SECONDS = '0'
        Set-Content -Path $sandbox.StateFile -Value '{ this is not json'
        { [Rebundle.PowerShell.Completion.FleetCompleter]::Complete('Get-TtmServer', 'Farm', '', @{}) } | Should -Not -Throw
        @([Rebundle.PowerShell.Completion.FleetCompleter]::Complete('Get-TtmServer', 'Farm', '', @{})).Count | Should -Be 0
        Get-Completion 'Get-TtmServer -Farm ' | Should -BeNullOrEmpty
    }
}
